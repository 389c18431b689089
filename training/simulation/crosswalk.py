"""A deterministic O*NET occupation -> ESCO skills crosswalk (no official one exists).

1. **Occupation match by content** (``match_occupations``, docs/crosswalk.md). Each O*NET
   occupation is compared with every ESCO occupation on two signals:

   - *title*: TF-IDF cosine of the O*NET title and Alternate Titles against the ESCO preferred
     and alternative labels, plus a bonus for exact label matches (``title_scores``);
   - *content*: TF-IDF cosine of the O*NET title, description and task statements against the
     ESCO label, description and the labels of its essential skills.

   The score is ``min(title, TITLE_CAP) * sqrt(content)``: a title match counts only as far as
   the two occupations do the same work, so a word-sense match (Information Security Analyst ->
   *securities analyst*) scores low. Candidates outside the ISCO major groups compatible with
   the O*NET SOC major group (``SOC_ISCO_MAJOR``) are scored at ``ISCO_PENALTY`` times; those
   named by an exclusion clause ("…, Except Gambling" excludes every ESCO occupation whose label
   says *gambling*) are never matched. The best candidate is the match when its score reaches
   ``min_score`` (params.yaml ``simulate.crosswalk_min_score``); otherwise the occupation has no
   ESCO match: no match beats a wrong one. An HR admin's override (``overrides``, see
   ``training/simulation/crosswalk_file.py``) replaces the matcher's answer, ``none`` included.
2. **Skills.** A matched occupation lends its ESCO essential (weight 1.0) and optional (0.5)
   skills. An occupation with no match, or with fewer than ``min_skills`` skills, is matched
   against ESCO skill labels instead: TF-IDF cosine between the O*NET technology examples and
   task statements and each skill's preferred and alternative labels.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from features.domain import EscoOccupation, RelationType
from features.taxonomy import ReferenceData
from training.simulation.text import normalize_title, tokens

TITLE_CAP = 0.8
"""Title similarity above this adds nothing: past it, only the content decides."""
ISCO_PENALTY = 0.5
"""Score factor of an ESCO occupation outside the ISCO major groups of the O*NET SOC group."""
SOC_ISCO_MAJOR: dict[str, str] = {
    "11": "126", "13": "234", "15": "23", "17": "23", "19": "23", "21": "23", "23": "234",
    "25": "235", "27": "2357", "29": "23", "31": "35", "33": "035", "35": "359",
    "37": "35679", "39": "23459", "41": "23459", "43": "3459", "45": "3679", "47": "3789",
    "49": "3789", "51": "3789", "53": "34589", "55": "0",
}
"""SOC 2018 major group (first two digits of an O*NET-SOC code) -> the ISCO-08 major groups
(first digit) its occupations fall in: a coarse, hand-written prior (managers are ISCO 1 or,
for farm managers, 6; production workers are 3, 7, 8 or 9; ...), documented in
docs/crosswalk.md."""
US_TO_UK = {"tire": "tyre", "tires": "tyres", "color": "colour", "center": "centre",
            "labor": "labour", "aluminum": "aluminium", "molder": "moulder",
            "molders": "moulders", "mold": "mould", "molding": "moulding",
            "jewelry": "jewellery", "pediatric": "paediatric", "theater": "theatre"}
"""O*NET writes US English, ESCO British English."""


class MatchMethod(StrEnum):
    CONTENT = "content"
    OVERRIDE = "override"
    FALLBACK = "fallback"
    UNMAPPED = "unmapped"


@dataclass(frozen=True, slots=True)
class OccupationMatch:
    """The ESCO occupation an O*NET occupation is mapped to (``None``: no match), and why."""

    code: str
    esco_uri: str | None
    score: float
    title_score: float
    content_score: float
    method: MatchMethod
    """``content`` (the matcher), ``override`` (an HR admin), ``unmapped`` (no match)."""


@dataclass(frozen=True, slots=True)
class SkillLink:
    """One skill an O*NET occupation needs, with a weight in (0, 1]."""

    skill_uri: str
    weight: float
    essential: bool


@dataclass
class Crosswalk:
    """The mapping, per O*NET code, and how each code was mapped."""

    skills: dict[str, list[SkillLink]] = field(default_factory=dict)
    matches: dict[str, OccupationMatch] = field(default_factory=dict)
    method: dict[str, MatchMethod] = field(default_factory=dict)

    @property
    def esco_matches(self) -> dict[str, list[tuple[str, float]]]:
        """O*NET code -> [(ESCO occupation URI, score)]: one pair, or none when unmatched."""
        return {code: ([(m.esco_uri, m.score)] if m.esco_uri else [])
                for code, m in self.matches.items()}

    def stats(self) -> dict[str, int]:
        counts = {m.value: 0 for m in MatchMethod}
        for method in self.method.values():
            counts[method.value] += 1
        counts["occupations"] = len(self.method)
        sizes = [len(v) for v in self.skills.values()]
        counts["median_skills"] = int(np.median(sizes)) if sizes else 0
        return counts


def _vectorize(docs_a: list[list[str]], docs_b: list[list[str]]) -> np.ndarray:
    """Cosine similarity of two lists of token lists (TF-IDF fitted on both)."""
    vectorizer = TfidfVectorizer(analyzer=lambda doc: doc, sublinear_tf=True)
    matrix = vectorizer.fit_transform([*docs_a, *docs_b])
    a, b = matrix[: len(docs_a)], matrix[len(docs_a):]
    product: sparse.csr_matrix = a @ b.T
    return np.asarray(product.todense())


def _document(title: str, alternatives: Sequence[str], repeat: int) -> list[str]:
    """Tokens of a title (repeated, to weigh more) and of its alternative titles."""
    return tokens(title) * repeat + [t for alt in alternatives for t in tokens(alt)]


def british(text: str) -> str:
    """US spellings O*NET uses -> the British ones of ESCO (``Tire`` -> ``tyre``)."""
    return re.sub(r"[A-Za-z]+", lambda m: US_TO_UK.get(m.group(0).lower(), m.group(0)), text)


def _core_title(title: str) -> str:
    """Drop O*NET's exclusion clauses: ``Molders, Except Metal`` -> ``Molders``."""
    return re.split(r",?\s+Except\s+", title, maxsplit=1)[0]


