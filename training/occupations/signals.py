"""Occupation-to-occupation similarity signals from reference data, one N x N matrix each.

Every signal scores how close occupation ``j`` is to source occupation ``i`` (rows: source), over
the O*NET occupations that have task statements. They are the single-signal baselines of
``waypoint paths evaluate`` and the inputs of the blended path model (``training/occupations/
path_model.py``):

- ``tasks``: TF-IDF cosine over the task statements;
- ``skills`` / ``knowledge``: cosine of the O*NET importance and level ratings (standardized per
  element, importance and level concatenated); ``work_styles``: the same over work styles;
- ``technology``: TF-IDF cosine over technology examples and their commodity titles;
- ``job_zone``: minus the job-zone difference (preparation needed);
- ``esco_skills``: cosine of the ESCO essential skills of the ESCO occupation each O*NET
  occupation is matched to (the content matcher of ``training/simulation/crosswalk.py``, with
  the HR admin's overrides, docs/crosswalk.md);
- ``career_changers``: the Career Changers Matrix (rank 1 -> 1.0 ... rank 10 -> 0.1), and
  ``career_changers_reverse`` (the target lists the source);
- ``embedding``: MiniLM cosine over "title. description";
- ``titles``: TF-IDF cosine over alternate titles; ``soc``: shared levels of the SOC code
  (major, minor, broad, detailed group) / 4.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from features.params import load_params
from features.settings import get_settings
from training.occupations.reference import OccupationReference
from training.simulation.crosswalk import match_occupations
from training.simulation.crosswalk_file import read_overrides

log = logging.getLogger(__name__)

SIGNALS = ("tasks", "skills", "knowledge", "work_styles", "technology", "job_zone",
           "esco_skills", "career_changers", "career_changers_reverse", "embedding", "titles",
           "soc")
Encode = Callable[[Sequence[str]], np.ndarray]
"""Texts -> L2-normalized embeddings (the packaged MiniLM in the pipeline)."""


def _cosine_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit = matrix / np.where(norms == 0, 1.0, norms)
    return (unit @ unit.T).astype(np.float32)


def _tfidf_cosine(docs: list[str], **options: object) -> np.ndarray:
    matrix = TfidfVectorizer(sublinear_tf=True, **options).fit_transform(docs)  # type: ignore[arg-type]
    return np.asarray((matrix @ matrix.T).todense(), dtype=np.float32)


def _ratings_cosine(ref: OccupationReference, kinds: Sequence[str]) -> np.ndarray:
    blocks = []
    for kind in kinds:
        table = ref.ratings.get(kind, {})
        names = sorted({n for values in table.values() for n in values})
        block = np.array([[table.get(c, {}).get(n, np.nan) for n in names] for c in ref.codes])
        mean = np.nanmean(block, axis=0)
        std = np.nanstd(block, axis=0)
        block = np.nan_to_num((block - mean) / np.where(std == 0, 1.0, std))
        blocks.append(block)
    return _cosine_rows(np.hstack(blocks))


def _career_changers(ref: OccupationReference) -> np.ndarray:
    index = {c: i for i, c in enumerate(ref.codes)}
    out = np.zeros((len(ref.codes), len(ref.codes)), dtype=np.float32)
    for (source, target), rank in ref.career_changers.items():
        if source in index and target in index:
            out[index[source], index[target]] = max(0.1, 1.0 - (rank - 1) / 10.0)
    return out


def _soc(codes: Sequence[str]) -> np.ndarray:
    prefixes = [(c[:2], c[:4], c[:6], c[:7]) for c in codes]
    out = np.zeros((len(codes), len(codes)), dtype=np.float32)
    for level in range(4):
        keys = np.array([p[level] for p in prefixes])
        out += (keys[:, None] == keys[None, :]).astype(np.float32)
    return out / 4.0


def esco_links(ref: OccupationReference) -> dict[str, list[tuple[str, float]]]:
    """O*NET code -> [(ESCO occupation URI, match score)] (one pair, or none when unmatched):
    the project's crosswalk with params.yaml's threshold and the HR admin's overrides."""
    matches = match_occupations(ref.esco, ref.codes, load_params().simulate.crosswalk_min_score,
                                read_overrides(get_settings().crosswalk_overrides))
    return {code: [(m.esco_uri, m.score)] if m.esco_uri else [] for code, m in matches.items()}


def _esco_skills(ref: OccupationReference) -> np.ndarray:
    links = esco_links(ref)
    vocab: dict[str, int] = {}
    rows: list[dict[int, float]] = []
    for code in ref.codes:
        weights: dict[int, float] = {}
        matches = links.get(code, [])
        best = matches[0][1] if matches else 1.0
        for uri, score in matches:
            for skill in ref.esco_essential.get(uri, ()):
                j = vocab.setdefault(skill, len(vocab))
                weights[j] = max(weights.get(j, 0.0), score / best)
        rows.append(weights)
    matrix = np.zeros((len(ref.codes), max(1, len(vocab))), dtype=np.float32)
    for i, weights in enumerate(rows):
        for j, w in weights.items():
            matrix[i, j] = w
    return _cosine_rows(matrix)


def compute_signals(ref: OccupationReference, encode: Encode | None) -> dict[str, np.ndarray]:
    """Every signal as an N x N float32 matrix over ``ref.codes`` (``embedding`` only when an
    encoder is given)."""
    codes = ref.codes
    out: dict[str, np.ndarray] = {}
    out["tasks"] = _tfidf_cosine([" ".join(ref.tasks[c]) for c in codes],
                                 stop_words="english", ngram_range=(1, 2), min_df=2)
    out["skills"] = _ratings_cosine(ref, ("skill_im", "skill_lv"))
    out["knowledge"] = _ratings_cosine(ref, ("knowledge_im", "knowledge_lv"))
    out["work_styles"] = _ratings_cosine(ref, ("work_style",))
    tech_docs = [" ".join(f"{e} {t}" for e, t in ref.technology.get(c, [])) for c in codes]
    out["technology"] = _tfidf_cosine(tech_docs, min_df=2)
    zones = np.array([ref.job_zones.get(c, 3) for c in codes], dtype=np.float32)
    out["job_zone"] = -np.abs(zones[:, None] - zones[None, :])
    out["esco_skills"] = _esco_skills(ref)
    out["career_changers"] = _career_changers(ref)
    out["career_changers_reverse"] = out["career_changers"].T.copy()
    if encode is not None:
        texts = [f"{ref.titles[c]}. {ref.descriptions.get(c, '')}" for c in codes]
        vectors = encode(texts)
        out["embedding"] = (vectors @ vectors.T).astype(np.float32)
    out["titles"] = _tfidf_cosine(
        [" ".join([ref.titles[c], *ref.alt_titles.get(c, [])]) for c in codes],
        stop_words="english", min_df=2)
    out["soc"] = _soc(codes)
    log.info("occupation signals: %s over %d occupations", ", ".join(out), len(codes))
    return out
