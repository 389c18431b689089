"""The fairness gate: audit figures + thresholds -> pass / fail, with violations in plain words.

Default: every impact ratio of every non-small group must be >= 0.8 (the four-fifths rule).
Thresholds can be set per metric (``selection_impact_ratio``, ``scoring_impact_ratio``,
``exposure_impact_ratio``, ``level_impact_ratio``, ``quality_impact_ratio``); ``None`` switches
a metric off. Small groups are listed in ``notes``, not gated. An audit in which nothing could be
checked fails by default: a gate that saw no data must not pass a model.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel

from features.params import GateThresholds
from inference.fairness.models import FairnessAudit, iter_impact_ratios
from inference.fairness.significance import FigureKey

SECTION_WORDS = {
    "candidate_lists": "candidate lists",
    "rankings": "candidate rankings",
    "employee_lists": "employee recommendations",
}


class GateResult(BaseModel):
    passed: bool
    violations: list[str]
    n_checked: int
    notes: list[str]
    """Figures shown but not gated (small groups, undefined ratios, switched-off metrics)."""


def _words(metric: str) -> str:
    return metric.replace("_", " ")


def evaluate_gate(audit: FairnessAudit, thresholds: GateThresholds,
                  p_values: Mapping[FigureKey, float] | None = None) -> GateResult:
    """Gate ``audit``; ``p_values`` (figure -> permutation p-value) is used when
    ``thresholds.significance`` is set (a figure without one counts as significant)."""
    t = thresholds
    p_values = p_values or {}
    violations: list[str] = []
    notes: list[str] = []
    checked = 0
    for fig in iter_impact_ratios(audit):
        if t.dimensions is not None and fig.dimension not in t.dimensions:
            continue
        where = f"{SECTION_WORDS[fig.section]}, {fig.dimension} = {fig.group!r}"
        limit = t.threshold(fig.metric)
        if limit is None:
            continue
        if fig.small_group:
            notes.append(f"{where}: small group (under the sample threshold), "
                         f"{_words(fig.metric)} {_fmt(fig.value)} shown but not gated")
            continue
        if fig.unknown and not t.gate_unknown:
            notes.append(f"{where}: unknown category, {_words(fig.metric)} {_fmt(fig.value)} "
                         "shown but not gated")
            continue
        if fig.value is None:
            notes.append(f"{where}: {_words(fig.metric)} undefined ({fig.detail})")
            continue
        checked += 1
        if fig.value < limit - 1e-9:  # a ratio equal to the threshold passes
            p = p_values.get((fig.section, fig.dimension, fig.group, fig.metric))
            if t.significance is not None and p is not None and p >= t.significance:
                notes.append(
                    f"{where}: {_words(fig.metric)} {fig.value:.2f} is below {limit:.2f} but "
                    f"within chance (p = {p:.3f} from {t.permutations} label permutations, "
                    f"level {t.significance}; {fig.detail})")
                continue
            where_p = "" if p is None else f"; p = {p:.3f}"
            violations.append(
                f"{where}: {_words(fig.metric)} {fig.value:.2f} is below {limit:.2f} "
                f"({fig.detail}; reference group {fig.reference_group!r}{where_p})"
            )
    if t.max_ndcg_drop is not None and audit.ndcg is not None:
        checked += 1
        drop = audit.ndcg.before - audit.ndcg.after
        if drop > t.max_ndcg_drop:
            violations.append(
                f"fair re-ranking costs {drop:.3f} NDCG@{audit.ndcg.k} "
                f"({audit.ndcg.before:.3f} -> {audit.ndcg.after:.3f}), more than the allowed "
                f"{t.max_ndcg_drop:.3f}"
            )
    if t.max_mean_ndkl is not None and audit.rankings is not None:
        for dim in audit.rankings.dimensions:
            if dim.mean_ndkl is None or (t.dimensions is not None
                                         and dim.dimension not in t.dimensions):
                continue
            checked += 1
            if dim.mean_ndkl > t.max_mean_ndkl:
                violations.append(
                    f"candidate rankings, {dim.dimension}: mean NDKL {dim.mean_ndkl:.3f} is "
                    f"above {t.max_mean_ndkl:.3f} (rankings drift from the pool's composition)"
                )
    if checked == 0 and t.fail_when_nothing_checked:
        violations.append("nothing could be checked: the audit holds no gateable figure "
                          "(no data, or every group is under the small-group threshold)")
    return GateResult(passed=not violations, violations=violations, n_checked=checked,
                      notes=notes)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"
