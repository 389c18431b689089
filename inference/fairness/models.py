"""Typed, JSON-serializable results of the fairness audit.

Every impact ratio sits under a key containing ``impact_ratio`` (per group and the per-dimension
minimum over non-small groups), so the audit CLI's ``--json`` can be grepped and the gate can walk
them generically with `iter_impact_ratios`. Undefined values (e.g. a ratio against a best rate of
0) are ``None``, never NaN, so the JSON stays valid.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GroupFlags(_Model):
    group: str
    share_of_sample: float = Field(ge=0.0, le=1.0)
    """The group's share of the distinct people in the sample (the unit of the small-group
    rule: a person listed in 50 candidate lists is one person, not 50)."""
    small_group: bool
    """Under the small-group threshold (2 % of the sample's people by default): shown, not
    gated."""
    unknown: bool
    """The ``unknown`` category (missing / undisclosed value), or an intersection with an
    unknown component."""


# --------------------------------------------------------------------------- candidate lists


class GroupRates(GroupFlags):
    """Selection and scoring figures of one group across all audited candidate lists."""

    n_candidates: int = Field(ge=0)
    """Eligible candidate rows (a person listed for two roles counts twice)."""
    n_people: int | None = Field(default=None, ge=0)
    """Distinct people behind those rows."""
    n_selected: int = Field(ge=0)
    """Rows placed in the top k of their list."""
    selection_rate: float
    selection_impact_ratio: float | None
    n_scored_above_median: int = Field(ge=0)
    scoring_rate: float
    scoring_impact_ratio: float | None


class DimensionRates(_Model):
    dimension: str
    groups: list[GroupRates]
    selection_reference_group: str | None
    """The group with the highest selection rate among non-small groups (the denominator)."""
    scoring_reference_group: str | None
    min_selection_impact_ratio: float | None
    """Minimum over non-small groups; ``None`` when none is defined."""
    min_scoring_impact_ratio: float | None


class CandidateListAudit(_Model):
    k: int
    n_lists: int
    n_candidates: int
    n_unique_candidates: int
    median_scope: Literal["sample", "list"]
    sample_median_score: float | None
    """The pooled median when ``median_scope == "sample"``."""
    small_group_threshold: float
    dimensions: list[DimensionRates]


# --------------------------------------------------------------------------- ranking-aware


class GroupExposure(GroupFlags):
    n_candidates: int = Field(ge=0)
    n_people: int | None = Field(default=None, ge=0)
    """Distinct people behind the ``n_candidates`` rows."""
    exposure: float
    """Sum over lists of 1/log2(1 + rank) for the group's members (ranks beyond k weigh 0)."""
    share_of_exposure: float
    mean_exposure: float
    """Exposure per member (exposure / n_candidates)."""
    exposure_impact_ratio: float | None
    """mean_exposure / the best non-small group's mean_exposure."""
    mean_skew_at_k: float | None
    """Mean over lists (where the group is in the pool) of log(p_{i,k} / p_i)."""
    min_skew_at_k: float | None


class DimensionRanking(_Model):
    dimension: str
    groups: list[GroupExposure]
    exposure_reference_group: str | None
    min_exposure_impact_ratio: float | None
    mean_ndkl: float | None
    max_ndkl: float | None


class RankingAudit(_Model):
    k: int | None
    """Cut-off for exposure and skew (``None``: the whole list)."""
    n_lists: int
    small_group_threshold: float
    dimensions: list[DimensionRanking]


# --------------------------------------------------------------------------- employee-facing


class FitBinGroup(_Model):
    """One (fit bin, group) cell of the employee-facing comparison."""

    fit_bin: str
    group: str
    n_employees: int
    mean_level: float | None
    mean_quality: float | None


class GroupOpportunity(GroupFlags):
    n_employees: int
    n_without_recommendations: int
    adjusted_mean_level: float | None
    """Mean recommended level, standardized over fit bins (weights: overall bin sizes)."""
    adjusted_mean_quality: float | None
    level_gap: float | None
    """Reference group's adjusted mean level minus this group's (positive: shown less senior)."""
    level_impact_ratio: float | None
    quality_gap: float | None
    quality_impact_ratio: float | None


class DimensionOpportunity(_Model):
    dimension: str
    groups: list[GroupOpportunity]
    bins: list[FitBinGroup]
    level_reference_group: str | None
    quality_reference_group: str | None
    max_level_gap: float | None
    max_quality_gap: float | None
    min_level_impact_ratio: float | None
    min_quality_impact_ratio: float | None


class EmployeeListAudit(_Model):
    n_employees: int
    n_bins: int
    fit_bin_edges: list[float]
    small_group_threshold: float
    dimensions: list[DimensionOpportunity]


# --------------------------------------------------------------------------- ndcg and the whole


class NdcgChange(_Model):
    """NDCG@k before and after fair re-ranking (mean over lists)."""

    k: int
    n_lists: int
    before: float
    after: float
    delta: float
    """after - before (negative: the cost of re-ranking)."""


class FairnessAudit(_Model):
    """Everything one audit run measured; each section is optional."""

    subject: str = ""
    """What was audited (e.g. a model version)."""
    candidate_lists: CandidateListAudit | None = None
    rankings: RankingAudit | None = None
    employee_lists: EmployeeListAudit | None = None
    ndcg: NdcgChange | None = None


# --------------------------------------------------------------------------- walking the ratios


class ImpactRatioFigure(_Model):
    """One per-group impact ratio, with the context the gate and the report need."""

    section: Literal["candidate_lists", "rankings", "employee_lists"]
    dimension: str
    group: str
    metric: str
    """The field name, e.g. ``selection_impact_ratio``."""
    value: float | None
    reference_group: str | None
    small_group: bool
    unknown: bool
    detail: str
    """The figures behind the ratio, in words."""


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _people(n: int | None) -> str:
    return "" if n is None else f" ({n} people)"


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3g}"


