"""Issue 13: the within-applicant metrics by hand, and their bootstrap intervals."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from features.ranking import FEATURE_NAMES
from training.ranking.dataset import RankingDataset, outcome_key
from training.ranking.evaluation import (
    PRIMARY,
    EvalData,
    compare,
    load_truth,
    per_decision,
    spearman,
    top1,
)


def test_spearman_and_top1_by_hand() -> None:
    assert spearman(np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0, 30.0])) == pytest.approx(1)
    assert spearman(np.array([3.0, 2.0, 1.0]), np.array([1.0, 2.0, 3.0])) == pytest.approx(-1)
    # ranks (1, 2, 3, 4) against (1, 3, 2, 4): 1 - 6 * 2 / (4 * 15) = 0.8
    assert spearman(np.arange(4.0), np.array([1.0, 3.0, 2.0, 4.0])) == pytest.approx(0.8)
    # a scorer that cannot tell them apart orders them no better than chance
    assert spearman(np.ones(3), np.arange(3.0)) == 0.0
    assert spearman(np.arange(3.0), np.ones(3)) is None  # nothing to order
    assert top1(np.array([0.1, 0.9, 0.5]), np.array([0, 1, 0])) == 1.0
    # a tie at the top: the share of the tied who are best, whatever the row order
    assert top1(np.array([0.9, 0.9, 0.5]), np.array([0, 1, 0])) == 0.5
    assert top1(np.array([0.9, 0.9, 0.5]), np.array([1, 0, 0])) == 0.5


def tiny() -> RankingDataset:
    # two decisions: q1 applicants a (chosen, thrived), b, c and a retrieved d; q2 applicants
    # e (chosen, left within the year) and f
    labels = np.array([3, 1, 1, 0, 2, 1])
    return RankingDataset(
        features=np.zeros((6, len(FEATURE_NAMES))), labels=labels,
        group_sizes=np.array([4, 2]), query_ids=["opp:q1", "opp:q2"],
        query_dates=[date(2025, 1, 1), date(2025, 2, 1)],
        employee_ids=["a", "b", "c", "d", "e", "f"],
        outcomes={outcome_key("opp:q1", "a"): (5, True),
                  outcome_key("opp:q2", "e"): (4, False)})


def test_per_decision_figures(tmp_path: Path) -> None:
    path = tmp_path / "truth.json.gz"
    with gzip.open(path, "wt") as handle:
        json.dump({"applications": [["q1", "a", 0.5, True], ["q1", "b", 0.7, False],
                                    ["q1", "c", 0.1, False], ["q2", "e", 0.2, True],
                                    ["q2", "f", 0.3, False]]}, handle)
    ev = EvalData.of(tiny(), 10, 10, load_truth(path))
    scores = np.array([0.9, 0.5, 0.1, 5.0, 0.2, 0.8])  # d first overall, but d is no applicant
    v = per_decision(ev, scores)
    assert v["applicants_chosen.top1"].tolist() == [1.0, 0.0]
    # outcome: only q1, whose move worked out (grades 3, 0, 0); q2's move failed, which says
    # the slate was weak, not who would have done better
    assert v["applicants_outcome.ndcg"].tolist() == pytest.approx([1.0])
    assert v["applicants_outcome.top1"].tolist() == [1.0]
    # the reverse order of q1 puts the thriving mover third: 7 / log2(4) of 7
    worst = per_decision(ev, -scores)["applicants_outcome.ndcg"][0]
    assert worst == pytest.approx(0.5)
    # truth: q1 order a, b, c vs fits 0.5, 0.7, 0.1 -> 0.5; q2 f (0.3) above e (0.2) -> 1
    assert v["truth.spearman"].tolist() == pytest.approx([0.5, 1.0])
    assert v["truth.top1"].tolist() == [0.0, 1.0]
    assert v["retrieved.ndcg@10"][0] < 1.0  # the retrieved row on top costs the old metric


def test_intervals_are_paired_and_contain_the_mean() -> None:
    ev = EvalData.of(tiny(), 10, 10)
    good = np.array([0.9, 0.5, 0.1, 0.0, 0.9, 0.1])
    result = compare(ev, {"ranker": good, "reversed": -good}, resamples=200)
    for name in ("ranker", "reversed"):
        lo, hi = result.intervals[name][PRIMARY]
        assert lo <= result.metrics[name][PRIMARY] <= hi
    diff, lo, hi = result.differences["reversed"]
    assert diff > 0 and lo <= diff <= hi
    assert result.counts[PRIMARY] == 1
    assert result.counts["applicants_chosen.ndcg"] == 2
