"""Near-duplicate suppression on hand-made vectors."""

from __future__ import annotations

import numpy as np

from inference.skills.diversity import demote_duplicates, distinct


def vectors() -> np.ndarray:
    raw = np.array([[1.0, 0.0, 0.0], [0.99, 0.14, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
                   dtype=np.float32)
    return raw / np.linalg.norm(raw, axis=1, keepdims=True)


def test_a_near_duplicate_of_a_better_skill_is_dropped() -> None:
    kept, dropped = distinct([0, 1, 2, 3], vectors(), max_similarity=0.95)
    assert kept == [0, 2, 3]
    assert dropped == [1]


def test_threshold_one_keeps_everything() -> None:
    assert distinct([1, 0, 2], vectors(), max_similarity=1.0) == ([1, 0, 2], [])


def test_limit_stops_after_enough_distinct_skills() -> None:
    kept, dropped = distinct([0, 1, 2, 3], vectors(), max_similarity=0.95, limit=2)
    assert kept[:2] == [0, 2]
    assert dropped == [1]


def test_demoted_duplicates_rank_below_the_kept_ones() -> None:
    scores = np.array([[0.9, 0.85, 0.5, 0.4]], dtype=np.float32)
    out = demote_duplicates(scores, vectors(), max_similarity=0.95, depth=4)
    assert np.argsort(-out[0]).tolist() == [0, 2, 3, 1]
    assert out[0, 0] == scores[0, 0] and out[0, 2] == scores[0, 2]
