"""The prefix-floor re-ranker: hand examples and properties (hypothesis)."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inference.fairness.rerank import (
    floor_demand,
    pool_shares,
    prefix_violations,
    rerank_with_floors,
    rounded_demand,
    rounding_offsets,
)


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


# --------------------------------------------------------------------------- randomized rounding


def test_rounding_offsets_are_deterministic_uniform_and_keyed() -> None:
    assert rounding_offsets("role-1", ["a", "b"]) == rounding_offsets("role-1", ["b", "a"])
    assert rounding_offsets("role-1", ["a"]) != rounding_offsets("role-2", ["a"])
    draws = [rounding_offsets(f"list-{i}", ["g"])["g"] for i in range(4000)]
    assert all(0.0 <= u < 1.0 for u in draws)
    # uniform on [0, 1): mean 1/2 (sd of the mean 0.0046) and every tenth about 400 draws
    assert abs(sum(draws) / len(draws) - 0.5) < 0.02
    assert all(330 < c < 470 for c in Counter(int(u * 10) for u in draws).values())


def test_offset_rounds_a_small_group_up_by_hand() -> None:
    # share 0.1 over k = 10: plain floors floor(0.1 q) are 0 until q = 10; with u = 0.75 the
    # floor is floor(0.1 q + 0.75), which reaches 1 at q = 3 (0.3 + 0.75 = 1.05)
    plain = floor_demand({"s": 0.1}, {"s": 5}, 10, ["s"])
    assert plain.tolist() == [[0, 0, 0, 0, 0, 0, 0, 0, 0, 1]]
    rounded = floor_demand({"s": 0.1}, {"s": 5}, 10, ["s"], {"s": 0.75})
    assert rounded.tolist() == [[0, 0, 1, 1, 1, 1, 1, 1, 1, 1]]
    # ... and capped by what the list holds
    assert floor_demand({"s": 0.1}, {"s": 0}, 10, ["s"], {"s": 0.75}).sum() == 0


def test_rounded_demand_drops_the_largest_offsets_until_the_floors_fit() -> None:
    # shares .6 / .4 with offsets .5 and .7: at q = 1 both floors are 1 (1.1 and 1.1), two
    # members in a prefix of one; the larger group's offset goes first, leaving a: floor(.6 q),
    # b: floor(.4 q + .7)
    shares, available = {"a": 0.6, "b": 0.4}, {"a": 3, "b": 3}
    demand, kept = rounded_demand(shares, available, 3, ["a", "b"], {"a": 0.5, "b": 0.7})
    assert kept == {"a": 0.0, "b": 0.7}
    assert demand.tolist() == [[0, 1, 1], [1, 1, 1]]
    assert (demand.sum(axis=0) <= [1, 2, 3]).all()
    # equal shares: the larger offset goes first
    _, kept = rounded_demand({"a": 0.5, "b": 0.5}, available, 3, ["a", "b"],
                             {"a": 0.9, "b": 0.8})
    assert kept == {"a": 0.0, "b": 0.8}


def test_randomized_rounding_gives_a_small_group_its_share_on_average() -> None:
    # a group with 1 member in lists of 20 (share 0.05), always ranked last by the model. Plain
    # floors never lift it into the top 10 (floor(0.5) = 0); with randomized rounding its member
    # is in the top 10 of about half the lists (expected count 10 * 0.05 = 0.5), and at the
    # position its offset sets: P(in the top q) = q * 0.05 for every prefix q.
    lists = 2000
    in_top: Counter[int] = Counter()
    for n in range(lists):
        ids = [f"m{j}" for j in range(19)] + ["s"]
        groups = {**dict.fromkeys(ids[:19], "M"), "s": "S"}
        assert rerank_with_floors(ids, groups, k=10)[:10] == ids[:10]
        out = rerank_with_floors(ids, groups, k=10, rounding_key=f"list-{n}")
        assert sorted(out) == sorted(ids)
        assert prefix_violations(out, groups, pool_shares(groups.values()), k=10,
                                 rounding_key=f"list-{n}") == []
        if "s" in out[:10]:
            in_top[out.index("s") + 1] += 1
    for q in (2, 5, 10):
        share = sum(c for pos, c in in_top.items() if pos <= q) / lists
        assert abs(share - q * 0.05) < 0.035  # 3 sd of a binomial share at 2,000 lists


@settings(max_examples=200, deadline=None)
@given(ranked_lists(), st.one_of(st.none(), st.integers(0, 45)), st.text(max_size=8),
       st.sampled_from([0.8, 0.9, 1.0]))
def test_randomized_floors_always_hold(data: tuple[list[str], dict[str, str]], k: int | None,
                                       key: str, ratio: float) -> None:
    ids, groups = data
    out = rerank_with_floors(ids, groups, k=k, rounding_key=key, floor_ratio=ratio)
    assert sorted(out) == sorted(ids)
    shares = pool_shares(groups[i] for i in ids)
    assert prefix_violations(out, groups, shares, k, ratio, rounding_key=key) == []
    # the randomized floors are never below the plain ones
    assert len(prefix_violations(out, groups, shares, k, ratio)) == 0
