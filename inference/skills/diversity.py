"""Near-duplicate ESCO concepts: a text's skills are listed as different things.

ESCO holds many concepts that paraphrase each other ("communication", "communicate
effectively", "use communication techniques"...). Walking a ranking best first, a skill whose
vector (the mean of its label texts' embeddings) has cosine >= ``max_similarity`` with a skill
already kept is a near-duplicate of it: ``infer`` drops it, ``rank_all`` moves it below the
kept ones (so ranking metrics see the list a user sees).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def distinct(order: Sequence[int], vectors: np.ndarray, max_similarity: float,
             limit: int | None = None) -> tuple[list[int], list[int]]:
    """Split ``order`` (skill indices, best first) into (kept, near-duplicates); stops looking
    once ``limit`` skills are kept (the rest of ``order`` counts as kept, unchecked)."""
    if max_similarity >= 1.0 or len(order) < 2:
        return list(order), []
    kept: list[int] = []
    dropped: list[int] = []
    chosen = np.zeros((0, vectors.shape[1]), dtype=np.float32)
    for position, skill in enumerate(order):
        if limit is not None and len(kept) >= limit:
            kept.extend(order[position:])
            break
        vector = vectors[skill]
        if len(chosen) and float(np.max(chosen @ vector)) >= max_similarity:
            dropped.append(skill)
            continue
        kept.append(skill)
        chosen = np.vstack([chosen, vector[None, :]])
    return kept, dropped


def demote_duplicates(scores: np.ndarray, vectors: np.ndarray, max_similarity: float,
                      depth: int = 30) -> np.ndarray:
    """Per row, among the ``depth`` best skills, near-duplicates get scores just below the
    lowest kept one of that window (their order among themselves kept)."""
    if max_similarity >= 1.0:
        return scores
    out = scores.copy()
    depth = min(depth, scores.shape[1])
    for row in range(len(scores)):
        top = np.argpartition(-scores[row], depth - 1)[:depth]
        top = top[np.argsort(-scores[row, top], kind="stable")]
        kept, dropped = distinct(top.tolist(), vectors, max_similarity)
        if not dropped:
            continue
        floor = float(scores[row, kept[-1]])
        for rank, skill in enumerate(dropped):
            out[row, skill] = floor - 1e-4 * (rank + 1)
    return out
