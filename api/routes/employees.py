"""``GET /v1/employees`` (hr_admin, paged, rate limited) and ``GET /v1/employees/{employee_id}``.

Responses list their fields explicitly (`EmployeeRecord`), so nothing added to the domain model
later, and no protected attribute, leaks through here.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from api.deps import StoreDep
from api.ratelimit import rate_limited
from api.security import CurrentUser, Principal, UserRole, authorize_employee, forbidden
from features.domain import Employee

router = APIRouter(tags=["employees"])


class EmployeeRecord(BaseModel):
    id: str
    name: str
    role_id: str
    level: int
    hired_on: date
    role_since: date
    department_id: str
    location: str
    manager_id: str | None
    discoverable: bool
    part_time: bool
    is_recruiter: bool

    @classmethod
    def of(cls, employee: Employee) -> EmployeeRecord:
        return cls.model_validate(
            {name: getattr(employee, name) for name in cls.model_fields})


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
    offset: Annotated[int, Query(ge=0)] = 0,
) -> EmployeePage:
    """Every employee, in id order (hr_admin only)."""
    if principal.role != UserRole.HR_ADMIN:
        raise forbidden("listing employees needs the hr_admin role")
    employees = store.employees(limit=limit, offset=offset)
    return EmployeePage(items=[EmployeeRecord.of(e) for e in employees], limit=limit,
                        offset=offset, total=store.counts().employees)


@router.get("/v1/employees/{employee_id}", response_model=EmployeeRecord)
def get_employee(employee_id: str, principal: CurrentUser, store: StoreDep) -> EmployeeRecord:
    """One employee: yourself, your reports (manager), anyone (hr_admin)."""
    return EmployeeRecord.of(authorize_employee(principal, employee_id, store))
