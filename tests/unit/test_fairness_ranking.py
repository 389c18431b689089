"""Exposure, skew@k, NDKL and NDCG against hand-computed values."""

from __future__ import annotations

import math

import pytest

from inference.fairness.metrics import RankedList
from inference.fairness.ranking_metrics import (
    SKEW_FLOOR,
    audit_rankings,
    exposure_by_group,
    kl_divergence,
    ndcg_change,
    ndkl,
    position_weight,
    skew_at_k,
)
from inference.ranking.metrics import ndcg_at_k, ndcg_of_scores

approx = pytest.approx


def test_position_weight() -> None:
    # 1/log2(2) = 1, 1/log2(3) = 0.6309, 1/log2(4) = 0.5
    assert [position_weight(r) for r in (1, 2, 3)] == approx([1.0, 0.6309298, 0.5])
    with pytest.raises(ValueError):
        position_weight(0)


def test_exposure_by_hand() -> None:
    # [A, B, A]: A = 1/log2(2) + 1/log2(4) = 1.5; B = 1/log2(3) = 0.6309
    assert exposure_by_group(["A", "B", "A"]) == approx({"A": 1.5, "B": 0.6309298})
    # k = 2 drops rank 3: A = 1, B = 0.6309; a group only beyond k shows as 0
    assert exposure_by_group(["A", "B", "A", "C"], k=2) == approx(
        {"A": 1.0, "B": 0.6309298, "C": 0.0})


def test_skew_by_hand() -> None:
    # pool [A, A, B, B] -> p_A = p_B = 0.5; top 1 = [A]: skew_A = log(1 / .5) = log 2 = 0.6931,
    # skew_B = log(floor 1e-4 / .5) = log(2e-4) = -8.517
    skew = skew_at_k(list("AABB"), 1)
    assert skew["A"] == approx(math.log(2))
    assert skew["B"] == approx(math.log(SKEW_FLOOR / 0.5))
    # k = 4 reproduces the pool: zero skew
    assert skew_at_k(list("AABB"), 4) == approx({"A": 0.0, "B": 0.0})
    # explicit pool (e.g. the qualified pool beyond the list): p_A = .25 -> log(1 / .25)
    assert skew_at_k(list("AABB"), 2, {"A": 0.25, "B": 0.75})["A"] == approx(math.log(4))


def test_ndkl_by_hand() -> None:
    # [A, A, B, B] vs D = (.5, .5):
    # k=1: D_1 = (1, 0): KL = log 2 = .693147, w = 1
    # k=2: D_2 = (1, 0): KL = .693147,           w = 1/log2(3) = .630930
    # k=3: D_3 = (2/3, 1/3): KL = 2/3 log(4/3) + 1/3 log(2/3) = .056633, w = .5
    # k=4: D_4 = (.5, .5): KL = 0,               w = 1/log2(5) = .430677
    # NDKL = (.693147 * 1.630930 + .5 * .056633) / (1 + .630930 + .5 + .430677)
    #      = 1.158795 / 2.561607 = 0.452369
    assert ndkl(list("AABB"), {"A": 0.5, "B": 0.5}) == approx(0.452369, abs=1e-6)
    # alternating [A, B, A, B]: k=1 KL log 2 (w 1); k=3 KL .056633 (w .5); others 0
    # = (.693147 + .028317) / 2.561607 = 0.281645
    assert ndkl(list("ABAB")) == approx(0.281645, abs=1e-6)
    assert ndkl(["A", "A"]) == 0.0
    assert ndkl([]) == 0.0


def test_kl_rejects_groups_missing_from_target() -> None:
    with pytest.raises(ValueError, match="no share"):
        kl_divergence({"A": 1.0}, {"B": 1.0})


def test_ndcg_by_hand() -> None:
    # ranked [x, y, z], rel x=0 y=2 z=1, gain 2^rel - 1:
    # DCG = 0/1 + 3/log2(3) + 1/log2(4) = 1.892789 + .5 = 2.392789
    # IDCG = 3/1 + 1/log2(3) = 3.630930 -> NDCG = 0.659002
    rel = {"x": 0.0, "y": 2.0, "z": 1.0}
    assert ndcg_at_k(["x", "y", "z"], rel, 3) == approx(0.659002, abs=1e-6)
    assert ndcg_at_k(["y", "z", "x"], rel, 3) == approx(1.0)
    # k=1: DCG 0 -> 0; no positive label -> no NDCG (left out of every mean)
    assert ndcg_at_k(["x", "y", "z"], rel, 1) == 0.0
    assert ndcg_at_k(["x"], {"x": 0.0}, 1) is None
    change = ndcg_change([["y", "z", "x"]], [["x", "y", "z"]], [rel], k=3)
    assert change.before == approx(1.0) and change.after == approx(0.659002, abs=1e-6)
    assert change.delta == approx(0.659002 - 1.0, abs=1e-6)


def test_one_ndcg_for_both_gates() -> None:
    # the quality gate (rows by score) and the fairness gate (ids in served order) compute the
    # same NDCG; a list without a relevant item has none and is left out of the mean, so the
    # fairness gate's NDCG of two lists, one of them empty of signal, is the other's NDCG
    scores, labels = [0.9, 0.5, 0.1], [0.0, 2.0, 1.0]
    rel = {"x": 0.0, "y": 2.0, "z": 1.0}
    assert ndcg_of_scores(scores, labels, 3) == approx(ndcg_at_k(["x", "y", "z"], rel, 3))
    assert ndcg_of_scores([1.0, 0.0], [0.0, 0.0], 3) is None
    change = ndcg_change([["x", "y", "z"], ["a", "b"]], [["y", "z", "x"], ["b", "a"]],
                         [rel, {"a": 0.0, "b": 0.0}], k=3)
    assert change.n_lists == 1
    assert change.before == approx(0.659002, abs=1e-6) and change.after == approx(1.0)


def test_audit_rankings_by_hand() -> None:
    # lists [a1 (F), a2 (M)] and [b1 (F)] with k = None
    # exposure F = 1 (a1 at rank 1) + 1 (b1 at rank 1) = 2 over 2 members -> mean 1
    # exposure M = 1/log2(3) = .6309 over 1 member -> mean .6309; ratio .6309 / 1
    lists = [RankedList.from_pairs("A", [("a1", 2.0), ("a2", 1.0)]),
             RankedList.from_pairs("B", [("b1", 1.0)])]
    audit = audit_rankings(lists, {"sex": {"a1": "F", "a2": "M", "b1": "F"}})
    dim = audit.dimensions[0]
    f = next(g for g in dim.groups if g.group == "F")
    m = next(g for g in dim.groups if g.group == "M")
    assert f.mean_exposure == approx(1.0) and m.mean_exposure == approx(0.6309298)
    assert m.exposure_impact_ratio == approx(0.6309298)
    assert f.share_of_exposure == approx(2 / 2.6309298)
    assert dim.exposure_reference_group == "F"
    # NDKL list A = [F, M] vs (.5, .5): k=1 KL log 2 (w 1), k=2 KL 0 -> .693147 / 1.630930
    # list B = [F] vs (1): 0. Mean (0.425 + 0) / 2, max 0.425
    assert dim.max_ndkl == approx(math.log(2) / 1.6309298)
    assert dim.mean_ndkl == approx(math.log(2) / 1.6309298 / 2)
