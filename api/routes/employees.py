"""``GET /v1/employees`` (hr_admin, paged, rate limited) and ``GET /v1/employees/{employee_id}``.

Responses list their fields explicitly, one schema per view, so nothing added to the domain
model later, and no protected attribute, leaks through here. Least privilege: the employee and
hr_admin get `EmployeeRecord`; a manager looking at a report gets `ReportEmployeeRecord`, without
``discoverable`` (whether a report is looking is their own business) and ``part_time`` (a proxy
of sex, read by the fairness code only).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Self

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from api.deps import StoreDep
from api.ratelimit import rate_limited
from api.security import Principal, UserRole, authorize_employee, forbidden
from features.domain import Employee

router = APIRouter(tags=["employees"])


MAX_OFFSET = 10_000_000
"""Beyond any organization; larger offsets are a 422 (SQLite integers stop at 2**63)."""


class ReportEmployeeRecord(BaseModel):
    """A manager's view of a report: their job, nothing about their job search or hours."""

    model_config = ConfigDict(extra="forbid")  # a full record never passes for this one

    id: str
    name: str
    role_id: str
    level: int
    hired_on: date
    role_since: date
    department_id: str
    location: str
    manager_id: str | None
    is_recruiter: bool

    @classmethod
    def of(cls, employee: Employee) -> Self:
        return cls.model_validate(
            {name: getattr(employee, name) for name in cls.model_fields})


class EmployeeRecord(ReportEmployeeRecord):
    """The employee's own record (and hr_admin's view of anyone): the report view plus what
    only they may see."""

    discoverable: bool
    part_time: bool


class EmployeePage(BaseModel):
    items: list[EmployeeRecord]
    limit: int
    offset: int
    total: int


@router.get("/v1/employees", response_model=EmployeePage)
def list_employees(
    principal: Annotated[Principal, Depends(rate_limited("employees.list"))],
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> EmployeePage:
    """Every employee, in id order (hr_admin only)."""
    if principal.role != UserRole.HR_ADMIN:
        raise forbidden("listing employees needs the hr_admin role")
    employees = store.employees(limit=limit, offset=offset)
    return EmployeePage(items=[EmployeeRecord.of(e) for e in employees], limit=limit,
                        offset=offset, total=store.counts().employees)


@router.get("/v1/employees/{employee_id}",
            response_model=EmployeeRecord | ReportEmployeeRecord)
def get_employee(
    employee_id: str, store: StoreDep,
    principal: Annotated[Principal, Depends(rate_limited("employees.get"))],
) -> EmployeeRecord | ReportEmployeeRecord:
    """One employee: yourself or anyone as hr_admin (`EmployeeRecord`); a report as their
    manager (`ReportEmployeeRecord`: no discoverability, no part-time flag)."""
    employee = authorize_employee(principal, employee_id, store)
    if principal.role == UserRole.HR_ADMIN or principal.employee_id == employee_id:
        return EmployeeRecord.of(employee)
    return ReportEmployeeRecord.of(employee)
