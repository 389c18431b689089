"""The prefix-floor re-ranker: hand examples and properties (hypothesis)."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inference.fairness.rerank import pool_shares, prefix_violations, rerank_with_floors

pytestmark = pytest.mark.unit


def test_by_hand_two_groups() -> None:
    # 4 M then 2 F; shares M 2/3, F 1/3. F floors floor(p/3): p=3 -> 1, p=6 -> 2;
    # M floors floor(2p/3): p=2 -> 1, p=3 -> 2, p=5 -> 3, p=6 -> 4.
    # p1 m1, p2 m2; p3 m3 would leave F at 0 < 1 -> f1; p4 m3, p5 m4, p6 f2.
    groups = {"m1": "M", "m2": "M", "m3": "M", "m4": "M", "f1": "F", "f2": "F"}
    out = rerank_with_floors(["m1", "m2", "m3", "m4", "f1", "f2"], groups)
    assert out == ["m1", "m2", "f1", "m3", "m4", "f2"]


def test_looks_ahead_where_greedy_gets_stuck() -> None:
    # Three groups at 1/3 each; floors reach 1 for every group at p = 3. Greedy (DetGreedy)
    # would place a1, a2 and then need b and c at p = 3 at once. Look-ahead puts b1 at p = 2.
    groups = {"a1": "a", "a2": "a", "a3": "a", "b1": "b", "c1": "c"}
    out = rerank_with_floors(["a1", "a2", "a3", "b1", "c1"], groups, k=3,
                             shares={"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})
    assert out == ["a1", "b1", "c1", "a2", "a3"]


def test_only_top_k_is_constrained() -> None:
    # k = 2 with shares (.5, .5): p=2 needs one F; the rest keeps its input order
    groups = {"m1": "M", "m2": "M", "m3": "M", "f1": "F"}
    out = rerank_with_floors(["m1", "m2", "m3", "f1"], groups, k=2)
    # F share 1/4 -> floor(2/4) = 0 at p=2: nothing to do
    assert out == ["m1", "m2", "m3", "f1"]
    out = rerank_with_floors(["m1", "m2", "m3", "f1"], groups, k=2, shares={"F": .5, "M": .5})
    assert out == ["m1", "f1", "m2", "m3"]


def test_validation() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        rerank_with_floors(["a", "a"], {})
    with pytest.raises(ValueError, match="shares"):
        rerank_with_floors(["a"], {}, shares={"x": 0.7, "y": 0.7})
    assert rerank_with_floors([], {}) == []
    assert rerank_with_floors(["a", "b"], {}, k=0) == ["a", "b"]


# --------------------------------------------------------------------------- properties

GROUP_NAMES = ["f", "m", "x", "u"]


@st.composite
def ranked_lists(draw: st.DrawFn) -> tuple[list[str], dict[str, str]]:
    labels = draw(st.lists(st.sampled_from(GROUP_NAMES), min_size=0, max_size=40))
    ids = [f"c{i}" for i in range(len(labels))]
    return ids, dict(zip(ids, labels, strict=True))


@st.composite
def shares_for(draw: st.DrawFn) -> dict[str, float]:
    weights = draw(st.lists(st.integers(0, 10), min_size=len(GROUP_NAMES),
                            max_size=len(GROUP_NAMES)))
    extra = draw(st.integers(0, 10))  # mass on no group: shares may sum to < 1
    total = sum(weights) + extra
    if total == 0:
        return {}
    return {g: w / total for g, w in zip(GROUP_NAMES, weights, strict=True)}


@settings(max_examples=300, deadline=None)
@given(ranked_lists(), st.one_of(st.none(), st.integers(0, 45)), st.one_of(st.none(), shares_for()))
def test_permutation_and_floors(
    data: tuple[list[str], dict[str, str]], k: int | None, shares: dict[str, float] | None,
) -> None:
    ids, groups = data
    out = rerank_with_floors(ids, groups, k=k, shares=shares)
    assert sorted(out) == sorted(ids)  # a permutation
    target = pool_shares(groups[i] for i in ids) if shares is None else shares
    # every prefix p <= k: count_i >= min(floor(p * share_i), available_i)
    assert prefix_violations(out, groups, target, k) == []
    # within a group, the input order is kept
    for g in GROUP_NAMES:
        assert [i for i in out if groups[i] == g] == [i for i in ids if groups[i] == g]
    # positions beyond k keep the input order
    limit = len(ids) if k is None else min(k, len(ids))
    tail = out[limit:]
    assert tail == [i for i in ids if i in set(tail)]


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 30), st.one_of(st.none(), st.integers(0, 35)))
def test_single_group_keeps_order(n: int, k: int | None) -> None:
    ids = [f"c{i}" for i in range(n)]
    assert rerank_with_floors(ids, dict.fromkeys(ids, "g"), k=k) == ids


@settings(max_examples=200, deadline=None)
@given(ranked_lists(), st.one_of(st.none(), st.integers(1, 45)))
def test_compliant_lists_are_untouched(data: tuple[list[str], dict[str, str]],
                                       k: int | None) -> None:
    # minimal reordering: a list that already meets every floor comes back unchanged
    ids, groups = data
    shares = pool_shares(groups[i] for i in ids)
    if prefix_violations(ids, groups, shares, k) == []:
        assert rerank_with_floors(ids, groups, k=k) == ids


@settings(max_examples=200, deadline=None)
@given(ranked_lists())
def test_reranking_never_lowers_the_floor_gap(data: tuple[list[str], dict[str, str]]) -> None:
    # per group, the minimum prefix count deficit vs p * share is no worse after re-ranking
    ids, groups = data
    shares = pool_shares(groups[i] for i in ids)
    out = rerank_with_floors(ids, groups)
    for g, s in shares.items():
        def worst(order: list[str], g: str = g, s: float = s) -> int:
            seen: Counter[str] = Counter()
            gap = 0
            for p, i in enumerate(order, 1):
                seen[groups[i]] += 1
                gap = max(gap, math.floor(p * s + 1e-9) - seen[g])
            return gap
        assert worst(out) <= max(worst(ids), 0)


def test_ceilings_leave_room_for_a_small_group_by_hand() -> None:
    groups = {**{f"a{i}": "A" for i in range(1, 7)}, "b1": "B", "c1": "C"}
    ranked = ["a1", "a2", "a3", "a4", "b1", "a5", "c1", "a6"]
    # floors alone (A: 0,1,2,3 for prefixes 1..4; B, C: 0) keep the model order
    assert rerank_with_floors(ranked, groups, k=4)[:4] == ["a1", "a2", "a3", "a4"]
    # ceilings: A at most ceil(4 * 0.75) = 3 of the top 4, so the best of the rest (b1) enters
    out = rerank_with_floors(ranked, groups, k=4, ceilings=True)
    assert out == ["a1", "a2", "a3", "b1", "a4", "a5", "c1", "a6"]
    assert prefix_violations(out, groups, pool_shares(groups.values()), k=4) == []


def test_ceilings_give_way_when_only_one_group_is_left() -> None:
    groups = {"a1": "A", "a2": "A", "a3": "A", "b1": "B"}
    out = rerank_with_floors(["b1", "a1", "a2", "a3"], groups, k=4, ceilings=True)
    assert out == ["b1", "a1", "a2", "a3"]  # A over its ceiling is better than an empty slot


def test_floor_ratio_relaxes_the_floors_by_hand() -> None:
    groups = {**{f"m{i}": "M" for i in range(1, 6)}, **{f"f{i}": "F" for i in range(1, 6)}}
    ranked = ["m1", "m2", "m3", "m4", "m5", "f1", "f2", "f3", "f4", "f5"]
    # exact floors: F needs floor(p / 2) of every prefix p, so f1 enters at position 2
    assert rerank_with_floors(ranked, groups, k=4)[:4] == ["m1", "f1", "m2", "f2"]
    # 0.5 of proportional: F needs floor(p / 4): one by position 4, none before
    relaxed = rerank_with_floors(ranked, groups, k=4, floor_ratio=0.5)
    assert relaxed[:4] == ["m1", "m2", "m3", "f1"]
    shares = pool_shares(groups.values())
    assert prefix_violations(relaxed, groups, shares, k=4, floor_ratio=0.5) == []
    assert prefix_violations(relaxed, groups, shares, k=4) != []
    with pytest.raises(ValueError):
        rerank_with_floors(ranked, groups, floor_ratio=0.0)
