"""``GET /v1/employees/{employee_id}/recommendations``: ranked open opportunities for an employee.

Who: the employee, their managers (direct or indirect), hr_admin (``authorize_employee``).
Filters (``kinds``, ``location``, ``level``, ``department``: comma-separated, values ORed, filters
ANDed) and paging (``offset``, ``limit``) are applied in the serving pipeline, before the list is
cut; the default list is mixed by kind (``serving.mix``); items the person dismissed ("not
interested") are never in it. Each item carries its rank, the matched skills (with the evidence
behind them), the missing skills, courses that close the gap and the main reasons in plain
words; no model score (``api.recommendation_view``). Every served list is
appended to the ``served_lists`` audit log. 503 until a champion model is loaded.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query

from api.deps import StoreDep
from api.ratelimit import heavy_limited, list_cost
from api.recommendation_view import RecommendationListView, recommendation_view
from api.security import Principal, authorize_employee, get_current_principal
from api.serving import AuditLogDep, ServingModelDep, recommender_of
from features.domain import OpportunityKind
from inference.ranking.pipeline import ListFilter
from inference.ranking.recommender import UnknownSubject
from inference.serving.audit_log import served_list

router = APIRouter(prefix="/v1/employees", tags=["recommendations"],
                   dependencies=[Depends(get_current_principal)])
KINDS = ", ".join(k.value for k in OpportunityKind)


def parse_kinds(kinds: str | None) -> list[OpportunityKind] | None:
    """``open_role,project`` -> kinds; 422 naming the unknown ones."""
    if kinds is None or not kinds.strip():
        return None
    values = [v.strip() for v in kinds.split(",") if v.strip()]
    unknown = [v for v in values if v not in OpportunityKind._value2member_map_]
    if unknown:
        raise HTTPException(422, f"unknown opportunity kind(s) {', '.join(unknown)}; "
                                 f"use any of: {KINDS}")
    return [OpportunityKind(v) for v in dict.fromkeys(values)]


def parse_values(name: str, raw: str | None, limit: int = 20) -> frozenset[str]:
    """``a,b`` -> {"a", "b"}; 422 for more than ``limit`` values or one over 64 characters."""
    if raw is None:
        return frozenset()
    values = {v.strip() for v in raw.split(",") if v.strip()}
    if len(values) > limit or any(len(v) > 64 for v in values):
        raise HTTPException(422, f"{name}: at most {limit} comma-separated values of at most "
                                 "64 characters")
    return frozenset(values)


def parse_levels(raw: str | None) -> frozenset[int]:
    """``2,3`` -> {2, 3}; 422 naming a value that is not a level 1-5."""
    values = parse_values("level", raw)
    bad = sorted(v for v in values if v not in {"1", "2", "3", "4", "5"})
    if bad:
        raise HTTPException(422, f"level: {', '.join(bad)} is not a level; use 1 to 5")
    return frozenset(int(v) for v in values)


@router.get("/{employee_id}/recommendations", response_model=RecommendationListView,
            responses={503: {"description": "no champion model is loaded"}})
def recommendations(
    employee_id: str, store: StoreDep, serving: ServingModelDep, audit: AuditLogDep,
    principal: Annotated[Principal, Depends(heavy_limited("employees.recommendations",
                                                          cost=list_cost))],
    kinds: Annotated[str | None, Query(description=f"comma-separated, any of: {KINDS}")] = None,
    location: Annotated[str | None, Query(description="comma-separated locations")] = None,
    level: Annotated[str | None, Query(description="comma-separated levels (1-5)")] = None,
    department: Annotated[str | None, Query(description="comma-separated department ids")
                          ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1000)] = 0,
) -> RecommendationListView:
    """Ranked open opportunities (roles, projects, gigs, rotations, mentorships) for one
    employee: yourself, your reports (manager), anyone (hr_admin); filtered and paged."""
    wanted = parse_kinds(kinds)
    filters = ListFilter(kinds=frozenset(wanted or ()),
                         locations=parse_values("location", location),
                         levels=parse_levels(level),
                         departments=parse_values("department", department))
    authorize_employee(principal, employee_id, store)
    recommender = recommender_of(serving)
    try:
        result = recommender.recommend(employee_id, limit=limit, offset=offset,
                                       wanted=filters)
    except UnknownSubject as exc:
        raise HTTPException(404, str(exc)) from None
    if audit is not None:
        record = served_list(
            user_id=principal.user_id, requester_role=principal.role.value,
            endpoint="recommendations", subject_id=employee_id, model_version=result.model_version,
            items=[(i.opportunity_id, i.score) for i in result.items], first_rank=offset + 1)
        result = result.model_copy(update={"served_list_id": audit.record(record)})
    return recommendation_view(result)
