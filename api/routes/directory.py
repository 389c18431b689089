"""Who is who, for the web page's pickers: a manager's reports, the roles a recruiter owns, and
(demo mode only) the demo accounts to sign in with.

- ``GET /v1/employees/{employee_id}/reports``: the employee's direct and indirect reports
  (direct first); who: the employee, their managers, hr_admin (``authorize_employee``).
- ``GET /v1/employees/{employee_id}/owned-roles``: the roles whose candidates the employee may
  see as a recruiter (open ``open_role`` opportunities they own) with those openings; same who.
- ``GET /v1/auth/demo-users``: in demo mode, the default demo user of each access role (the same
  ones ``waypoint token --as ROLE`` picks). The route exists only in demo mode (``demo_router``;
  404 otherwise). No token needed: in demo mode every demo password is ``demo`` anyway.

Responses list their fields explicitly; none carries a protected attribute.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel
from sqlalchemy import select

from api.deps import SettingsDep, StoreDep
from api.ratelimit import address_limited, rate_limited
from api.security import (
    Principal,
    UserRole,
    authorize_employee,
    demo_user_for,
    get_current_principal,
    report_ids,
)
from api.security.objects import owned_opportunities
from features import tables as t
from features.domain import OpportunityKind

people = APIRouter(prefix="/v1/employees", tags=["directory"],
                   dependencies=[Depends(get_current_principal)])
demo_router = APIRouter(tags=["auth"])


class ReportRecord(BaseModel):
    id: str
    name: str
    role_id: str
    role_title: str | None
    level: int
    manager_id: str | None
    direct: bool
    """Reports to the manager directly (else through someone below them)."""


class ReportList(BaseModel):
    manager_id: str
    items: list[ReportRecord]
    total: int
    """All reports, direct and indirect (``items`` holds at most ``limit`` of them)."""


class Opening(BaseModel):
    id: str
    title: str
    level: int
    location: str


class OwnedRole(BaseModel):
    role_id: str
    title: str
    level: int
    openings: list[Opening]


class OwnedRoleList(BaseModel):
    employee_id: str
    items: list[OwnedRole]


class DemoUser(BaseModel):
    role: UserRole
    user_id: str
    name: str | None
    """The employee's name (None for the built-in admin accounts)."""


class DemoUsers(BaseModel):
    password: str
    items: list[DemoUser]


@people.get("/{employee_id}/reports", response_model=ReportList)
def reports(
    employee_id: str, store: StoreDep,
    principal: Annotated[Principal, Depends(rate_limited("employees.reports"))],
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> ReportList:
    """Direct and indirect reports of an employee, direct ones first, then by id (yourself,
    your reports as a manager, anyone for hr_admin)."""
    authorize_employee(principal, employee_id, store)
    ids = report_ids(store, employee_id) - store.departed_ids()  # leavers report to no one
    e, r = t.employees, t.roles
    query = (select(e.c.id, e.c.name, e.c.role_id, r.c.title.label("role_title"), e.c.level,
                    e.c.manager_id)
             .select_from(e.outerjoin(r, e.c.role_id == r.c.id))
             .where(e.c.id.in_(sorted(ids))))
    with store.engine.connect() as conn:
        rows = [dict(row) for row in conn.execute(query).mappings()]
    rows.sort(key=lambda row: (row["manager_id"] != employee_id, row["id"]))
    items = [ReportRecord(**row, direct=row["manager_id"] == employee_id) for row in rows[:limit]]
    return ReportList(manager_id=employee_id, items=items, total=len(rows))


@people.get("/{employee_id}/owned-roles", response_model=OwnedRoleList)
def owned_roles(
    employee_id: str, store: StoreDep,
    principal: Annotated[Principal, Depends(rate_limited("employees.owned_roles"))],
) -> OwnedRoleList:
    """Roles the employee owns an open opening for (whose candidates they may see acting as
    recruiter), with those openings (yourself, your reports, anyone for hr_admin)."""
    authorize_employee(principal, employee_id, store)
    openings: dict[str, list[Opening]] = {}
    for opp in owned_opportunities(store, employee_id):
        if opp.kind == OpportunityKind.OPEN_ROLE and opp.role_id:
            openings.setdefault(opp.role_id, []).append(
                Opening(id=opp.id, title=opp.title, level=opp.level, location=opp.location))
    items = []
    for role_id in sorted(openings):
        role = store.role(role_id)
        if role is not None:
            items.append(OwnedRole(role_id=role.id, title=role.title, level=role.level,
                                   openings=sorted(openings[role_id], key=lambda o: o.id)))
    return OwnedRoleList(employee_id=employee_id, items=items)


@demo_router.get("/v1/auth/demo-users", response_model=DemoUsers)
def demo_users(
    settings: SettingsDep, store: StoreDep,
    _limit: Annotated[None, Depends(address_limited("auth.demo_users"))],
) -> DemoUsers:
    """Demo mode only: the default demo user of each access role and the demo password."""
    if not settings.demo_mode:
        raise HTTPException(404, "demo accounts exist only in demo mode")
    from api.security.principals import DEMO_PASSWORD

    items = []
    for role in UserRole:
        user = demo_user_for(store, role)
        if user is None:
            continue
        employee = store.employee(user)
        items.append(DemoUser(role=role, user_id=user,
                              name=employee.name if employee else None))
    return DemoUsers(password=DEMO_PASSWORD, items=items)


router = people
