"""``GET /v1/employees/{employee_id}/saved``: the opportunities a person saved for later.

Saving is ``POST /v1/events`` with ``kind: saved`` (durable, with an idempotency key, as every
event is); "not interested" on a saved item later takes it off this list. Items are listed newest
save first, whatever their status now (a closed one says so), one per opportunity.

Who: the employee themself and hr_admin; nobody else, managers included: like discoverability,
what a person is looking at is their own business (a manager sees a report's recommendations,
not what the report chose to keep).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from api.deps import StoreDep
from api.ratelimit import rate_limited
from api.security import Principal, UserRole, forbidden, get_current_principal
from api.security.objects import not_found
from features.domain import OpportunityKind, OpportunityStatus
from features.live_store import saved_events

router = APIRouter(prefix="/v1/employees", tags=["saved"],
                   dependencies=[Depends(get_current_principal)])


class SavedItem(BaseModel):
    opportunity_id: str
    title: str
    kind: OpportunityKind
    status: OpportunityStatus
    location: str
    level: int
    department_id: str
    owner_id: str | None
    closes_on: date | None
    hours_per_week: float | None = None
    """The expected time commitment in hours a week (None: not stated)."""
    saved_at: datetime


class SavedList(BaseModel):
    employee_id: str
    items: list[SavedItem]
    total: int


@router.get("/{employee_id}/saved", response_model=SavedList)
def saved_items(
    employee_id: str, store: StoreDep,
    principal: Annotated[Principal, Depends(rate_limited("employees.saved"))],
) -> SavedList:
    """The opportunities you saved, newest first (yourself; hr_admin may read anyone's)."""
    if store.employee(employee_id) is None:
        raise not_found("employee", employee_id)
    if principal.employee_id != employee_id and principal.role is not UserRole.HR_ADMIN:
        raise forbidden("only the employee and hr_admin may see what they saved")
    items = []
    for event in saved_events(store, employee_id):
        opportunity = store.opportunity(str(event.opportunity_id))
        if opportunity is None:  # removed from the store since: nothing to show
            continue
        moment = event.occurred_at  # SQLite hands back naive datetimes; all are UTC
        items.append(SavedItem(
            opportunity_id=opportunity.id, title=opportunity.title, kind=opportunity.kind,
            status=opportunity.status, location=opportunity.location, level=opportunity.level,
            department_id=opportunity.department_id, owner_id=opportunity.owner_id,
            closes_on=opportunity.closes_on, hours_per_week=opportunity.hours_per_week,
            saved_at=moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment))
    return SavedList(employee_id=employee_id, items=items, total=len(items))
