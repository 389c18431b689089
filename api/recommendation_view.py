"""What an employee's list shows its caller: the explanation, no model number.

The model's score is a raw LambdaRank value (often negative, on no stated scale) and a reason's
contribution is its share of that value: neither tells a person anything, and a negative "score"
beside a role reads as a verdict on them (issue 14: "no raw or negative model scores shown to
people"). Items carry their ``rank`` (the order is the model's, after the mix by kind), the
skills met and missing with the evidence, the courses and the reasons in words. The numbers
stay in the served-lists audit log (``served_lists``), and ML teams score slates with
``waypoint rank``.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from api.candidate_view import PlainReason
from features.domain import OpportunityKind
from inference.ranking.responses import (
    OpportunityItem,
    OpportunityRecommendation,
    RecommendationList,
)


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class OpportunityView(OpportunityItem):
    """``rank`` is the position in the served list (``offset + 1`` onwards)."""

    reasons: list[PlainReason]


class RecommendationListView(_View):
    employee_id: str
    model_version: str
    as_of: date
    kinds: list[OpportunityKind]
    items: list[OpportunityView]
    offset: int = 0
    """Served positions ``offset + 1`` onwards (paging)."""
    total: int = 0
    """How many items the whole served list holds (after dismissals and filters)."""
    served_list_id: str | None = None
    """The audit-log row of this list (``served_lists``)."""


def opportunity_view(item: OpportunityRecommendation) -> OpportunityView:
    fields = item.model_dump(exclude={"score", "reasons"})
    return OpportunityView(**fields, reasons=[PlainReason(feature=r.feature, text=r.text)
                                              for r in item.reasons])


def recommendation_view(result: RecommendationList) -> RecommendationListView:
    return RecommendationListView(
        employee_id=result.employee_id, model_version=result.model_version, as_of=result.as_of,
        kinds=result.kinds, items=[opportunity_view(i) for i in result.items],
        offset=result.offset, total=result.total, served_list_id=result.served_list_id)
