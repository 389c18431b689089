"""Group rates for candidate lists (NYC LL 144 style) and equal opportunity in employee lists.

Candidate lists (recruiter-facing): for each dimension, per group,

- selection rate = share of the group's eligible candidate rows placed in the top k of their list;
- scoring rate   = share of the group's rows scoring strictly above the median score (the pooled
  sample median by default, or each list's own median);
- impact ratio   = the group's rate / the highest rate among non-small groups.

Groups under ``small_group_threshold`` (2 %) of the sample are kept and flagged ``small_group``;
the reference (highest) group is chosen among the others, unless every group is small. The unit
of that rule is the person: a group's share is its share of the *distinct people* in the sample
(a candidate listed in 50 lists is one person), so a group is never gated on the strength of a
few people who happen to be listed often (`people_sizes`).

Employee-facing lists: employees are binned by quantiles of a supplied fit score; within bins the
mean level and mean predicted quality of what each group is shown are compared, then standardized
over bins (weights: bin sizes), giving one fit-adjusted mean, gap and ratio per group.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from inference.fairness.groups import Grouping, group_of, is_unknown
from inference.fairness.models import (
    CandidateListAudit,
    DimensionOpportunity,
    DimensionRates,
    EmployeeListAudit,
    FitBinGroup,
    GroupOpportunity,
    GroupRates,
)

SMALL_GROUP_THRESHOLD = 0.02


# --------------------------------------------------------------------------- shared helpers


def group_sizes(groups: Sequence[str]) -> dict[str, int]:
    """``{group: count}`` ordered by count (desc), then name."""
    counts = pd.Series(list(groups), dtype=object).value_counts()
    return {str(g): int(n) for g, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))}


def people_sizes(ids: Sequence[str], groups: Sequence[str]) -> dict[str, int]:
    """``{group: distinct people}`` for aligned row ids and group labels (every group of
    ``groups`` is present)."""
    seen: dict[str, set[str]] = {}
    for i, g in zip(ids, groups, strict=True):
        seen.setdefault(g, set()).add(i)
    return {g: len(v) for g, v in seen.items()}


def small_groups(sizes: Mapping[str, int], threshold: float) -> set[str]:
    """Groups whose share of the sample is strictly under ``threshold``."""
    total = sum(sizes.values())
    return {g for g, n in sizes.items() if total and n / total < threshold}


def impact_ratios(
    rates: Mapping[str, float | None], small: set[str]
) -> tuple[str | None, dict[str, float | None]]:
    """The reference group and ``{group: rate / reference rate}``.

    The reference is the highest rate among non-small groups of known membership (the
    ``unknown`` category and intersections with an unknown component are never the reference,
    as in NYC LL 144 bias audits: a rate against "unknown" says nothing about a protected
    group); failing that among non-small groups, then among all. Ties go to the first group in
    ``rates`` order. Ratios are ``None`` when the group's rate is undefined or the reference
    rate is not positive.
    """
    defined = {g: r for g, r in rates.items() if r is not None and not np.isnan(r)}
    pool = ({g: r for g, r in defined.items() if g not in small and not is_unknown(g)}
            or {g: r for g, r in defined.items() if g not in small} or defined)
    if not pool:
        return None, dict.fromkeys(rates)
    ref = max(pool, key=lambda g: (pool[g], -list(rates).index(g)))
    best = pool[ref]
    ratios: dict[str, float | None] = {
        g: (None if r is None or np.isnan(r) or best <= 0 else float(r / best))
        for g, r in rates.items()
    }
    return ref, ratios


def _min_over_non_small(ratios: Mapping[str, float | None], small: set[str]) -> float | None:
    values = [v for g, v in ratios.items() if g not in small and v is not None]
    return min(values) if values else None


# --------------------------------------------------------------------------- candidate lists


@dataclass(frozen=True)
class RankedList:
    """One ranked candidate list: ``ids`` in displayed order (rank 1 first), model ``scores``.

    Rank is the position in ``ids``, not the score order: after fair re-ranking the two differ.
    """

    list_id: str
    ids: tuple[str, ...]
    scores: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.ids) != len(self.scores):
            raise ValueError(f"list {self.list_id!r}: {len(self.ids)} ids, "
                             f"{len(self.scores)} scores")
        if len(set(self.ids)) != len(self.ids):
            raise ValueError(f"list {self.list_id!r}: duplicate candidate ids")

    @classmethod
    def from_pairs(cls, list_id: str, pairs: Iterable[tuple[str, float]]) -> RankedList:
        items = list(pairs)
        return cls(list_id, tuple(i for i, _ in items), tuple(float(s) for _, s in items))

    @classmethod
    def by_score(cls, list_id: str, pairs: Iterable[tuple[str, float]]) -> RankedList:
        """Ranked by descending score (ties keep input order)."""
        items = sorted(pairs, key=lambda p: -p[1])
        return cls.from_pairs(list_id, items)


def _candidate_frame(
    lists: Sequence[RankedList], k: int, median_scope: Literal["sample", "list"]
) -> tuple[pd.DataFrame, float | None]:
    rows = [
        (rl.list_id, cid, float(score), pos)
        for rl in lists for pos, (cid, score) in enumerate(zip(rl.ids, rl.scores, strict=True), 1)
    ]
    frame = pd.DataFrame(rows, columns=["list_id", "id", "score", "rank"])
    frame["selected"] = (frame["rank"] <= k).astype(int)
    sample_median: float | None = None
    if frame.empty:
        frame["above_median"] = pd.Series(dtype=int)
    elif median_scope == "sample":
        sample_median = float(np.median(frame["score"]))
        frame["above_median"] = (frame["score"] > sample_median).astype(int)
    else:
        medians = frame.groupby("list_id")["score"].transform("median")
        frame["above_median"] = (frame["score"] > medians).astype(int)
    return frame, sample_median


def _rates_by_group(outcome: pd.Series, groups: pd.Series) -> pd.DataFrame:
    """Per group: rate (share of 1s), n (rows) and positive (count of 1s), indexed by group.

    The same figures as fairlearn's ``MetricFrame`` with ``selection_rate`` / ``count``
    (tests/unit/test_fairness_metrics.py checks them against it), computed with one groupby: the
    audit recomputes them for every label permutation of its significance test, where
    ``MetricFrame`` would cost seconds per call."""
    values = pd.Series(outcome.to_numpy(dtype=float), index=groups.index)
    grouped = values.groupby(groups.rename("group").to_numpy(), sort=True)
    return pd.DataFrame({"rate": grouped.mean(), "n": grouped.size(),
                         "positive": grouped.sum()})


def _column(by_group: pd.DataFrame, name: str) -> dict[str, float]:
    values = by_group[name].to_numpy(dtype=float)
    return {str(g): float(v) for g, v in zip(by_group.index, values, strict=True)}


def audit_candidate_dimension(
    frame: pd.DataFrame, grouping: Grouping, dimension: str, small_group_threshold: float
) -> DimensionRates:
    groups = frame["id"].map(lambda i: group_of(grouping, i)).astype(str)
    sizes = group_sizes(groups.tolist())
    people = people_sizes(frame["id"].tolist(), groups.tolist())
    small = small_groups(people, small_group_threshold)
    if frame.empty:
        return DimensionRates(dimension=dimension, groups=[], selection_reference_group=None,
                              scoring_reference_group=None, min_selection_impact_ratio=None,
                              min_scoring_impact_ratio=None)
    sel = _rates_by_group(frame["selected"], groups)
    sco = _rates_by_group(frame["above_median"], groups)
    sel_rates = _column(sel, "rate")
    sco_rates = _column(sco, "rate")
    sel_pos, sco_pos = _column(sel, "positive"), _column(sco, "positive")
    sel_ref, sel_ratio = impact_ratios(sel_rates, small)
    sco_ref, sco_ratio = impact_ratios(sco_rates, small)
    total = sum(people.values())
    rows = [
        GroupRates(
            group=g, share_of_sample=people[g] / total, small_group=g in small,
            unknown=is_unknown(g), n_candidates=n, n_people=people[g],
            n_selected=int(sel_pos[g]),
            selection_rate=sel_rates[g], selection_impact_ratio=sel_ratio[g],
            n_scored_above_median=int(sco_pos[g]), scoring_rate=sco_rates[g],
            scoring_impact_ratio=sco_ratio[g],
        )
        for g, n in sizes.items()
    ]
    return DimensionRates(
        dimension=dimension, groups=rows, selection_reference_group=sel_ref,
        scoring_reference_group=sco_ref,
        min_selection_impact_ratio=_min_over_non_small(sel_ratio, small),
        min_scoring_impact_ratio=_min_over_non_small(sco_ratio, small),
    )


def audit_candidate_lists(
    lists: Sequence[RankedList],
    groupings: Mapping[str, Grouping],
    k: int,
    *,
    median_scope: Literal["sample", "list"] = "sample",
    small_group_threshold: float = SMALL_GROUP_THRESHOLD,
) -> CandidateListAudit:
    """Selection / scoring rates and impact ratios per group, for every dimension in
    ``groupings`` (``{dimension: {candidate id: group}}``, see `protected_groupings`).

    Every row of every list is an eligible candidate; the first ``k`` of each list are selected.
    """
    if k < 1:
        raise ValueError("k must be >= 1")
    frame, sample_median = _candidate_frame(lists, k, median_scope)
    return CandidateListAudit(
        k=k, n_lists=len(lists), n_candidates=len(frame),
        n_unique_candidates=int(frame["id"].nunique()) if not frame.empty else 0,
        median_scope=median_scope, sample_median_score=sample_median,
        small_group_threshold=small_group_threshold,
        dimensions=[audit_candidate_dimension(frame, grouping, dim, small_group_threshold)
                    for dim, grouping in groupings.items()],
    )


# --------------------------------------------------------------------------- employee lists


@dataclass(frozen=True)
class RecommendedOpportunity:
    opportunity_id: str
    level: float
    """Seniority of the opportunity (e.g. `Opportunity.level`, 1-5)."""
    quality: float
    """The model's predicted quality of the match (e.g. probability of thriving)."""


