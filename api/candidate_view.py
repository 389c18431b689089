"""What a candidate list shows its caller: no pre-re-ranking position or score, and group figures
only for a fixed, large prefix, rounded and cell-suppressed (docs/security.md, "Candidate lists").

Why: fair re-ranking moves people by group, so anything that lets a caller compare the served
order with the model's order (a ``model_rank``, a model score, a before/after count) or compare
the figures of two prefixes (``limit=k-1`` against ``limit=k``) reads a person's group off the
list. The rule:

- items carry the shown ``rank`` and the explanation (skills, reasons in words), never a model
  score, a model rank or a reason's numeric contribution;
- the figures always describe the top `FIGURES_PREFIX` positions of the re-ranked list, whatever
  ``limit`` is, and are withheld when the pool of candidates retrieved is smaller than that;
- shares are rounded to `SHARE_STEP`; a group's cell is suppressed (``None``) when it counts
  fewer than ``min_cell`` people, or all but fewer than ``min_cell`` of them;
- no count before re-ranking, no moved positions: the detailed figures go to the served-lists
  audit log only (HR and ML admins audit them in aggregate, ``waypoint audit --served``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from pydantic import BaseModel, ConfigDict

from inference.fairness.serving import ListFairness
from inference.ranking.responses import (
    CandidateList,
    CandidateRecommendation,
    MatchedSkill,
    MissingSkill,
)

FIGURES_PREFIX = 20
"""The one prefix the group figures describe (and the smallest pool they are shown for)."""
SHARE_STEP = 0.1
"""Shares are rounded to this step (two people of a 20-person prefix)."""


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class PlainReason(_View):
    """A reason in plain words (its numeric contribution would approximate the model score)."""

    feature: str
    text: str


class CandidateView(_View):
    rank: int
    """Position in the served (fairly re-ranked) list."""
    employee_id: str
    name: str
    role_id: str
    role_title: str | None
    level: int
    department_id: str
    location: str
    matched_skills: list[MatchedSkill]
    missing_skills: list[MissingSkill]
    reasons: list[PlainReason]


class GroupShare(_View):
    group: str
    pool_share: float | None
    """Share of the candidates retrieved (the pool), rounded; None when the cell is
    suppressed."""
    top_share: float | None
    """Share of the top ``prefix`` positions, rounded; None when the cell is suppressed."""


class CandidateListFairness(_View):
    """Rounded group figures of the top ``prefix`` positions (the same for every ``limit``)."""

    dimension: str
    rerank_enabled: bool
    prefix: int
    """The figures describe the top ``prefix`` positions of the re-ranked list."""
    pool_size: int
    figures_shown: bool
    """False when the pool is smaller than ``prefix``: no group figure is given then."""
    groups: list[GroupShare]
    floors_met: bool | None
    """Every prefix of the re-ranked top keeps each group's floor (None: figures withheld)."""
    min_impact_ratio: float | None
    """Rounded; None when withheld or when a group's cell is suppressed."""
    flag: str | None = None
    """One plain sentence, with what to do, when a group's share of the top is under
    `FOUR_FIFTHS` of its share of the candidates retrieved (`fairness_flag`); None otherwise."""


FOUR_FIFTHS = 0.8
"""The guideline a group's top share is held to, relative to its pool share."""


def fairness_flag(prefix: int, groups: Sequence[GroupShare],
                  min_impact_ratio: float | None) -> str | None:
    """The recruiter's sentence for a low impact ratio: which group, its shares, what to do.
    Only shown figures count (a suppressed cell or a withheld ratio is never a finding)."""
    if min_impact_ratio is None or min_impact_ratio >= FOUR_FIFTHS:
        return None
    shown = [g for g in groups if g.pool_share and g.top_share is not None]
    if not shown:
        return None
    worst = min(shown, key=lambda g: (g.top_share or 0.0) / (g.pool_share or 1.0))
    return (f"{worst.group} make up {_percent(worst.pool_share)} of the candidates retrieved "
            f"but {_percent(worst.top_share)} of the top {prefix}. Before you shortlist, look "
            f"further down the list for qualified {worst.group} candidates, and tell HR if "
            "this happens again for this role.")


def _percent(share: float | None) -> str:
    return f"{round((share or 0.0) * 100)}%"


