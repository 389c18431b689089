"""Candidate-list rates and employee-list equal opportunity, against hand-computed values."""

from __future__ import annotations

import json

import pytest

from features.domain import ProtectedAttributes, Sex
from inference.fairness.groups import INTERSECTION, RACE, SEX, UNKNOWN, protected_groupings
from inference.fairness.metrics import (
    EmployeeRecommendations,
    RankedList,
    RecommendedOpportunity,
    audit_candidate_lists,
    audit_employee_lists,
    impact_ratios,
)
from inference.fairness.models import CandidateListAudit

approx = pytest.approx

# Two lists of four, k = 2. Displayed order is the rank; b3 scores above b2 but is shown below it
# (as after a re-ranking), so rank and score order differ on purpose.
LIST_A = RankedList.from_pairs("A", [("a1", 0.9), ("a2", 0.8), ("a3", 0.4), ("a4", 0.3)])
LIST_B = RankedList.from_pairs("B", [("b1", 0.7), ("b2", 0.6), ("b3", 0.65), ("b4", 0.2)])
SEX_OF = {"a1": "female", "a2": "male", "a3": "female", "a4": "male",
          "b1": "male", "b2": "male", "b3": "female", "b4": "female"}


def _group(audit: CandidateListAudit, dimension: str, group: str):  # type: ignore[no-untyped-def]
    dim = next(d for d in audit.dimensions if d.dimension == dimension)
    return next(g for g in dim.groups if g.group == group), dim


def test_selection_and_scoring_rates_by_hand() -> None:
    audit = audit_candidate_lists([LIST_A, LIST_B], {SEX: SEX_OF}, k=2)
    female, dim = _group(audit, SEX, "female")
    male, _ = _group(audit, SEX, "male")
    # top 2: a1 (f), a2 (m), b1 (m), b2 (m) -> female 1 of 4 = 0.25, male 3 of 4 = 0.75
    assert (female.n_selected, female.n_candidates, female.selection_rate) == (1, 4, 0.25)
    assert (male.n_selected, male.n_candidates, male.selection_rate) == (3, 4, 0.75)
    # impact ratio = 0.25 / 0.75 = 1/3; the reference is male
    assert female.selection_impact_ratio == approx(1 / 3)
    assert male.selection_impact_ratio == 1.0
    assert dim.selection_reference_group == "male"
    assert dim.min_selection_impact_ratio == approx(1 / 3)
    # scores sorted: .2 .3 .4 .6 | .65 .7 .8 .9 -> sample median (.6 + .65) / 2 = .625
    # above: a1 .9 (f), a2 .8 (m), b1 .7 (m), b3 .65 (f) -> 2 of 4 each, ratios 1
    assert audit.sample_median_score == approx(0.625)
    assert (female.n_scored_above_median, female.scoring_rate) == (2, 0.5)
    assert (male.n_scored_above_median, male.scoring_rate) == (2, 0.5)
    assert female.scoring_impact_ratio == male.scoring_impact_ratio == 1.0
    assert (audit.n_lists, audit.n_candidates, audit.n_unique_candidates) == (2, 8, 8)


def test_per_list_median() -> None:
    audit = audit_candidate_lists([LIST_A, LIST_B], {SEX: SEX_OF}, k=2, median_scope="list")
    # A: median (.8 + .4) / 2 = .6 -> above a1 (f), a2 (m)
    # B: median (.6 + .65) / 2 = .625 -> above b1 (m), b3 (f); so 2 of 4 each again
    female, _ = _group(audit, SEX, "female")
    assert audit.sample_median_score is None
    assert female.n_scored_above_median == 2


def test_small_and_unknown_groups_are_flagged_not_dropped() -> None:
    # One list of 100: ranks 1-6 male, 7-9 female, 10 an id with no group (-> unknown),
    # 11-64 male (54 more: 60 male), 65-100 female (36 more: 39 female). Scores 100 - rank.
    ids = ([f"m{i}" for i in range(6)] + [f"f{i}" for i in range(3)] + ["nobody"]
           + [f"m{i}" for i in range(6, 60)] + [f"f{i}" for i in range(3, 39)])
    grouping = {i: ("male" if i.startswith("m") else "female") for i in ids if i != "nobody"}
    ranked = RankedList.from_pairs("L", [(i, 100.0 - r) for r, i in enumerate(ids, 1)])
    audit = audit_candidate_lists([ranked], {SEX: grouping}, k=10)
    unknown, dim = _group(audit, SEX, UNKNOWN)
    female, _ = _group(audit, SEX, "female")
    male, _ = _group(audit, SEX, "male")
    # unknown: 1 of 100 = 1 % < 2 % -> small, shown with its own ratio (1/1) / (6/60) = 10
    assert unknown.small_group and unknown.unknown and unknown.n_candidates == 1
    assert unknown.share_of_sample == approx(0.01)
    assert unknown.selection_impact_ratio == approx(10.0)
    # the reference is the best NON-small group: male 6/60 = 0.1; female 3/39 = 0.0769
    assert dim.selection_reference_group == "male"
    assert female.selection_impact_ratio == approx((3 / 39) / (6 / 60))  # 0.769
    assert dim.min_selection_impact_ratio == approx((3 / 39) / (6 / 60))
    # scores 99..0, median 49.5 -> ranks 1..50 above: male 6 + 40 (ranks 11-50) = 46 of 60,
    # female 3 of 39 -> scoring impact ratio (3/39) / (46/60) = 0.1003
    assert male.n_scored_above_median == 46
    assert female.scoring_impact_ratio == approx((3 / 39) / (46 / 60))
    assert [g.group for g in dim.groups] == ["male", "female", UNKNOWN]  # by size