@dataclass(frozen=True)
class EmployeeRecommendations:
    """What one employee was shown, in rank order, and their skill fit."""

    employee_id: str
    fit: float
    """Skill fit, comparable across employees (e.g. mean skill match to their top targets)."""
    recommendations: tuple[RecommendedOpportunity, ...]
    stratum: str = ""
    """Optional extra stratum (e.g. current level): bins are (stratum, fit quantile)."""


def fit_bin_edges(fits: Sequence[float], n_bins: int) -> list[float]:
    """Quantile edges of ``fits`` (duplicates dropped, so fewer bins when fits tie)."""
    if not len(fits):
        return []
    edges = np.quantile(np.asarray(fits, dtype=float), np.linspace(0.0, 1.0, n_bins + 1))
    return [float(e) for e in np.unique(edges)]


def assign_fit_bins(fits: Sequence[float], edges: Sequence[float]) -> list[int]:
    """0-based bin of each fit: bin j holds edges[j] <= fit < edges[j+1] (last bin closed)."""
    inner = np.asarray(edges[1:-1], dtype=float)
    return [int(b) for b in np.searchsorted(inner, np.asarray(fits, dtype=float), side="right")]


def _bin_label(bin_index: int, edges: Sequence[float], stratum: str) -> str:
    lo = edges[bin_index] if edges else float("nan")
    hi = edges[min(bin_index + 1, len(edges) - 1)] if edges else float("nan")
    label = f"Q{bin_index + 1} [{lo:.3g}, {hi:.3g}]"
    return f"{stratum} / {label}" if stratum else label


