"""Who a caller is: access roles, the `Principal`, demo accounts and sign-in.

Identities are the store's employees (user name = employee id) plus two built-in admin
accounts, ``ml-admin`` and ``hr-admin``. Which access roles an employee holds is read from the
store: everyone holds ``employee``; ``manager`` when someone reports to them; ``recruiter`` when
``is_recruiter`` is set. A token names one role; the role is re-checked against the store on
every request, so losing reports or the recruiter flag takes effect at once.
"""

from __future__ import annotations

import hmac
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from features import tables as t
from features.domain import Employee
from features.store import Store

DEMO_PASSWORD = "demo"


class UserRole(StrEnum):
    EMPLOYEE = "employee"
    MANAGER = "manager"
    RECRUITER = "recruiter"
    ML_ADMIN = "ml_admin"
    HR_ADMIN = "hr_admin"


ADMIN_ACCOUNTS: dict[str, UserRole] = {"ml-admin": UserRole.ML_ADMIN,
                                       "hr-admin": UserRole.HR_ADMIN}
"""Built-in accounts that are not employees (user name -> role)."""

DEFAULT_ROLE_ORDER = (UserRole.MANAGER, UserRole.RECRUITER, UserRole.EMPLOYEE)
"""The role a sign-in gets when it asks for none: the first one the employee holds."""


class Principal(BaseModel):
    """The authenticated caller. ``employee_id`` is None for the admin accounts."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    role: UserRole
    employee_id: str | None = None


class CredentialVerifier(Protocol):
    """Checks a password outside demo mode (set one on ``app.state.credential_verifier``)."""

    def verify(self, username: str, password: str) -> bool: ...


class DemoCredentials:
    """Demo mode: every demo user's password is ``demo``."""

    def verify(self, username: str, password: str) -> bool:
        return hmac.compare_digest(password.encode(), DEMO_PASSWORD.encode())


class NoCredentials:
    """Outside demo mode with no verifier configured: nobody signs in with a password."""

    def verify(self, username: str, password: str) -> bool:
        return False


def has_reports(store: Store, employee_id: str) -> bool:
    query = select(t.employees.c.id).where(t.employees.c.manager_id == employee_id).limit(1)
    with store.engine.connect() as conn:
        return conn.execute(query).first() is not None


def roles_held(store: Store, employee: Employee) -> list[UserRole]:
    held = [UserRole.EMPLOYEE]
    if has_reports(store, employee.id):
        held.append(UserRole.MANAGER)
    if employee.is_recruiter:
        held.append(UserRole.RECRUITER)
    return held


def resolve_principal(store: Store, user_id: str, role: str | None) -> Principal | None:
    """The principal ``user_id`` acting as ``role`` (default: see `DEFAULT_ROLE_ORDER`), or
    None when the user does not exist or does not hold that role."""
    try:
        wanted = UserRole(role) if role else None
    except ValueError:
        return None
    if user_id in ADMIN_ACCOUNTS:
        admin_role = ADMIN_ACCOUNTS[user_id]
        if wanted not in (None, admin_role):
            return None
        return Principal(user_id=user_id, role=admin_role)
    employee = store.employee(user_id)
    if employee is None:
        return None
    return employee_principal(store, employee, wanted)


def employee_principal(store: Store, employee: Employee,
                       wanted: UserRole | None) -> Principal | None:
    """``employee`` acting as ``wanted`` (default: see `DEFAULT_ROLE_ORDER`), or None when
    they do not hold it."""
    held = roles_held(store, employee)
    if wanted is None:
        wanted = next(r for r in DEFAULT_ROLE_ORDER if r in held)
    if wanted not in held:
        return None
    return Principal(user_id=employee.id, role=wanted, employee_id=employee.id)


def demo_user_for(store: Store, role: UserRole) -> str | None:
    """The first demo user (id order) of ``role``: employee = first employee who is neither a
    manager nor a recruiter, manager = first with reports, recruiter = first recruiter; never
    someone who left."""
    if role in (UserRole.ML_ADMIN, UserRole.HR_ADMIN):
        return next(name for name, r in ADMIN_ACCOUNTS.items() if r == role)
    employees = store.employees()
    managers = {e.manager_id for e in employees if e.manager_id}
    left = store.departed_ids()
    for employee in employees:
        if employee.id in left:
            continue
        if role == UserRole.MANAGER and employee.id in managers:
            return employee.id
        if role == UserRole.RECRUITER and employee.is_recruiter:
            return employee.id
        if (role == UserRole.EMPLOYEE and employee.id not in managers
                and not employee.is_recruiter):
            return employee.id
    return None