def iter_impact_ratios(audit: FairnessAudit) -> Iterator[ImpactRatioFigure]:
    """Every per-group impact ratio in ``audit``, small groups included (flagged)."""
    if audit.candidate_lists is not None:
        for dim in audit.candidate_lists.dimensions:
            for g in dim.groups:
                yield ImpactRatioFigure(
                    section="candidate_lists", dimension=dim.dimension, group=g.group,
                    metric="selection_impact_ratio", value=g.selection_impact_ratio,
                    reference_group=dim.selection_reference_group, small_group=g.small_group,
                    unknown=g.unknown,
                    detail=f"selection rate {_pct(g.selection_rate)}: {g.n_selected} of "
                    f"{g.n_candidates} placed in the top {audit.candidate_lists.k}"
                    f"{_people(g.n_people)}",
                )
                yield ImpactRatioFigure(
                    section="candidate_lists", dimension=dim.dimension, group=g.group,
                    metric="scoring_impact_ratio", value=g.scoring_impact_ratio,
                    reference_group=dim.scoring_reference_group, small_group=g.small_group,
                    unknown=g.unknown,
                    detail=f"scoring rate {_pct(g.scoring_rate)}: {g.n_scored_above_median} "
                    f"of {g.n_candidates} scored above the median{_people(g.n_people)}",
                )
    if audit.rankings is not None:
        for rdim in audit.rankings.dimensions:
            for e in rdim.groups:
                yield ImpactRatioFigure(
                    section="rankings", dimension=rdim.dimension, group=e.group,
                    metric="exposure_impact_ratio", value=e.exposure_impact_ratio,
                    reference_group=rdim.exposure_reference_group, small_group=e.small_group,
                    unknown=e.unknown,
                    detail=f"exposure per member {_num(e.mean_exposure)} over "
                    f"{e.n_candidates} listed{_people(e.n_people)} "
                    f"({_pct(e.share_of_exposure)} of all exposure)",
                )
    if audit.employee_lists is not None:
        for odim in audit.employee_lists.dimensions:
            for o in odim.groups:
                yield ImpactRatioFigure(
                    section="employee_lists", dimension=odim.dimension, group=o.group,
                    metric="level_impact_ratio", value=o.level_impact_ratio,
                    reference_group=odim.level_reference_group, small_group=o.small_group,
                    unknown=o.unknown,
                    detail=f"fit-adjusted mean level recommended {_num(o.adjusted_mean_level)} "
                    f"(gap {_num(o.level_gap)}) over {o.n_employees} employees",
                )
                yield ImpactRatioFigure(
                    section="employee_lists", dimension=odim.dimension, group=o.group,
                    metric="quality_impact_ratio", value=o.quality_impact_ratio,
                    reference_group=odim.quality_reference_group, small_group=o.small_group,
                    unknown=o.unknown,
                    detail=f"fit-adjusted mean predicted quality "
                    f"{_num(o.adjusted_mean_quality)} (gap {_num(o.quality_gap)}) over "
                    f"{o.n_employees} employees",
                )
