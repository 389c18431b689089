"""The gate (plain-word violations, small groups not gated) and the MLflow export."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

import pytest

from features.params import GateThresholds
from inference.fairness.export import ALLOWED_NAME, metric_segment, mlflow_metrics
from inference.fairness.gate import evaluate_gate
from inference.fairness.groups import INTERSECTION, SEX
from inference.fairness.metrics import RankedList, audit_candidate_lists
from inference.fairness.models import FairnessAudit, NdcgChange, iter_impact_ratios
from inference.fairness.ranking_metrics import audit_rankings
from tests.support.params_factory import gate_thresholds


def thresholds(**overrides: object) -> GateThresholds:
    """The shipped gate with the plain four-fifths rule these cases were written for: unknown
    gated, no NDCG budget, no significance test (then ``overrides``)."""
    base: dict[str, object] = {"gate_unknown": True, "max_ndcg_drop": None,
                               "significance": None, "permutations": 200}
    return gate_thresholds(**{**base, **overrides})


def _audit(n_female_selected: int) -> FairnessAudit:
    """One list of 100: 50 male, 49 female, 1 unknown (a small group), k = 20.

    Males fill the top 20 except ``n_female_selected`` places; the unknown sits last.
    """
    ids = [f"m{i}" for i in range(20 - n_female_selected)] + [
        f"f{i}" for i in range(n_female_selected)]
    ids += [f"m{i}" for i in range(20 - n_female_selected, 50)]
    ids += [f"f{i}" for i in range(n_female_selected, 49)] + ["u0"]
    grouping = {i: ("male" if i[0] == "m" else "female" if i[0] == "f" else "") for i in ids}
    inter = {i: f"{g or 'unknown'} | Hispanic/Latino" for i, g in grouping.items()}
    ranked = RankedList.from_pairs("role-1", [(i, 100.0 - r) for r, i in enumerate(ids)])
    groupings = {SEX: grouping, INTERSECTION: inter}
    return FairnessAudit(
        subject="ranker v1",
        candidate_lists=audit_candidate_lists([ranked], groupings, k=20),
        rankings=audit_rankings([ranked], groupings, k=20),
        ndcg=NdcgChange(k=10, n_lists=1, before=0.80, after=0.75, delta=-0.05),
    )


def test_gate_passes_a_balanced_audit() -> None:
    # 10 of 49 female vs 10 of 50 male selected: ratio (10/49) / (10/50) = 1.02 -> female is the
    # reference and male's ratio is 0.98; the unknown (1 %) is small and only noted
    result = evaluate_gate(_audit(10), thresholds(per_metric={"scoring_impact_ratio": None,
                                                                  "exposure_impact_ratio": None}))
    assert result.passed, result.violations
    assert any("small group" in n and "'unknown'" in n for n in result.notes)
    assert result.n_checked == 4  # selection ratio, 2 groups, 2 dimensions


def test_gate_reports_violations_in_words() -> None:
    # 5 of 49 female vs 15 of 50 male: (5/49) / (15/50) = 0.340 < 0.8
    result = evaluate_gate(_audit(5), thresholds())
    assert not result.passed
    words = [v for v in result.violations if "sex = 'female'" in v and "selection" in v]
    assert len(words) == 1
    assert "selection impact ratio 0.34 is below 0.80" in words[0]
    assert "5 of 49 placed in the top 20" in words[0]
    assert "reference group 'male'" in words[0]


def test_gate_thresholds_per_metric_and_ndcg() -> None:
    audit = _audit(5)
    lenient = thresholds(min_impact_ratio=0.3, max_ndcg_drop=0.01)
    result = evaluate_gate(audit, lenient)
    # selection 0.34 >= 0.3 passes; a 0.05 NDCG drop exceeds the allowed 0.01
    assert not any("selection impact ratio" in v for v in result.violations)
    assert any("costs 0.050 NDCG@10" in v for v in result.violations)
    only_sex = thresholds(min_impact_ratio=0.3, dimensions=[SEX],
                              per_metric={"scoring_impact_ratio": None,
                                          "exposure_impact_ratio": None})
    assert evaluate_gate(audit, only_sex).passed


def test_gate_fails_when_nothing_was_checked() -> None:
    result = evaluate_gate(FairnessAudit(), thresholds())
    assert not result.passed and "nothing could be checked" in result.violations[0]
    assert evaluate_gate(FairnessAudit(), thresholds(fail_when_nothing_checked=False)).passed


def test_every_impact_ratio_key_contains_impact_ratio() -> None:
    audit = _audit(5)
    data = json.loads(audit.model_dump_json())
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if "ratio" in key:
                    found.append(key)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(data)
    assert found and all("impact_ratio" in key for key in found)
    assert sum(1 for _ in iter_impact_ratios(audit)) == sum(
        1 for key in found if not key.startswith("min_"))


def test_mlflow_metrics_names_and_values() -> None:
    metrics = mlflow_metrics(_audit(5))
    assert all(ALLOWED_NAME.match(name) for name in metrics)
    assert all(isinstance(v, float) for v in metrics.values())
    key = "fairness/candidate_lists/sex/female/selection_impact_ratio"
    assert metrics[key] == pytest.approx((5 / 49) / (15 / 50))
    # "female | Hispanic/Latino" -> one path segment, no "|" and no extra "/"
    inter = [n for n in metrics if n.startswith("fairness/candidate_lists/sex_x_race_ethnicity/")]
    assert "fairness/candidate_lists/sex_x_race_ethnicity/female _ Hispanic_Latino/n_selected" \
        in inter
    assert metrics["fairness/candidate_lists/sex/unknown/small_group"] == 1.0
    assert metrics["fairness/ndcg/delta"] == pytest.approx(-0.05)


def test_metric_segment() -> None:
    assert metric_segment("Black or African American") == "Black or African American"
    assert re.fullmatch(r"[A-Za-z0-9_. -]+", metric_segment("a/b|c:é"))
    assert metric_segment("  ") == "_"


# --------------------------------------------------------------------------- significance


def _two_group_lists(n_lists: int, b_on_top_every: int) -> tuple[list[RankedList], dict[str, str]]:
    """Lists of 4 A-people and 4 B-people; every ``b_on_top_every``-th list puts B on top,
    the others put A on top (so B's selection rate in the top 4 is low)."""
    lists, groups = [], {}
    for q in range(n_lists):
        a = [f"a{q}_{i}" for i in range(4)]
        b = [f"b{q}_{i}" for i in range(4)]
        groups.update({x: "A" for x in a} | {x: "B" for x in b})
        order = b + a if q % b_on_top_every == 0 else a + b
        lists.append(RankedList.from_pairs(f"q{q}", [(x, 8.0 - r) for r, x in enumerate(order)]))
    return lists, groups


def _two_group_audit(lists: list[RankedList], by: Mapping[str, Mapping[str, str]]) -> FairnessAudit:
    return FairnessAudit(subject="t", candidate_lists=audit_candidate_lists(
        lists, by, 4, small_group_threshold=0.0))


def test_a_systematic_shortfall_is_significant_and_chance_is_not() -> None:
    from inference.fairness.significance import figure_values, permutation_p_values

    key = ("candidate_lists", SEX, "B", "selection_impact_ratio")
    # B on top in 1 list of 10: selection rates A 0.9, B 0.1 -> ratio 0.11; no random half of
    # the people does that badly
    lists, groups = _two_group_lists(40, 10)
    by = {SEX: groups}
    audit = _two_group_audit(lists, by)
    observed = figure_values(audit)
    assert observed[key] == pytest.approx(0.1 / 0.9)
    p = permutation_p_values(lambda g: _two_group_audit(lists, g), by, observed, [key],
                             permutations=50, seed=1)
    assert p[key] == pytest.approx(1 / 51)
    gate = thresholds(significance=0.05, permutations=50)
    result = evaluate_gate(audit, gate, p)
    assert not result.passed and "p = 0.020" in result.violations[0]
    # the same ratio with a p-value above the level is a note, not a violation
    scoring = ("candidate_lists", SEX, "B", "scoring_impact_ratio")
    assert not evaluate_gate(audit, gate, {key: 0.4}).passed  # scoring has no p: significant
    relaxed = evaluate_gate(audit, gate, {key: 0.4, scoring: 0.3})
    assert relaxed.passed and any("within chance (p = 0.400" in n for n in relaxed.notes)
    # without significance in the thresholds, p-values change nothing
    assert not evaluate_gate(audit, thresholds(), {key: 0.4}).passed


def test_the_lowest_of_many_group_blind_ratios_is_within_chance() -> None:
    import numpy as np

    from inference.fairness.significance import figure_values, permutation_p_values

    rng = np.random.default_rng(5)
    people = [f"p{i}" for i in range(120)]
    groups = {p: "g" + str(rng.integers(6)) for p in people}  # six groups, assigned blindly
    lists = []
    for q in range(60):
        members = [people[j] for j in rng.choice(120, 12, replace=False)]
        lists.append(RankedList.from_pairs(f"q{q}", [(m, 12.0 - r)
                                                      for r, m in enumerate(members)]))
    by = {SEX: groups}
    audit = _two_group_audit(lists, by)
    observed = figure_values(audit)
    key = min((k for k in observed if k[3] == "selection_impact_ratio"),
              key=lambda k: observed[k])
    assert observed[key] < 0.8  # the lowest of six blind ratios fails the four-fifths rule
    p = permutation_p_values(lambda g: _two_group_audit(lists, g), by, observed, [key],
                             permutations=100, seed=2)
    assert p[key] > 0.05  # ... and the family-wise test says so


def test_lowest_per_permutation_and_blind_chance_by_hand() -> None:
    import numpy as np

    from inference.fairness.significance import lowest_per_permutation

    samples = np.array([[0.95, 0.91, np.nan], [0.85, 0.99, 1.0], [np.nan, np.nan, np.nan]])
    lowest = lowest_per_permutation(samples)
    assert lowest.tolist() == [0.91, 0.85, float("inf")]
    from training.fairness.audit import AuditResult

    result = AuditResult(audit=None, gate=None, lists=None,  # type: ignore[arg-type]
                         blind_lowest=(0.91, 0.85, 0.7, 0.95))
    assert result.blind_chance(0.9) == 0.5  # 0.91 and 0.95 of four
    assert result.blind_chance(0.96) == 0.0
    assert AuditResult(audit=None, gate=None, lists=None).blind_chance(0.9) is None  # type: ignore[arg-type]
