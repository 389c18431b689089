"""Object-level checks against a real SQLite store holding `security_organization()`:

    e2 (manager) ── e1            e7 (recruiter, manager) ── e6 (not discoverable)
              └── e4 ── e5        e3 (recruiter)
    o1 project, open, owner e2    o2 open_role r1, open, owner e3
    o3 open_role r2, closed, e7   o4 open_role r3, open, owner e7
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import HTTPException

from api.security import (
    Principal,
    UserRole,
    authorize_candidate_view,
    authorize_employee,
    authorize_opportunity,
    authorize_role_for_recruiter,
    demo_user_for,
    is_report,
    owned_role_ids,
    report_ids,
    resolve_principal,
)
from features.store import Store
from tests.support.authz_matrix import fill_store, security_settings

pytestmark = pytest.mark.store

EMPLOYEES = ["e1", "e2", "e3", "e4", "e5", "e6", "e7"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    settings = security_settings(tmp_path_factory.mktemp("objects"))
    fill_store(settings)
    store = Store(settings.database_url)
    yield store
    store.dispose()


def who(store: Store, user: str, role: UserRole) -> Principal:
    principal = resolve_principal(store, user, role)
    assert principal is not None, (user, role)
    return principal


def allowed(check: object, principal: Principal, key: str, store: Store) -> bool | int:
    try:
        check(principal, key, store)  # type: ignore[operator]
    except HTTPException as exc:
        assert exc.status_code in (403, 404)
        return exc.status_code
    return True


def visible(store: Store, check: object, principal: Principal, keys: list[str]) -> list[str]:
    return [k for k in keys if allowed(check, principal, k, store) is True]


def test_reporting_tree(store: Store) -> None:
    assert report_ids(store, "e2") == {"e1", "e4", "e5"}
    assert report_ids(store, "e4") == {"e5"}
    assert report_ids(store, "e1") == set()
    assert is_report(store, "e2", "e5") and is_report(store, "e4", "e5")
    assert not is_report(store, "e5", "e2") and not is_report(store, "e2", "e6")
    assert not is_report(store, "e2", "e2")


def test_roles_held_and_demo_users(store: Store) -> None:
    assert resolve_principal(store, "e1", UserRole.MANAGER) is None
    assert resolve_principal(store, "e7", UserRole.MANAGER) is not None
    assert resolve_principal(store, "e7", UserRole.RECRUITER) is not None
    assert resolve_principal(store, "ml-admin", UserRole.HR_ADMIN) is None
    assert [demo_user_for(store, r) for r in UserRole] == ["e1", "e2", "e3", "ml-admin",
                                                           "hr-admin"]


@pytest.mark.parametrize(("user", "role", "expected"), [
    ("e1", UserRole.EMPLOYEE, ["e1"]),
    ("e2", UserRole.MANAGER, ["e1", "e2", "e4", "e5"]),       # direct and indirect reports
    ("e2", UserRole.EMPLOYEE, ["e2"]),                        # acting as employee: self only
    ("e4", UserRole.MANAGER, ["e4", "e5"]),
    ("e3", UserRole.RECRUITER, ["e3"]),                       # candidates go elsewhere
    ("ml-admin", UserRole.ML_ADMIN, []),
    ("hr-admin", UserRole.HR_ADMIN, EMPLOYEES),
])
def test_authorize_employee(store: Store, user: str, role: UserRole,
                            expected: list[str]) -> None:
    principal = who(store, user, role)
    assert visible(store, authorize_employee, principal, EMPLOYEES) == expected
    assert allowed(authorize_employee, principal, "e-missing", store) == 404


@pytest.mark.parametrize(("user", "role", "expected"), [
    ("e1", UserRole.EMPLOYEE, []),
    ("e3", UserRole.RECRUITER, ["e1", "e4", "e5"]),           # the discoverable ones
    ("e2", UserRole.MANAGER, ["e1", "e4", "e5"]),             # owns open o1
    ("e4", UserRole.MANAGER, []),                             # owns nothing open
    ("ml-admin", UserRole.ML_ADMIN, []),
    ("hr-admin", UserRole.HR_ADMIN, EMPLOYEES),
])
def test_authorize_candidate_view(store: Store, user: str, role: UserRole,
                                  expected: list[str]) -> None:
    principal = who(store, user, role)
    assert visible(store, authorize_candidate_view, principal, EMPLOYEES) == expected


@pytest.mark.parametrize(("user", "role", "expected"), [
    ("e3", UserRole.RECRUITER, ["r1"]),                       # via open o2
    ("e7", UserRole.RECRUITER, ["r3"]),                       # o3 (r2) is closed
    ("e7", UserRole.MANAGER, ["r3"]),                         # owns the open opening for r3
    ("e1", UserRole.EMPLOYEE, []),
    ("ml-admin", UserRole.ML_ADMIN, []),
    ("hr-admin", UserRole.HR_ADMIN, ["r1", "r2", "r3"]),
])
def test_authorize_role_for_recruiter(store: Store, user: str, role: UserRole,
                                      expected: list[str]) -> None:
    principal = who(store, user, role)
    assert visible(store, authorize_role_for_recruiter, principal, ["r1", "r2", "r3"]) == expected
    assert allowed(authorize_role_for_recruiter, principal, "r-missing", store) == 404


def test_owned_roles(store: Store) -> None:
    assert owned_role_ids(store, "e3") == {"r1"}
    assert owned_role_ids(store, "e2") == set()               # o1 is a project


OPPORTUNITIES = ["o1", "o2", "o3", "o4"]


@pytest.mark.parametrize(("user", "role", "view", "manage"), [
    ("e1", UserRole.EMPLOYEE, ["o1", "o2", "o4"], []),
    ("e2", UserRole.MANAGER, ["o1", "o2", "o4"], ["o1"]),
    ("e2", UserRole.EMPLOYEE, ["o1", "o2", "o4"], []),
    ("e3", UserRole.RECRUITER, ["o1", "o2", "o4"], ["o2"]),
    ("e7", UserRole.RECRUITER, OPPORTUNITIES, ["o3", "o4"]),  # owner sees the closed o3
    ("ml-admin", UserRole.ML_ADMIN, ["o1", "o2", "o4"], []),
    ("hr-admin", UserRole.HR_ADMIN, OPPORTUNITIES, OPPORTUNITIES),
])
def test_authorize_opportunity(store: Store, user: str, role: UserRole, view: list[str],
                               manage: list[str]) -> None:
    principal = who(store, user, role)

    def manage_check(p: Principal, key: str, s: Store) -> object:
        return authorize_opportunity(p, key, s, manage=True)

    assert visible(store, authorize_opportunity, principal, OPPORTUNITIES) == view
    assert visible(store, manage_check, principal, OPPORTUNITIES) == manage
    assert allowed(authorize_opportunity, principal, "o-missing", store) == 404


def test_checks_return_the_object(store: Store) -> None:
    hr = who(store, "hr-admin", UserRole.HR_ADMIN)
    assert authorize_employee(hr, "e5", store).id == "e5"
    assert authorize_role_for_recruiter(hr, "r2", store).id == "r2"
    assert authorize_opportunity(hr, "o3", store).id == "o3"
    assert authorize_candidate_view(hr, "e6", store).id == "e6"


def test_a_reporting_cycle_does_not_hang(tmp_path: Path) -> None:
    from tests.support.authz_matrix import security_organization

    org = security_organization()
    org.employees = [e.model_copy(update={"manager_id": "e5"}) if e.id == "e2" else e
                     for e in org.employees]                  # e2 -> e4 -> e5 -> e2
    settings = security_settings(tmp_path)
    fill_store(settings, org)
    store = Store(settings.database_url)
    try:
        assert report_ids(store, "e2") == {"e1", "e2", "e4", "e5"}
        assert not is_report(store, "e2", "e6")
    finally:
        store.dispose()
