"""``GET`` / ``PUT /v1/employees/{employee_id}/discoverability``: the candidate-search opt-in.

Who: the employee themself reads and changes it (any role token of theirs); hr_admin may read
it; nobody else (managers included: whether a report is looking is their own business).

Effect: ``Employee.discoverable`` is updated in the store (``Store.set_discoverable``). Recruiters
and hiring managers see only opted-in employees: candidate lists re-read the flags from the store
on every list (``Recommender.refresh_discoverable``), so a change counts at once, without a model
reload; ``authorize_candidate_view`` reads the store too.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from api.deps import StoreDep
from api.ratelimit import rate_limited
from api.security import Principal, UserRole, forbidden, get_current_principal
from api.security.objects import not_found
from features.domain import Employee
from features.store import Store

router = APIRouter(prefix="/v1/employees", tags=["discoverability"],
                   dependencies=[Depends(get_current_principal)])


class Discoverability(BaseModel):
    employee_id: str
    discoverable: bool
    """Whether recruiters and hiring managers may find this employee as a candidate."""


class DiscoverabilityUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    discoverable: bool


def _authorize(principal: Principal, employee_id: str, store: Store, *, write: bool) -> Employee:
    employee = store.employee(employee_id)
    if employee is None:
        raise not_found("employee", employee_id)
    if principal.employee_id == employee_id:
        return employee
    if not write and principal.role == UserRole.HR_ADMIN:
        return employee
    raise forbidden("only the employee may change their discoverability (hr_admin may read it)"
                    if write else "only the employee and hr_admin may read discoverability")


@router.get("/{employee_id}/discoverability", response_model=Discoverability)
def get_discoverability(
    employee_id: str, store: StoreDep,
    principal: Annotated[Principal, Depends(rate_limited("employees.discoverability.get"))],
) -> Discoverability:
    """Whether the employee is open to being found as a candidate (self, hr_admin)."""
    employee = _authorize(principal, employee_id, store, write=False)
    return Discoverability(employee_id=employee.id, discoverable=employee.discoverable)


@router.put("/{employee_id}/discoverability", response_model=Discoverability)
def put_discoverability(
    employee_id: str, body: DiscoverabilityUpdate, store: StoreDep,
    principal: Annotated[Principal, Depends(rate_limited("employees.discoverability", 30))],
) -> Discoverability:
    """Opt in to (``true``) or out of (``false``) candidate search; yourself only."""
    _authorize(principal, employee_id, store, write=True)
    updated = store.set_discoverable(employee_id, body.discoverable)
    if updated is None:  # deleted between the check and the write
        raise not_found("employee", employee_id)
    return Discoverability(employee_id=updated.id, discoverable=updated.discoverable)