def _standardized(
    cells: pd.DataFrame, column: str, weights: Mapping[str, int], groups: Sequence[str]
) -> dict[str, float | None]:
    """Per group: sum_b w_b * mean_{g,b} / sum_b w_b over the bins where the group has values."""
    out: dict[str, float | None] = {}
    for g in groups:
        sub = cells[(cells["group"] == g) & cells[column].notna()]
        w = np.array([weights[b] for b in sub["fit_bin"]], dtype=float)
        out[g] = float(np.dot(w, sub[column].to_numpy(float)) / w.sum()) if w.sum() > 0 else None
    return out


def _gaps(values: Mapping[str, float | None], ref: str | None) -> dict[str, float | None]:
    best = values.get(ref) if ref is not None else None
    return {g: None if v is None or best is None else float(best - v) for g, v in values.items()}


def audit_employee_dimension(
    employees: Sequence[EmployeeRecommendations],
    grouping: Grouping,
    dimension: str,
    *,
    edges: Sequence[float],
    top_k: int | None,
    small_group_threshold: float,
) -> DimensionOpportunity:
    bins = assign_fit_bins([e.fit for e in employees], edges)
    rows = []
    for emp, b in zip(employees, bins, strict=True):
        recs = emp.recommendations[:top_k] if top_k else emp.recommendations
        rows.append({
            "group": group_of(grouping, emp.employee_id),
            "fit_bin": _bin_label(b, edges, emp.stratum),
            "has_recs": bool(recs),
            "level": sum(r.level for r in recs) / len(recs) if recs else np.nan,
            "quality": sum(r.quality for r in recs) / len(recs) if recs else np.nan,
        })
    frame = pd.DataFrame(rows, columns=["group", "fit_bin", "has_recs", "level", "quality"])
    sizes = group_sizes(frame["group"].tolist())
    small = small_groups(sizes, small_group_threshold)
    shown = frame[frame["has_recs"]]
    cells = (shown.groupby(["fit_bin", "group"], sort=True)
             .agg(n=("level", "size"), level=("level", "mean"), quality=("quality", "mean"))
             .reset_index())
    weights = {str(b): int(n) for b, n in shown.groupby("fit_bin").size().items()}
    groups = list(sizes)
    level = _standardized(cells, "level", weights, groups)
    quality = _standardized(cells, "quality", weights, groups)
    level_ref, level_ratio = impact_ratios(level, small)
    quality_ref, quality_ratio = impact_ratios(quality, small)
    level_gap, quality_gap = _gaps(level, level_ref), _gaps(quality, quality_ref)
    total = sum(sizes.values())
    out_groups = [
        GroupOpportunity(
            group=g, share_of_sample=n / total, small_group=g in small, unknown=is_unknown(g),
            n_employees=n,
            n_without_recommendations=int((~frame.loc[frame["group"] == g, "has_recs"]).sum()),
            adjusted_mean_level=level[g], adjusted_mean_quality=quality[g],
            level_gap=level_gap[g], level_impact_ratio=level_ratio[g],
            quality_gap=quality_gap[g], quality_impact_ratio=quality_ratio[g],
        )
        for g, n in sizes.items()
    ]

    def worst_gap(gaps: Mapping[str, float | None]) -> float | None:
        vals = [v for g, v in gaps.items() if g not in small and v is not None]
        return max(vals) if vals else None

    return DimensionOpportunity(
        dimension=dimension, groups=out_groups,
        bins=[FitBinGroup(fit_bin=str(r["fit_bin"]), group=str(r["group"]),
                          n_employees=int(r["n"]), mean_level=float(r["level"]),
                          mean_quality=float(r["quality"]))
              for r in cells.to_dict("records")],
        level_reference_group=level_ref, quality_reference_group=quality_ref,
        max_level_gap=worst_gap(level_gap), max_quality_gap=worst_gap(quality_gap),
        min_level_impact_ratio=_min_over_non_small(level_ratio, small),
        min_quality_impact_ratio=_min_over_non_small(quality_ratio, small),
    )


def audit_employee_lists(
    employees: Sequence[EmployeeRecommendations],
    groupings: Mapping[str, Grouping],
    *,
    n_bins: int = 5,
    top_k: int | None = None,
    small_group_threshold: float = SMALL_GROUP_THRESHOLD,
) -> EmployeeListAudit:
    """Are employees of equal fit shown equally senior and equally good opportunities?

    ``top_k`` limits each employee's list to what they see first (default: all of it).
    """
    if n_bins < 1:
        raise ValueError("n_bins must be >= 1")
    edges = fit_bin_edges([e.fit for e in employees], n_bins)
    return EmployeeListAudit(
        n_employees=len(employees), n_bins=max(len(edges) - 1, 1 if employees else 0),
        fit_bin_edges=edges, small_group_threshold=small_group_threshold,
        dimensions=[
            audit_employee_dimension(employees, grouping, dim, edges=edges, top_k=top_k,
                                     small_group_threshold=small_group_threshold)
            for dim, grouping in groupings.items()
        ],
    )

