"""The one home of ranking metrics: NDCG@k, MRR and Recall@k, for the quality gate (`waypoint
train`), the fairness gate (NDCG before / after re-ranking) and every report.

NDCG has one definition (`ndcg_at_k`): gain ``2^grade - 1``, discount `position_weight`
``1 / log2(1 + rank)``, ideal DCG from every graded item of the list. **A list without a
positive grade has no NDCG** (``None``): it carries no signal and would make every ranker look
equal, so it is left out of every mean (`mean_defined`), and the means say how many lists they
cover. `ndcg_of_scores` is the same metric for rows ordered by descending score (ties keep row
order, so rows must not be sorted by label; the dataset builder shuffles them).

Grouped rows: rows of one query are contiguous; ``group_sizes`` gives each query's row count
(LightGBM's convention).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence

import numpy as np

DEFAULT_MIN_RELEVANT = 2
"""For MRR and Recall: an item is relevant when its grade is at least this (2 = moved)."""


def position_weight(rank: int) -> float:
    """``1 / log2(1 + rank)`` for a 1-based rank."""
    if rank < 1:
        raise ValueError("rank is 1-based")
    return 1.0 / math.log2(1 + rank)


def _ranked(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return labels[np.argsort(-scores, kind="stable")]


def dcg_at_k(ranked_labels: Sequence[float] | np.ndarray, k: int) -> float:
    """Sum over the top ``k`` of (2^grade - 1) / log2(position + 1), positions from 1."""
    rel = np.asarray(ranked_labels, dtype=np.float64)[:k]
    return float(np.sum((2.0 ** rel - 1.0) / np.log2(np.arange(2, len(rel) + 2))))


def ndcg_at_k(ranked_ids: Sequence[str], relevance: Mapping[str, float], k: int) -> float | None:
    """NDCG@k of ``ranked_ids`` (best first) against ``relevance`` (ids without a grade: 0);
    None when no item of ``relevance`` has a positive grade."""
    ideal = dcg_at_k(sorted(relevance.values(), reverse=True), k)
    if ideal <= 0.0:
        return None
    return dcg_at_k([relevance.get(i, 0.0) for i in ranked_ids[:k]], k) / ideal


def ndcg_of_scores(scores: Sequence[float] | np.ndarray, labels: Sequence[float] | np.ndarray,
                   k: int) -> float | None:
    """`ndcg_at_k` of rows ordered by descending score (ties keep row order)."""
    s, y = np.asarray(scores, dtype=np.float64), np.asarray(labels, dtype=np.float64)
    ideal = dcg_at_k(np.sort(y)[::-1], k)
    if ideal <= 0.0:
        return None
    return dcg_at_k(_ranked(s, y), k) / ideal


def mean_defined(values: Iterable[float | None]) -> tuple[float, int]:
    """Mean of the defined values (lists with a relevant item) and how many there are;
    (0.0, 0) when none is defined."""
    defined = [v for v in values if v is not None]
    return (float(np.mean(defined)) if defined else 0.0), len(defined)


def reciprocal_rank(scores: Sequence[float] | np.ndarray, labels: Sequence[float] | np.ndarray,
                    min_relevant: int = DEFAULT_MIN_RELEVANT) -> float | None:
    """1 / position of the first relevant item, or None when nothing is relevant."""
    ranked = _ranked(np.asarray(scores, dtype=np.float64), np.asarray(labels))
    hits = np.flatnonzero(ranked >= min_relevant)
    return None if len(hits) == 0 else 1.0 / (hits[0] + 1)


def recall_at_k(scores: Sequence[float] | np.ndarray, labels: Sequence[float] | np.ndarray,
                k: int, min_relevant: int = DEFAULT_MIN_RELEVANT) -> float | None:
    """Share of the relevant items found in the top ``k``, or None when none is relevant."""
    y = np.asarray(labels)
    total = int(np.sum(y >= min_relevant))
    if total == 0:
        return None
    ranked = _ranked(np.asarray(scores, dtype=np.float64), y)
    return int(np.sum(ranked[:k] >= min_relevant)) / total


def groups(group_sizes: Sequence[int] | np.ndarray) -> Iterator[slice]:
    start = 0
    for size in group_sizes:
        yield slice(start, start + int(size))
        start += int(size)


def evaluate(scores: np.ndarray, labels: np.ndarray, group_sizes: Sequence[int] | np.ndarray,
             k: int = 10, recall_k: int = 10,
             min_relevant: int = DEFAULT_MIN_RELEVANT) -> dict[str, float]:
    """Mean NDCG@k, MRR and Recall@recall_k over the queries that have relevant items."""
    nd: list[float] = []
    rr: list[float] = []
    rc: list[float] = []
    for g in groups(group_sizes):
        s, y = scores[g], labels[g]
        if (v := ndcg_of_scores(s, y, k)) is not None:
            nd.append(v)
        if (v := reciprocal_rank(s, y, min_relevant)) is not None:
            rr.append(v)
        if (v := recall_at_k(s, y, recall_k, min_relevant)) is not None:
            rc.append(v)
    return {
        f"ndcg@{k}": float(np.mean(nd)) if nd else 0.0,
        "mrr": float(np.mean(rr)) if rr else 0.0,
        f"recall@{recall_k}": float(np.mean(rc)) if rc else 0.0,
        "queries": float(len(nd)),
    }
