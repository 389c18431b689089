"""A deterministic O*NET occupation -> ESCO skills crosswalk (no official one exists).

1. **Title match.** Every O*NET occupation (title and its Alternate Titles) is compared with
   every ESCO occupation (preferred label and altLabels) by TF-IDF cosine over content-word
   tokens, plus a bonus for exact title matches. The ESCO occupations scoring at least
   ``min_score`` (at most ``max_matches`` of them) lend their essential and optional skills,
   weighted by the match score.
2. **Fallback.** An occupation with no title match, or with fewer than ``min_skills`` skills,
   is matched against ESCO skill labels instead: TF-IDF cosine between the O*NET technology
   examples and task statements and each skill's preferred and alternative labels.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from features.domain import RelationType
from features.taxonomy import ReferenceData
from training.simulation.text import normalize_title, tokens


class MatchMethod(StrEnum):
    TITLE = "title"
    FALLBACK = "fallback"
    UNMAPPED = "unmapped"


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
    esco_matches: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    method: dict[str, MatchMethod] = field(default_factory=dict)

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


def _core_title(title: str) -> str:
    """Drop O*NET's exclusion clauses: ``Molders, Except Metal`` -> ``Molders``."""
    return re.split(r",?\s+Except\s+", title, maxsplit=1)[0]


def match_titles(
    reference: ReferenceData, codes: list[str], min_score: float, max_matches: int
) -> dict[str, list[tuple[str, float]]]:
    """O*NET code -> [(ESCO occupation URI, score)], best first, scores >= ``min_score``."""
    titles = {o.code: o.title for o in reference.onet_occupations}
    alt_titles: dict[str, list[str]] = defaultdict(list)
    for alt in reference.onet_alt_titles:
        alt_titles[alt.code].append(alt.title)
    esco = sorted(reference.occupations, key=lambda o: o.uri)
    by_name: dict[str, set[int]] = defaultdict(set)
    for j, occ in enumerate(esco):
        for label in (occ.label, *occ.alt_labels):
            by_name[normalize_title(label)].add(j)

    onet_docs = [_document(_core_title(titles[c]), alt_titles[c], 3) for c in codes]
    esco_docs = [_document(o.label, o.alt_labels, 3) for o in esco]
    cosine = _vectorize(onet_docs, esco_docs)

    result: dict[str, list[tuple[str, float]]] = {}
    for i, code in enumerate(codes):
        bonus = np.zeros(len(esco))
        for j in by_name.get(normalize_title(_core_title(titles[code])), ()):
            bonus[j] += 0.5
        for alternative in alt_titles[code]:
            for j in by_name.get(normalize_title(alternative), ()):
                bonus[j] += 0.1
        score = cosine[i] + np.minimum(bonus, 0.8)
        order = np.argsort(-score, kind="stable")[:max_matches]
        result[code] = [(esco[j].uri, float(score[j])) for j in order if score[j] >= min_score]
    return result


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
    min_score: float = 0.35,
    max_matches: int = 3,
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
    matches = match_titles(reference, codes, min_score, max_matches)
    crosswalk = Crosswalk(esco_matches=matches)
    need_fallback: list[str] = []
    for code in codes:
        links = _skills_from_matches(matches[code], relations)[:max_skills]
        crosswalk.skills[code] = links
        crosswalk.method[code] = MatchMethod.TITLE if links else MatchMethod.UNMAPPED
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
