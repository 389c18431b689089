"""The skills engine: text -> ESCO skills with calibrated scores, spans and polarity.

Steps, for each text:

1. clean it (control characters out; text with too few letters yields nothing);
2. segment it into sentences, clauses and phrases with character offsets (``segment``); for a
   developmental clause ("needs to improve X") also the part after the cue ("X");
3. encode every segment (batched across texts, each distinct segment once) and look its nearest
   skill texts up in the FAISS index; a skill's similarity is the max over its texts (label,
   alternative/hidden labels, label + description), weighted by segment level;
4. add a bonus where a skill's preferred label (exact) or an alias appears verbatim;
5. re-score: a logistic calibration turns the raw score into a probability-like score in
   [0, 1]; keep skills over ``min_score`` (or the ``top_k`` best, with no threshold), each a
   different thing: a near-duplicate of a better skill is not listed (``diversity``);
6. for review text, each skill's polarity comes from the clause of its strongest evidence; a
   developmental clause never yields a strength.

Technology names (``technology``) are encoded as the ESCO skills they stand for, and no
verbatim look-alike label inside them counts.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from features.inferred_skills import (
    InferredSkill,
    MatchKind,
    Polarity,
    SkillInference,
    SourceKind,
    TextSpan,
)
from inference.skills.diversity import demote_duplicates, distinct
from inference.skills.encoder import TextEncoder
from inference.skills.index import SkillIndex
from inference.skills.matching import LabelMatch, find_labels
from inference.skills.polarity import _DEVELOPMENT, clause_polarity
from inference.skills.segment import Level, Segment, Segmentation, segment
from inference.skills.technology import Mention, TechnologyTable, overlaps, rewrite

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")


@dataclass(frozen=True)
class EngineConfig:
    """Re-scoring knobs; tuned on the TECH/HOUSE validation sets (see docs/skills.md)."""

    level_weights: dict[str, float] = field(default_factory=lambda: {
        Level.SENTENCE.value: 1.0, Level.CLAUSE.value: 1.0, Level.PHRASE.value: 1.0})
    exact_bonus: float = 0.15
    alias_bonus: float = 0.10
    single_token_alias_factor: float = 0.5
    calibration_slope: float = 12.0
    calibration_intercept: float = -8.0
    min_score: float = 0.5
    k_per_segment: int = 10
    rank_candidates: int = 64
    """``rank_all``: exact scores for this many skills per segment, pre-selected by one vector
    per skill (13.9k instead of 113k texts); 0 = exact over every text (slower)."""
    contextual: bool = False
    """Encode each sentence once and pool its phrases' contextual token vectors (faster)."""
    two_stage_search: bool = False
    """``infer`` scores skills the way ``rank_all`` does (``rank_candidates`` picked by one
    vector per skill, then exact) instead of an exact FAISS search over every text (params
    ``skills_engine.two_stage_search``)."""
    distinct_max_similarity: float = 1.0
    """Near-duplicate threshold (params ``skills_engine.distinct_max_similarity``)."""
    max_chars: int = 100_000
    max_segments: int = 4_000
    min_letter_ratio: float = 0.25
    max_control_ratio: float = 0.05

    def calibrate(self, raw: float) -> float:
        z = self.calibration_slope * raw + self.calibration_intercept
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def clean_text(text: str) -> str:
    """Drop control characters and replacement marks; keep offsets of everything else stable
    by replacing them with spaces (so spans still index the caller's text)."""
    return _CONTROL.sub(" ", text)


_ASCII_LETTER = re.compile(r"[A-Za-z]")


MATCH_MEMO = 4096
"""Texts whose label matches an engine keeps (cleared when full)."""
SEARCH_MEMO = 100_000
"""Segment texts whose nearest skills an engine keeps when not ``contextual`` (cleared when
full; about 75 MB): over 20,000 review texts of the 100,000-employee organization in batches
of 512, a third of the 223k segments each batch searched (75k) had been searched by an earlier
batch."""


def looks_like_text(text: str, min_letter_ratio: float) -> bool:
    stripped = "".join(text.split())
    if not stripped:
        return False
    if stripped.isascii():  # the common case, counted by regex (the same count)
        letters = len(_ASCII_LETTER.findall(stripped))
    else:
        letters = sum(1 for ch in stripped if unicodedata.category(ch).startswith("L"))
    return letters / len(stripped) >= min_letter_ratio


