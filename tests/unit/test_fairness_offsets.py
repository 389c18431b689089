"""Group offsets for fair re-ranking: hand-computed orders, ratios and fits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from inference.fairness.offsets import fit_group_offsets, group_ratios
from inference.fairness.rerank import offset_order


def test_offset_order_by_hand() -> None:
    groups = {"a1": "A", "a2": "A", "b1": "B"}
    # scores 3, 2, 1: mean 2, sd sqrt(2/3) = 0.8165; z = 1.2247, 0, -1.2247
    ids, scores = ["a1", "a2", "b1"], [3.0, 2.0, 1.0]
    assert offset_order(ids, scores, groups, {}) == ids
    assert offset_order(ids, scores, groups, {"B": 1.2}) == ids  # -0.0247 < 0: stays third
    assert offset_order(ids, scores, groups, {"B": 1.3}) == ["a1", "b1", "a2"]
    assert offset_order(ids, scores, groups, {"B": 2.5}) == ["b1", "a1", "a2"]
    # equal scores: offsets alone decide, ties keep the input order
    assert offset_order(ids, [1.0, 1.0, 1.0], groups, {"B": 0.1}) == ["b1", "a1", "a2"]
    assert offset_order(ids, [1.0, 1.0, 1.0], groups, {"C": 0.1}) == ids
    with pytest.raises(ValueError):
        offset_order(ids, [1.0], groups, {"B": 1.0})


def test_group_ratios_by_hand() -> None:
    groups = {"a1": "A", "a2": "A", "b1": "B", "u1": "unknown"}
    orders = [["a1", "b1", "a2", "u1"], ["a2", "a1", "b1", "u1"]]
    # k = 2. A: 4 rows, 3 in the top 2 (ranks 1, 1, 2); B: 2 rows, 1 in the top 2 (rank 2).
    # selection A 3/4, B 1/2 -> ratio B 2/3. exposure per row: A (1 + 1 + 1/log2 3) / 4 =
    # 0.6577, B (1/log2 3) / 2 = 0.3155 -> ratio 0.4797. unknown is neither gated nor reference.
    ratios = group_ratios(orders, groups, k=2)
    assert set(ratios) == {"A", "B"}
    assert ratios["A"] == (1.0, 1.0)
    assert ratios["B"][0] == pytest.approx(2 / 3)
    assert ratios["B"][1] == pytest.approx((0.63093 / 2) / ((2 + 0.63093) / 4), abs=1e-4)
    # a group under the small-group share of people is not gated (B: 1 of 4 people)
    assert set(group_ratios(orders, groups, k=2, small_group_threshold=0.3)) == {"A"}


def _lists(n: int) -> list[tuple[list[str], list[float]]]:
    """n lists of four: A scored 4 and 3, B just under (2.9 and 1): B loses the top 2."""
    out = []
    for j in range(n):
        out.append(([f"a{j}x", f"a{j}y", f"b{j}x", f"b{j}y"], [4.0, 3.0, 2.9, 1.0]))
    return out


def _serve(item: tuple[list[str], list[float]], offsets: Mapping[str, float]) -> list[str]:
    ids, scores = item
    return offset_order(ids, scores, GROUPS, offsets)


GROUPS: dict[str, str] = {f"{g}{j}{s}": g.upper() for j in range(10) for g in "ab" for s in "xy"}


def test_fit_finds_the_smallest_offset_that_reaches_the_target() -> None:
    lists = _lists(10)
    # z-scores of 4, 3, 2.9, 1 (mean 2.725, sd 1.0918): a-x 1.1678, a-y 0.2519, b-x 0.1603.
    # Without offsets B is never in the top 2 (ratios 0). B needs more than 0.0916 to pass
    # a-y: at 0.1 (4 steps of .025) b-x is second in every list: selection 1/2 for both,
    # exposure per row A 1/2, B (1/log2 3)/2 = 0.3155, so B's exposure ratio is 0.6309.
    fit = fit_group_offsets(lists, GROUPS, _serve, k=2, target=0.6, step=0.025)
    assert fit.offsets == {"B": pytest.approx(0.1)}
    assert fit.steps == 4
    assert fit.lowest_ratio == pytest.approx(0.6309, abs=1e-4)
    assert all(_serve(item, fit.offsets)[1].startswith("b") for item in lists)


def test_fit_keeps_the_best_when_the_target_is_out_of_reach() -> None:
    lists = _lists(10)
    # target 0.99: B would have to pass a-x (an offset over 1.0075); with max_offset 0.3 the
    # fit stops and keeps the best lowest ratio seen, 0.6309 at the smallest offset, 0.1
    fit = fit_group_offsets(lists, GROUPS, _serve, k=2, target=0.99, step=0.025,
                            max_offset=0.3)
    assert fit.lowest_ratio == pytest.approx(0.6309, abs=1e-4)
    assert fit.offsets == {"B": pytest.approx(0.1)}
    # with room enough, b-x passes a-x and the groups trade places: A's exposure ratio is
    # then 0.6309 as well, and the fit still never reaches 0.99
    wide = fit_group_offsets(lists, GROUPS, _serve, k=2, target=0.99, step=0.025,
                             max_offset=2.0)
    assert wide.lowest_ratio == pytest.approx(0.6309, abs=1e-4)


def test_fit_needs_nothing_for_a_fair_list_and_validates() -> None:
    fair: Sequence[tuple[list[str], list[float]]] = [
        (["a0x", "b0x", "a0y", "b0y"], [4.0, 3.0, 2.0, 1.0]),
        (["b1x", "a1x", "b1y", "a1y"], [4.0, 3.0, 2.0, 1.0])]
    fit = fit_group_offsets(fair, GROUPS, _serve, k=2, target=0.9)
    assert fit.offsets == {} and fit.steps == 0 and fit.lowest_ratio == pytest.approx(1.0)
    with pytest.raises(ValueError):
        fit_group_offsets(fair, GROUPS, _serve, k=2, target=1.5)
    with pytest.raises(ValueError):
        fit_group_offsets(fair, GROUPS, _serve, k=2, step=0.0)