def excluded_words(title: str) -> set[str]:
    """Content words of a title's exclusion clause that its core does not use:
    ``Entertainment and Recreation Managers, Except Gambling`` -> ``{"gambling"}``."""
    parts = re.split(r",?\s+Except\s+", title, maxsplit=1)
    return set(tokens(parts[1])) - set(tokens(parts[0])) if len(parts) == 2 else set()


def _esco(reference: ReferenceData) -> list[EscoOccupation]:
    return sorted(reference.occupations, key=lambda o: o.uri)


def title_scores(reference: ReferenceData, codes: Sequence[str]) -> np.ndarray:
    """codes x ESCO occupations (URI order): title/label TF-IDF cosine plus exact-label bonus
    (+0.5 for the core title, +0.1 per alternate title, at most +0.8)."""
    titles = {o.code: british(o.title) for o in reference.onet_occupations}
    alt_titles: dict[str, list[str]] = defaultdict(list)
    for alt in reference.onet_alt_titles:
        alt_titles[alt.code].append(british(alt.title))
    esco = _esco(reference)
    by_name: dict[str, set[int]] = defaultdict(set)
    for j, occ in enumerate(esco):
        for label in (occ.label, *occ.alt_labels):
            by_name[normalize_title(label)].add(j)
    onet_docs = [_document(_core_title(titles[c]), alt_titles[c], 3) for c in codes]
    esco_docs = [_document(o.label, o.alt_labels, 3) for o in esco]
    score = _vectorize(onet_docs, esco_docs)
    for i, code in enumerate(codes):
        bonus = np.zeros(len(esco))
        for j in by_name.get(normalize_title(_core_title(titles[code])), ()):
            bonus[j] += 0.5
        for alternative in alt_titles[code]:
            for j in by_name.get(normalize_title(alternative), ()):
                bonus[j] += 0.1
        score[i] += np.minimum(bonus, 0.8)
    return score