@dataclass
class DenseParts:
    levels: list[str]
    sims: np.ndarray
    matches: list[LabelMatch]


def _bonus(match: LabelMatch, config: EngineConfig) -> float:
    if match.kind is MatchKind.EXACT:
        return config.exact_bonus
    if match.tokens == 1:
        return config.alias_bonus * config.single_token_alias_factor
    return config.alias_bonus


def _best_bonus(matches: Sequence[LabelMatch], config: EngineConfig) -> dict[int, float]:
    best: dict[int, float] = {}
    for match in matches:
        best[match.skill] = max(best.get(match.skill, 0.0), _bonus(match, config))
    return best


@dataclass
class _Evidence:
    raw: float
    spans: list[tuple[float, int, int]]
    polarity_raw: dict[Polarity | None, float]
    match: MatchKind = MatchKind.SEMANTIC


def _developmental_remainder(text: str, lo: int, hi: int) -> tuple[int, int] | None:
    """The span after a development cue inside a clause ("needs to improve [X]")."""
    found = _DEVELOPMENT.search(text, lo, hi)
    if found is None:
        return None
    start = found.end()
    while start < hi and not text[start].isalnum():
        start += 1
    return (start, hi) if hi - start >= 2 else None


class SkillEngine:
    def __init__(self, index: SkillIndex, encoder: TextEncoder,
                 config: EngineConfig | None = None) -> None:
        self.index = index
        self.encoder = encoder
        self._searched: dict[str, dict[int, float]] = {}
        """segment text -> its nearest skills (`_search`) when segments are encoded one by one
        (not ``contextual``): a segment's vector, and so its neighbours, depend on its text
        alone, and the same clauses recur across many texts (reviews written from the same
        phrases). Forgotten when the config changes (its search settings decide them)."""
        self.config = config or EngineConfig()
        self.technology = TechnologyTable(index.catalog)
        self._matches: dict[str, tuple[LabelMatch, ...]] = {}
        """text -> its `_label_matches` (each text's are needed twice: to segment, to score)."""

    @property
    def config(self) -> EngineConfig:
        return self._config

    @config.setter
    def config(self, value: EngineConfig) -> None:
        self._config = value
        self._searched.clear()

    def forget(self) -> None:
        """Drop what the engine remembers of texts and segments it has read, so that a speed
        benchmark repeating the same texts measures reading them, not remembering them."""
        self._searched.clear()
        self._matches.clear()

    @property
    def catalog(self):  # type: ignore[no-untyped-def]
        return self.index.catalog

    # ------------------------------------------------------------------ public API

    def infer(self, text: str, source: SourceKind, top_k: int | None = None) -> SkillInference:
        return self.infer_many([text], source, top_k=top_k)[0]

    def infer_many(self, texts: Sequence[str], source: SourceKind, top_k: int | None = None,
                   batch_size: int = 128) -> list[SkillInference]:
        """Infer skills for many texts at once; segments shared between texts are encoded once."""
        prepared = [self._prepare(text) for text in texts]
        if self.config.contextual:
            rows, vectors = self._segment_vectors(prepared, batch_size)
            neighbours = self._search(vectors)
        else:
            rows, neighbours = self._static_neighbours(prepared, batch_size)
        results = []
        for (cleaned, segmentation), found in zip(prepared, rows, strict=True):
            hits = [neighbours[r] for r in found]
            results.append(self._assemble(cleaned, segmentation, hits, source, top_k))
        return results

    def rank_all(self, texts: Sequence[str], batch_size: int = 128) -> np.ndarray:
        """Raw scores of every skill for every text, shape (n_texts, n_skills): the same scoring
        as ``infer`` but dense, used by the benchmark that ranks all skills."""
        return self.combine(self.dense_parts(texts, batch_size), self.config)

    def dense_parts(self, texts: Sequence[str], batch_size: int = 128) -> list[DenseParts]:
        """What ``rank_all`` needs before re-scoring: per text, each segment's similarity to
        every skill, and the verbatim label matches (cached by the tuner)."""
        prepared = [self._prepare(text) for text in texts]
        all_rows, vectors = self._segment_vectors(prepared, batch_size)
        dense = self.index.all_skill_scores(vectors, candidates=self.config.rank_candidates)
        parts = []
        for (cleaned, segmentation), rows in zip(prepared, all_rows, strict=True):
            sims = dense[rows] if rows else np.zeros((0, dense.shape[1]), np.float32)
            for i, seg in enumerate(segmentation.segments):
                product = segmentation.products.get((seg.start, seg.end))
                if product is not None:  # as in infer: a product credits its own skills only
                    allowed = sorted(product)
                    kept = sims[i, allowed].copy()
                    sims[i] = -1.0
                    sims[i, allowed] = kept
            if segmentation.look_alikes:
                sims[:, sorted(segmentation.look_alikes)] = -1.0
            parts.append(DenseParts(
                levels=[seg.level.value for seg in segmentation.segments], sims=sims,
                matches=self._label_matches(cleaned) if rows else []))
        return parts

    def combine(self, parts: Sequence[DenseParts], config: EngineConfig) -> np.ndarray:
        out = np.full((len(parts), len(self.catalog)), -1.0, dtype=np.float32)
        for row, part in enumerate(parts):
            for level, sims in zip(part.levels, part.sims, strict=True):
                np.maximum(out[row], config.level_weights.get(level, 1.0) * sims, out=out[row])
            for skill, bonus in _best_bonus(part.matches, config).items():
                out[row, skill] += bonus
        return demote_duplicates(out, self.index.skill_centroids, config.distinct_max_similarity)

    # ------------------------------------------------------------------ internals

    def _search(self, vectors: np.ndarray) -> list[dict[int, float]]:
        """Each segment vector's nearest skills, scored as the engine's config says."""
        if self.config.two_stage_search:
            return self.index.top_skills_two_stage(
                vectors, k=self.config.k_per_segment, candidates=self.config.rank_candidates)
        return self.index.top_skills(vectors, k=self.config.k_per_segment)

    def _static_neighbours(self, prepared: Sequence[tuple[str, Segmentation]], batch_size: int,
                           ) -> tuple[list[list[int]], list[dict[int, float]]]:
        """`_segment_vectors` + `_search` for a static encoder, each distinct segment text
        encoded and searched once, and not again while it is remembered (`SEARCH_MEMO`
        segments): per text the row of each of its segments, and each row's neighbours."""
        unique: dict[str, int] = {}
        for _, segmentation in prepared:
            for seg in segmentation.segments:
                unique.setdefault(seg.text, len(unique))
        segments = list(unique)
        found = [self._searched.get(text) for text in segments]
        missing = [i for i, hits in enumerate(found) if hits is None]
        if missing:
            vectors = self.encoder.encode([segments[i] for i in missing], batch_size=batch_size)
            if len(self._searched) + len(missing) > SEARCH_MEMO:
                self._searched.clear()
            for i, hits in zip(missing, self._search(vectors), strict=True):
                found[i] = hits
                self._searched[segments[i]] = hits
        rows = [[unique[seg.text] for seg in segmentation.segments]
                for _, segmentation in prepared]
        return rows, [hits or {} for hits in found]  # every one is found by now

    def _segment_vectors(self, prepared: Sequence[tuple[str, Segmentation]], batch_size: int,
                         ) -> tuple[list[list[int]], np.ndarray]:
        """Vectors of every segment, each distinct one computed once: per text the row of each
        of its segments, and the matrix. Contextual mode encodes each distinct sentence once
        and pools its segments' token vectors; otherwise each distinct segment text is encoded.
        """
        if not self.config.contextual:
            unique: dict[str, int] = {}
            for _, segmentation in prepared:
                for seg in segmentation.segments:
                    unique.setdefault(seg.text, len(unique))
            vectors = self.encoder.encode(list(unique), batch_size=batch_size)
            return [[unique[seg.text] for seg in seg_.segments] for _, seg_ in prepared], vectors
        sentence_ids: dict[str, int] = {}
        spans: list[dict[tuple[int, int], int]] = []
        keys: list[list[tuple[int, tuple[int, int]]]] = []
        for cleaned, segmentation in prepared:
            text_keys: list[tuple[int, tuple[int, int]]] = []
            for seg in segmentation.segments:
                s_lo, s_hi = next(((lo, hi) for lo, hi in segmentation.sentences
                                   if lo <= seg.start and seg.end <= hi), (seg.start, seg.end))
                sid = sentence_ids.setdefault(cleaned[s_lo:s_hi], len(sentence_ids))
                if sid == len(spans):
                    spans.append({})
                spans[sid].setdefault((seg.start - s_lo, seg.end - s_lo), len(spans[sid]))
                text_keys.append((sid, (seg.start - s_lo, seg.end - s_lo)))
            keys.append(text_keys)
        per_sentence = self.encoder.encode_spans(list(sentence_ids), [list(s) for s in spans],
                                                 batch_size=64)
        offsets = np.cumsum([0] + [len(s) for s in spans])
        matrix = (np.concatenate(per_sentence) if per_sentence
                  else np.zeros((0, self.encoder.dim), np.float32))
        rows = [[int(offsets[sid]) + spans[sid][span] for sid, span in text_keys]
                for text_keys in keys]
        return rows, matrix

    def _prepare(self, text: str) -> tuple[str, Segmentation]:
        text = text[: self.config.max_chars]
        cleaned = clean_text(text)
        binary = len(_CONTROL.findall(text)) > self.config.max_control_ratio * max(1, len(text))
        if binary or not looks_like_text(cleaned, self.config.min_letter_ratio):
            return cleaned, Segmentation([], [])
        segmentation = segment(cleaned, max_segments=self.config.max_segments)
        mentions = self.technology.find(cleaned)
        if mentions:
            segmentation.segments[:] = self._without_products(segmentation.segments, mentions)
        extra: list[Segment] = []
        known = {(s.start, s.end) for s in segmentation.segments}
        if mentions:  # labels spelled like a product's name, that it does not stand for
            segmentation.look_alikes = frozenset(
                match.skill for mention in mentions
                for match in find_labels(f"{mention.name}, {cleaned[mention.start:mention.end]}",
                                         self.catalog)
                if match.skill not in mention.skills)
        for mention in mentions:  # a product stands for each of its skills: one phrase each
            clause = self._clause_of(segmentation, mention.start, mention.end)
            segmentation.products[(mention.start, mention.end)] = frozenset(mention.skills)
            extra.extend(Segment(mention.start, mention.end, self.catalog.skills[skill].label,
                                 Level.PHRASE, clause) for skill in mention.skills)
            known.add((mention.start, mention.end))
        for clause_id, (lo, hi) in enumerate(segmentation.clauses):
            remainder = _developmental_remainder(cleaned, lo, hi)
            if remainder is not None and remainder not in known:
                known.add(remainder)
                r_lo, r_hi = remainder
                extra.append(Segment(r_lo, r_hi, cleaned[r_lo:r_hi], Level.PHRASE, clause_id))
        for match in self._label_matches(cleaned, mentions):
            span = (match.start, match.end)
            if span not in known and (match.kind is MatchKind.EXACT or match.tokens > 1
                                      or match.proper):
                known.add(span)
                clause_id = self._clause_of(segmentation, match.start, match.end)
                extra.append(Segment(match.start, match.end, cleaned[match.start:match.end],
                                     Level.PHRASE, clause_id))
        segmentation.segments.extend(extra)
        return cleaned, segmentation

    def _without_products(self, segments: list[Segment], mentions: list[Mention],
                          ) -> list[Segment]:
        """Segments with product names replaced by the labels of their ESCO skills (contextual
        mode cannot rewrite: a segment inside a name is dropped there); empty ones dropped."""
        out: list[Segment] = []
        for seg in segments:
            inside = [m for m in mentions if seg.start <= m.start and m.end <= seg.end]
            if not inside and overlaps(seg.start, seg.end, mentions) is None:
                out.append(seg)
                continue
            if self.config.contextual:
                if not any(m.start <= seg.start and seg.end <= m.end for m in mentions):
                    out.append(seg)
                continue
            text = rewrite(seg.text, seg.start, inside) if inside else seg.text
            if len(text) >= 2 and any(ch.isalpha() for ch in text):
                out.append(replace(seg, text=text))
        return out

    def _label_matches(self, text: str, mentions: list[Mention] | None = None,
                       ) -> list[LabelMatch]:
        """Verbatim labels, with technology names resolved: inside a product name only the
        skills it stands for match (as aliases), never a label that shares its word.
        ``mentions``, when given, are ``self.technology.find(text)``; results are kept per
        text (a bounded memo: they depend on the text alone)."""
        known = self._matches.get(text)
        if known is not None:
            return list(known)
        found = self._find_label_matches(text, mentions)
        if len(self._matches) >= MATCH_MEMO:
            self._matches.clear()
        self._matches[text] = tuple(found)
        return found

    def _find_label_matches(self, text: str, mentions: list[Mention] | None,
                            ) -> list[LabelMatch]:
        if not looks_like_text(text, self.config.min_letter_ratio):
            return []
        if mentions is None:
            mentions = self.technology.find(text)
        found = find_labels(text, self.catalog)
        if not mentions:
            return found
        kept = [m for m in found if (hit := overlaps(m.start, m.end, mentions)) is None
                or m.skill in hit.skills]
        for mention in mentions:
            kept.extend(LabelMatch(skill, mention.start, mention.end, MatchKind.ALIAS, 2, True)
                        for skill in mention.skills)
        return kept

    def _clause_of(self, segmentation: Segmentation, lo: int, hi: int) -> int:
        for i, (c_lo, c_hi) in enumerate(segmentation.clauses):
            if c_lo <= lo and hi <= c_hi:
                return i
        return -1

    def _assemble(self, text: str, segmentation: Segmentation, hits: list[dict[int, float]],
                  source: SourceKind, top_k: int | None) -> SkillInference:
        polarities = [clause_polarity(text[lo:hi], source) for lo, hi in segmentation.clauses]
        evidence: dict[int, _Evidence] = {}
        for seg, found in zip(segmentation.segments, hits, strict=True):
            weight = self.config.level_weights.get(seg.level.value, 1.0)
            polarity = polarities[seg.clause] if 0 <= seg.clause < len(polarities) else None
            product = segmentation.products.get((seg.start, seg.end))
            for skill, sim in found.items():
                if (product is not None and skill not in product) or (
                        skill in segmentation.look_alikes):
                    continue
                raw = weight * sim
                item = evidence.setdefault(skill, _Evidence(raw, [], {}))
                item.raw = max(item.raw, raw)
                item.spans.append((raw, seg.start, seg.end))
                item.polarity_raw[polarity] = max(item.polarity_raw.get(polarity, -1.0), raw)
        matches = self._label_matches(text) if segmentation.segments else []
        bonuses = _best_bonus(matches, self.config)
        for skill, bonus in bonuses.items():
            if skill in evidence:
                evidence[skill].raw += bonus
        for match in matches:
            found_item = evidence.get(match.skill)
            if found_item is None:
                continue  # a verbatim label the encoder does not support at all: not credited
            item = found_item
            clause = self._clause_of(segmentation, match.start, match.end)
            polarity = polarities[clause] if clause >= 0 else None
            item.polarity_raw[polarity] = max(item.polarity_raw.get(polarity, -1.0), item.raw)
            item.spans.append((item.raw + 1.0, match.start, match.end))
            if item.match is MatchKind.SEMANTIC or match.kind is MatchKind.EXACT:
                item.match = match.kind
        ranked = sorted(evidence.items(), key=lambda kv: -kv[1].raw)
        if top_k is None:
            ranked = [(k, v) for k, v in ranked
                      if self.config.calibrate(v.raw) >= self.config.min_score]
        kept, _ = distinct([k for k, _ in ranked], self.index.skill_centroids,
                           self.config.distinct_max_similarity, limit=top_k)
        chosen = [(k, evidence[k]) for k in kept[:top_k] if k in evidence]
        skills = [self._skill(text, skill_id, item, self.config.calibrate(item.raw), source)
                  for skill_id, item in chosen]
        return SkillInference(source=source, skills=tuple(skills))

    def _skill(self, text: str, skill_id: int, item: _Evidence, score: float,
               source: SourceKind) -> InferredSkill:
        best = max(raw for raw, _, _ in item.spans)
        chosen: list[tuple[int, int]] = []
        for raw, lo, hi in sorted(item.spans, key=lambda s: (-s[0], s[2] - s[1])):
            if raw < best - 0.05 and chosen:
                break
            if any(lo < c_hi and c_lo < hi for c_lo, c_hi in chosen):
                continue
            chosen.append((lo, hi))
            if len(chosen) >= 3:
                break
        polarity: Polarity | None = None
        if any(p is not None for p in item.polarity_raw):
            need = item.polarity_raw.get(Polarity.DEVELOPMENT_NEED, -math.inf)
            strength = item.polarity_raw.get(Polarity.STRENGTH, -math.inf)
            polarity = Polarity.STRENGTH if strength > need else Polarity.DEVELOPMENT_NEED
        skill = self.catalog.skills[skill_id]
        return InferredSkill(
            uri=skill.uri, label=skill.label, score=round(score, 4),
            spans=tuple(TextSpan(start=lo, end=hi, text=text[lo:hi]) for lo, hi in sorted(chosen)),
            polarity=polarity, match=item.match,
        )