def test_impact_ratios_helper_edges() -> None:
    # best non-small rate 0 -> ratios undefined (None), never a division by zero
    ref, ratios = impact_ratios({"a": 0.0, "b": 0.0}, small=set())
    assert ref == "a" and ratios == {"a": None, "b": None}
    # every group small -> the reference falls back to all groups
    ref, ratios = impact_ratios({"a": 0.2, "b": 0.4}, small={"a", "b"})
    assert ref == "b" and ratios["a"] == approx(0.5)


def test_intersections_from_protected_attributes() -> None:
    attrs = {
        "a1": ProtectedAttributes(employee_id="a1", sex=Sex.FEMALE, race_ethnicity="Asian",
                                  age_band="30-39"),
        "a2": ProtectedAttributes(employee_id="a2", sex=Sex.MALE, race_ethnicity=" ",
                                  age_band="30-39"),
    }
    groupings = protected_groupings(attrs, ids=["a1", "a2", "a3"])
    assert groupings[SEX] == {"a1": "female", "a2": "male", "a3": UNKNOWN}
    assert groupings[RACE] == {"a1": "Asian", "a2": UNKNOWN, "a3": UNKNOWN}
    assert groupings[INTERSECTION]["a1"] == "female | Asian"
    assert groupings[INTERSECTION]["a3"] == "unknown | unknown"


def test_audit_is_json_with_impact_ratio_keys() -> None:
    audit = audit_candidate_lists([LIST_A, LIST_B], {SEX: SEX_OF}, k=2)
    data = json.loads(audit.model_dump_json())
    group = data["dimensions"][0]["groups"][0]
    assert {"selection_impact_ratio", "scoring_impact_ratio", "small_group"} <= set(group)
    assert CandidateListAudit.model_validate_json(audit.model_dump_json()) == audit


def test_empty_input() -> None:
    audit = audit_candidate_lists([], {SEX: {}}, k=5)
    assert audit.n_candidates == 0 and audit.dimensions[0].groups == []


def test_ranked_list_validation() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        RankedList.from_pairs("x", [("a", 1.0), ("a", 0.5)])
    assert RankedList.by_score("x", [("a", 0.1), ("b", 0.9)]).ids == ("b", "a")


# --------------------------------------------------------------------------- employee lists

# (employee, sex, fit, [(level, quality), ...])
EMPLOYEES = [
    ("e1", "female", 0.1, [(2, 0.4), (2, 0.6)]),   # mean level 2, quality 0.5
    ("e2", "male", 0.2, [(3, 0.6), (3, 0.6)]),     # 3, 0.6
    ("e3", "female", 0.3, [(2, 0.5), (4, 0.5)]),   # 3, 0.5
    ("e4", "male", 0.4, [(3, 0.7), (5, 0.7)]),     # 4, 0.7
    ("e5", "female", 0.6, []),                     # shown nothing
    ("e6", "male", 0.7, [(4, 0.8)]),               # 4, 0.8
    ("e7", "female", 0.8, [(4, 0.6), (4, 0.6)]),   # 4, 0.6
    ("e8", "male", 0.9, [(5, 0.8), (5, 0.8)]),     # 5, 0.8
]


def _employees() -> list[EmployeeRecommendations]:
    return [
        EmployeeRecommendations(e, fit, tuple(RecommendedOpportunity(f"{e}-{i}", lv, q)
                                              for i, (lv, q) in enumerate(recs)))
        for e, _, fit, recs in EMPLOYEES
    ]