def content_scores(reference: ReferenceData, codes: Sequence[str]) -> np.ndarray:
    """codes x ESCO occupations: TF-IDF cosine (English stop words, words in at least two
    documents) of O*NET title + description + task statements against ESCO label + description
    + the labels of its essential skills."""
    onet = {o.code: o for o in reference.onet_occupations}
    tasks: dict[str, list[str]] = defaultdict(list)
    for task in sorted(reference.onet_tasks, key=lambda t: (t.code, t.task_id)):
        tasks[task.code].append(task.task)
    labels = {s.uri: s.label for s in reference.skills}
    essential: dict[str, list[str]] = defaultdict(list)
    for rel in reference.occupation_skills:
        if rel.relation == RelationType.ESSENTIAL and rel.skill_uri in labels:
            essential[rel.occupation_uri].append(labels[rel.skill_uri])
    esco = _esco(reference)
    onet_docs = [british(f"{onet[c].title}. {onet[c].description} " + " ".join(tasks[c]))
                 for c in codes]
    esco_docs = [f"{e.label}. {e.description} " + " ".join(sorted(essential[e.uri]))
                 for e in esco]
    vectorizer = TfidfVectorizer(sublinear_tf=True, stop_words="english",
                                 min_df=min(2, len(onet_docs) + len(esco_docs)))
    matrix = vectorizer.fit_transform([*onet_docs, *esco_docs])
    product: sparse.csr_matrix = matrix[: len(codes)] @ matrix[len(codes):].T
    return np.asarray(product.todense())


def match_occupations(reference: ReferenceData, codes: Sequence[str], min_score: float,
                      overrides: Mapping[str, str | None] | None = None,
                      ) -> dict[str, OccupationMatch]:
    """O*NET code -> its ESCO occupation by content (module docstring); deterministic."""
    codes = sorted(codes)
    esco = _esco(reference)
    overrides = overrides or {}
    known = {o.uri for o in esco}
    if not esco or not codes:
        return {c: OccupationMatch(c, None, 0.0, 0.0, 0.0, MatchMethod.UNMAPPED) for c in codes}
    title = title_scores(reference, codes)
    content = content_scores(reference, codes)
    titles = {o.code: o.title for o in reference.onet_occupations}
    label_words = [set(tokens(o.label)) for o in esco]
    major = [o.isco_group[:1] for o in esco]
    index = {o.uri: j for j, o in enumerate(esco)}
    out: dict[str, OccupationMatch] = {}
    for i, code in enumerate(codes):
        if code in overrides:
            uri = overrides[code]
            if uri is not None and uri not in known:
                raise ValueError(f"crosswalk override for {code}: unknown ESCO occupation {uri}")
            j = index[uri] if uri is not None else None
            out[code] = OccupationMatch(
                code, uri, 1.0 if uri else 0.0,
                round(float(title[i, j]), 4) if j is not None else 0.0,
                round(float(content[i, j]), 4) if j is not None else 0.0, MatchMethod.OVERRIDE)
            continue
        score = np.minimum(title[i], TITLE_CAP) * np.sqrt(np.maximum(content[i], 0.0))
        allowed = SOC_ISCO_MAJOR.get(code[:2])
        if allowed is not None:
            score = score * np.array([1.0 if m in allowed else ISCO_PENALTY for m in major])
        banned = excluded_words(titles.get(code, ""))
        if banned:
            score = np.where([bool(words & banned) for words in label_words], -1.0, score)
        j = int(np.argmax(score))
        best = float(score[j])
        hit = best >= min_score
        out[code] = OccupationMatch(
            code, esco[j].uri if hit else None, round(best, 4), round(float(title[i, j]), 4),
            round(float(content[i, j]), 4), MatchMethod.CONTENT if hit else MatchMethod.UNMAPPED)
    return out