class CandidateListView(_View):
    role_id: str | None
    role_title: str
    opportunity_id: str | None = None
    """Set for an opening's list (``/v1/opportunities/{id}/candidates``)."""
    title: str | None = None
    location: str | None = None
    level: int | None = None
    closes_on: date | None = None
    hours_per_week: float | None = None
    model_version: str
    as_of: date
    items: list[CandidateView]
    fairness: CandidateListFairness | None
    served_list_id: str | None = None


def rounded(share: float) -> float:
    """``share`` to the nearest `SHARE_STEP` (halves up)."""
    steps = round(1 / SHARE_STEP)
    return math.floor(share * steps + 0.5) / steps


def rounded_shares(shares: Sequence[float]) -> list[float]:
    """Shares that add up to one, each to a `SHARE_STEP` (largest remainders get the steps
    rounding down left over; ties go to the earlier group), so that a panel never shows
    groups summing to 110%."""
    steps = round(1 / SHARE_STEP)
    scaled = [s * steps for s in shares]
    base = [math.floor(v) for v in scaled]
    left = round(sum(scaled)) - sum(base)
    order = sorted(range(len(shares)), key=lambda i: (-(scaled[i] - base[i]), i))
    for i in order[:max(0, left)]:
        base[i] += 1
    return [b / steps for b in base]


def shown_cell(count: int, total: int, min_cell: int) -> bool:
    """A cell is shown only when it and its complement both hold ``min_cell`` people or more."""
    return count >= min_cell and total - count >= min_cell


def public_fairness(figures: ListFairness | None) -> CandidateListFairness | None:
    """The caller's view of the detailed figures of the top `FIGURES_PREFIX` positions."""
    if figures is None:
        return None
    shown = figures.list_size >= FIGURES_PREFIX and figures.pool_size >= FIGURES_PREFIX
    if shown and figures.list_size != FIGURES_PREFIX:
        raise ValueError(f"figures must describe the top {FIGURES_PREFIX}, "
                         f"not {figures.list_size}")
    groups: list[GroupShare] = []
    suppressed = False
    if shown:
        pool_shares = rounded_shares([g.pool_share for g in figures.groups])
        top_shares = rounded_shares([g.list_share for g in figures.groups])
        for g, pool_share, top_share in zip(figures.groups, pool_shares, top_shares,
                                            strict=True):
            in_pool = shown_cell(g.pool_count, figures.pool_size, figures.min_cell)
            in_top = shown_cell(g.list_count, figures.list_size, figures.min_cell)
            suppressed = suppressed or not in_top
            groups.append(GroupShare(group=g.group,
                                     pool_share=pool_share if in_pool else None,
                                     top_share=top_share if in_top else None))
    ratio = figures.min_impact_ratio
    public_ratio = rounded(ratio) if shown and not suppressed and ratio is not None else None
    return CandidateListFairness(
        dimension=figures.dimension, rerank_enabled=figures.rerank_enabled,
        prefix=FIGURES_PREFIX, pool_size=figures.pool_size, figures_shown=shown, groups=groups,
        floors_met=(figures.prefix_floor_violations == 0) if shown else None,
        min_impact_ratio=public_ratio,
        flag=fairness_flag(FIGURES_PREFIX, groups, public_ratio))


def candidate_view(item: CandidateRecommendation) -> CandidateView:
    return CandidateView(
        rank=item.rank, employee_id=item.employee_id, name=item.name, role_id=item.role_id,
        role_title=item.role_title, level=item.level, department_id=item.department_id,
        location=item.location, matched_skills=item.matched_skills,
        missing_skills=item.missing_skills,
        reasons=[PlainReason(feature=r.feature, text=r.text) for r in item.reasons])


def candidate_list_view(items: CandidateList, figures: CandidateList,
                        served_list_id: str | None) -> CandidateListView:
    """``items``' candidates with the rounded figures of ``figures`` (the top-prefix list)."""
    return CandidateListView(
        role_id=items.role_id, role_title=items.role_title,
        opportunity_id=items.opportunity_id, title=items.title, location=items.location,
        level=items.level, closes_on=items.closes_on, hours_per_week=items.hours_per_week,
        model_version=items.model_version,
        as_of=items.as_of, items=[candidate_view(i) for i in items.items],
        fairness=public_fairness(figures.fairness), served_list_id=served_list_id)