def test_employee_lists_by_hand() -> None:
    grouping = {e: g for e, g, _, _ in EMPLOYEES}
    audit = audit_employee_lists(_employees(), {SEX: grouping}, n_bins=2)
    # fit quantiles 0, .5, 1 of (.1 .2 .3 .4 .6 .7 .8 .9): .1, (.4 + .6) / 2 = .5, .9
    assert audit.fit_bin_edges == approx([0.1, 0.5, 0.9])
    dim = audit.dimensions[0]
    female = next(g for g in dim.groups if g.group == "female")
    male = next(g for g in dim.groups if g.group == "male")
    # bin 1 (e1-e4, weight 4): female level (2 + 3) / 2 = 2.5, male (3 + 4) / 2 = 3.5
    # bin 2 (e6-e8 shown something, weight 3): female 4 (e7 only), male (4 + 5) / 2 = 4.5
    cells = {(b.fit_bin[:2], b.group): b for b in dim.bins}
    assert cells[("Q1", "female")].mean_level == 2.5
    assert cells[("Q2", "male")].mean_level == 4.5
    # adjusted: female (4 * 2.5 + 3 * 4) / 7 = 22/7; male (4 * 3.5 + 3 * 4.5) / 7 = 27.5/7
    assert female.adjusted_mean_level == approx(22 / 7)
    assert male.adjusted_mean_level == approx(27.5 / 7)
    assert female.level_gap == approx(5.5 / 7)            # 0.786 levels
    assert female.level_impact_ratio == approx(0.8)       # 22 / 27.5
    # quality: female (4 * .5 + 3 * .6) / 7 = 3.8/7; male (4 * .65 + 3 * .8) / 7 = 5/7
    assert female.adjusted_mean_quality == approx(3.8 / 7)
    assert female.quality_impact_ratio == approx(0.76)    # 3.8 / 5
    assert dim.max_quality_gap == approx(1.2 / 7)
    assert (female.n_employees, female.n_without_recommendations) == (4, 1)
    assert dim.level_reference_group == "male"


def test_employee_lists_top_k_and_ties() -> None:
    emps = [EmployeeRecommendations("x", 0.5, (RecommendedOpportunity("o1", 5, 1.0),
                                               RecommendedOpportunity("o2", 1, 0.0))),
            EmployeeRecommendations("y", 0.5, (RecommendedOpportunity("o1", 3, 0.5),))]
    audit = audit_employee_lists(emps, {SEX: {"x": "a", "y": "b"}}, n_bins=4, top_k=1)
    # all fits equal -> one bin; top_k=1 keeps level 5 for x -> b's ratio 3 / 5
    assert audit.fit_bin_edges == [0.5]
    b = next(g for g in audit.dimensions[0].groups if g.group == "b")
    assert b.level_impact_ratio == approx(0.6)


def test_small_group_rule_counts_people_not_rows() -> None:
    # 50 lists of 3: "hub" (group h) is listed in every one, 50 other people (group o) once each,
    # and 50 more (group p) once each: h has 50 rows (33 % of rows) but is 1 of 101 people (1 %)
    lists = [RankedList.from_pairs(f"L{j}", [("hub", 0.9), (f"o{j}", 0.5), (f"p{j}", 0.1)])
             for j in range(50)]
    groups = {"hub": "h", **{f"o{j}": "o" for j in range(50)}, **{f"p{j}": "p" for j in range(50)}}
    audit = audit_candidate_lists(lists, {SEX: groups}, k=1)
    hub, dim = _group(audit, SEX, "h")
    assert (hub.n_candidates, hub.n_people) == (50, 1)
    assert hub.share_of_sample == approx(1 / 101) and hub.small_group
    other, _ = _group(audit, SEX, "o")
    assert other.n_people == 50 and not other.small_group
    # the reference is the best non-small group (o and p both 0 selected -> undefined ratios)
    assert dim.selection_reference_group in {"o", "p"}


def test_unknown_is_never_the_reference_and_unknown_cells_are_flagged() -> None:
    ref, ratios = impact_ratios({"unknown": 0.5, "male": 0.4, "female": 0.36}, small=set())
    assert ref == "male" and ratios["female"] == approx(0.9) and ratios["unknown"] == 1.25
    # an intersection with an unknown component is an unknown cell
    lists = [RankedList.from_pairs("A", [("a", 0.9), ("b", 0.5)])]
    audit = audit_candidate_lists(lists, {INTERSECTION: {"a": "male | unknown",
                                                         "b": "female | White"}}, k=1)
    cell, dim = _group(audit, INTERSECTION, "male | unknown")
    assert cell.unknown and dim.selection_reference_group == "female | White"


def test_group_rates_agree_with_fairlearn() -> None:
    import numpy as np
    import pandas as pd
    from fairlearn.metrics import MetricFrame, count, selection_rate

    from inference.fairness.metrics import _rates_by_group

    rng = np.random.default_rng(3)
    outcome = pd.Series(rng.integers(0, 2, 500))
    groups = pd.Series(rng.choice(["a", "b", "c", "unknown"], 500))
    ours = _rates_by_group(outcome, groups)
    theirs = MetricFrame(metrics={"rate": selection_rate, "n": count},
                         y_true=outcome.to_numpy(), y_pred=outcome.to_numpy(),
                         sensitive_features=groups.to_numpy()).by_group
    assert isinstance(theirs, pd.DataFrame)
    for g in ["a", "b", "c", "unknown"]:
        assert ours.loc[g, "rate"] == pytest.approx(theirs.loc[g, "rate"])
        assert float(ours.at[g, "n"]) == float(theirs.at[g, "n"])  # type: ignore[arg-type]
        assert ours.loc[g, "positive"] == int(outcome[groups == g].sum())