def _skills_from_matches(
    matches: list[tuple[str, float]], relations: dict[str, list[tuple[str, bool]]]
) -> list[SkillLink]:
    best = matches[0][1] if matches else 1.0
    weights: dict[str, tuple[float, bool]] = {}
    for uri, score in matches:
        factor = min(1.0, score / best)
        for skill_uri, essential in relations.get(uri, ()):
            weight = factor * (1.0 if essential else 0.5)
            old_weight, old_essential = weights.get(skill_uri, (0.0, False))
            weights[skill_uri] = (max(old_weight, weight), old_essential or essential)
    return sorted(
        (SkillLink(uri, round(w, 4), e) for uri, (w, e) in weights.items()),
        key=lambda link: (-link.weight, link.skill_uri),
    )


def match_skills_by_text(
    reference: ReferenceData, codes: list[str], top_k: int
) -> dict[str, list[SkillLink]]:
    """Fallback: O*NET technology examples and tasks against ESCO skill labels."""
    texts: dict[str, list[str]] = defaultdict(list)
    for tech in reference.onet_technology:
        texts[tech.code].extend(tokens(f"{tech.example} {tech.commodity}"))
    for task in reference.onet_tasks:
        texts[task.code].extend(tokens(task.task))
    skills = sorted(reference.skills, key=lambda s: s.uri)
    skill_docs = [_document(s.label, s.alt_labels, 2) for s in skills]
    cosine = _vectorize([texts[c] for c in codes], skill_docs)
    result: dict[str, list[SkillLink]] = {}
    for i, code in enumerate(codes):
        order = np.argsort(-cosine[i], kind="stable")[:top_k]
        top = float(cosine[i][order[0]]) if len(order) else 0.0
        result[code] = [
            SkillLink(skills[j].uri, round(float(cosine[i][j]) / top, 4), rank < top_k // 2)
            for rank, j in enumerate(order) if cosine[i][j] > 0 and top > 0
        ]
    return result


def build_crosswalk(
    reference: ReferenceData,
    codes: list[str],
    *,
    min_score: float,
    overrides: Mapping[str, str | None] | None = None,
    min_skills: int = 8,
    fallback_skills: int = 20,
    max_skills: int = 40,
) -> Crosswalk:
    """Map each O*NET code in ``codes`` to weighted ESCO skills; deterministic."""
    codes = sorted(codes)
    relations: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for rel in reference.occupation_skills:
        essential = rel.relation == RelationType.ESSENTIAL
        relations[rel.occupation_uri].append((rel.skill_uri, essential))
    matches = match_occupations(reference, codes, min_score, overrides)
    crosswalk = Crosswalk(matches=matches)
    need_fallback: list[str] = []
    for code in codes:
        match = matches[code]
        pairs = [(match.esco_uri, 1.0)] if match.esco_uri else []
        links = _skills_from_matches(pairs, relations)[:max_skills]
        crosswalk.skills[code] = links
        crosswalk.method[code] = match.method if links else MatchMethod.UNMAPPED
        if len(links) < min_skills:
            need_fallback.append(code)
    fallback = (match_skills_by_text(reference, need_fallback, fallback_skills)
                if need_fallback else {})
    for code, extra in fallback.items():
        have = {link.skill_uri for link in crosswalk.skills[code]}
        merged = crosswalk.skills[code] + [link for link in extra if link.skill_uri not in have]
        crosswalk.skills[code] = merged[:max_skills]
        if crosswalk.method[code] is MatchMethod.UNMAPPED and merged:
            crosswalk.method[code] = MatchMethod.FALLBACK
    return crosswalk
