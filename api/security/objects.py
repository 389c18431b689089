"""Object-level authorization (OWASP API1): plain functions a handler calls with the id it got.

Each returns the object when the principal may see it and raises ``HTTPException``: 404 when
the id does not exist, 410 when it names an employee who left the organization (their
employee views are closed for every caller; history stays in the store), 403 when it exists but
the caller may not see it.
"""

from __future__ import annotations

from datetime import date

from fastapi import HTTPException, status
from sqlalchemy import select

from api.security.dependencies import forbidden
from api.security.principals import Principal, UserRole
from features import tables as t
from features.domain import Employee, Opportunity, OpportunityKind, OpportunityStatus, Role
from features.store import Store


def not_found(what: str, key: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no {what} with id {key!r}")


def gone(employee_id: str, left_on: date) -> HTTPException:
    return HTTPException(status.HTTP_410_GONE, f"employee {employee_id!r} left the "
                         f"organization on {left_on.isoformat()}: their employee views are closed")


def current_employee(store: Store, employee_id: str) -> Employee:
    """The employee, 404 when unknown, 410 when they left."""
    employee = store.employee(employee_id)
    if employee is None:
        raise not_found("employee", employee_id)
    left = store.left_on(employee_id)
    if left is not None:
        raise gone(employee_id, left)
    return employee


def report_ids(store: Store, manager_id: str) -> set[str]:
    """Everyone below ``manager_id`` in the reporting tree (direct and indirect)."""
    e = t.employees
    tree = select(e.c.id).where(e.c.manager_id == manager_id).cte("reports", recursive=True)
    tree = tree.union(select(e.c.id).join(tree, e.c.manager_id == tree.c.id))
    with store.engine.connect() as conn:
        return set(conn.execute(select(tree.c.id)).scalars())


def is_report(store: Store, manager_id: str, employee_id: str) -> bool:
    """Whether ``employee_id`` reports to ``manager_id``, directly or indirectly."""
    e = t.employees
    chain = select(e.c.manager_id.label("id")).where(e.c.id == employee_id).cte(
        "chain", recursive=True)
    chain = chain.union(select(e.c.manager_id).join(chain, e.c.id == chain.c.id))
    with store.engine.connect() as conn:
        found = conn.execute(select(chain.c.id).where(chain.c.id == manager_id).limit(1))
        return found.first() is not None


def owned_opportunities(store: Store, employee_id: str) -> list[Opportunity]:
    """Open opportunities whose ``owner_id`` is ``employee_id``."""
    return [o for o in store.opportunities(status=OpportunityStatus.OPEN)
            if o.owner_id == employee_id]


def owned_role_ids(store: Store, employee_id: str) -> set[str]:
    """Roles a recruiter owns: those of the open ``open_role`` opportunities they own."""
    return {o.role_id for o in owned_opportunities(store, employee_id)
            if o.kind == OpportunityKind.OPEN_ROLE and o.role_id}


def authorize_employee(principal: Principal, employee_id: str, store: Store) -> Employee:
    """An employee's own data: self (any role), a manager's direct and indirect reports, or
    anyone for hr_admin. Recruiters see others only as candidates; ml_admin sees no one. 410
    for someone who left."""
    employee = current_employee(store, employee_id)
    if principal.role == UserRole.HR_ADMIN or principal.employee_id == employee_id:
        return employee
    if (principal.role == UserRole.MANAGER and principal.employee_id
            and is_report(store, principal.employee_id, employee_id)):
        return employee
    raise forbidden("you may see only your own data (and your reports', as a manager)")


def authorize_candidate_view(principal: Principal, employee_id: str, store: Store) -> Employee:
    """An employee as a candidate: hr_admin sees anyone; a recruiter, or a manager who owns an
    open opportunity, sees only employees who chose to be discoverable. 410 for someone who
    left."""
    employee = current_employee(store, employee_id)
    if principal.role == UserRole.HR_ADMIN:
        return employee
    if principal.role == UserRole.RECRUITER and employee.discoverable:
        return employee
    if (principal.role == UserRole.MANAGER and employee.discoverable and principal.employee_id
            and owned_opportunities(store, principal.employee_id)):
        return employee
    raise forbidden("this employee is not discoverable to you as a candidate")


def authorize_role_for_recruiter(principal: Principal, role_id: str, store: Store) -> Role:
    """A role's candidates: hr_admin, or a recruiter or hiring manager who owns an open
    open_role opportunity for that role."""
    role = store.role(role_id)
    if role is None:
        raise not_found("role", role_id)
    if principal.role == UserRole.HR_ADMIN:
        return role
    if (principal.role in (UserRole.RECRUITER, UserRole.MANAGER) and principal.employee_id
            and role_id in owned_role_ids(store, principal.employee_id)):
        return role
    raise forbidden("you do not own an open opportunity for this role")


def authorize_opportunity(principal: Principal, opportunity_id: str, store: Store, *,
                          manage: bool = False) -> Opportunity:
    """View (``manage=False``): open opportunities are visible to every signed-in user;
    filled or closed ones only to their owner and hr_admin. Manage (``manage=True``: its
    candidates, edits): the owner acting as recruiter or manager, or hr_admin."""
    opportunity = store.opportunity(opportunity_id)
    if opportunity is None:
        raise not_found("opportunity", opportunity_id)
    if principal.role == UserRole.HR_ADMIN:
        return opportunity
    owner = principal.employee_id is not None and principal.employee_id == opportunity.owner_id
    if manage:
        if owner and principal.role in (UserRole.RECRUITER, UserRole.MANAGER):
            return opportunity
        raise forbidden("only the opportunity's owner may manage it")
    if owner or opportunity.status == OpportunityStatus.OPEN:
        return opportunity
    raise forbidden("this opportunity is no longer open")
