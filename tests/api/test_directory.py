"""The web page's pickers: a manager's reports, a recruiter's owned roles, and the demo accounts
(``api/routes/directory.py``), on the authorization matrix's organization. Someone else's ids
are refused by the matrix itself (tests/api/test_authz_matrix.py enumerates these routes)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.support.authz_matrix import fill_store, never_limited, security_settings, sign_in


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = security_settings(tmp_path_factory.mktemp("directory"))
    fill_store(settings)
    app = create_app(settings)
    never_limited(app)
    with TestClient(app) as test_client:
        yield test_client


def get(client: TestClient, url: str, user: str, role: str | None = None) -> Any:
    token = sign_in(client, user, role)
    return client.get(url, headers={"Authorization": f"Bearer {token}"})


def test_a_manager_lists_direct_then_indirect_reports(client: TestClient) -> None:
    response = get(client, "/v1/employees/e2/reports", "e2", "manager")
    assert response.status_code == 200
    body = response.json()
    assert [(r["id"], r["direct"]) for r in body["items"]] == [
        ("e1", True), ("e4", True), ("e5", False)]
    assert body["total"] == 3 and body["manager_id"] == "e2"
    assert body["items"][0] == {"id": "e1", "name": "Ada L.", "role_id": "r1",
                                "role_title": "Software Developer", "level": 3,
                                "manager_id": "e2", "direct": True}
    limited = get(client, "/v1/employees/e2/reports?limit=1", "hr-admin").json()
    assert [r["id"] for r in limited["items"]] == ["e1"] and limited["total"] == 3


def test_reports_follow_the_employee_checks(client: TestClient) -> None:
    assert get(client, "/v1/employees/e1/reports", "e1", "employee").json()["items"] == []
    # a middle manager sees their own subtree, not their manager's
    assert [r["id"] for r in get(client, "/v1/employees/e4/reports", "e4", "manager")
            .json()["items"]] == ["e5"]
    assert get(client, "/v1/employees/e2/reports", "e4", "manager").status_code == 403
    assert get(client, "/v1/employees/e2/reports", "e3", "recruiter").status_code == 403


def test_a_recruiter_lists_the_roles_of_their_open_openings(client: TestClient) -> None:
    mine = get(client, "/v1/employees/e3/owned-roles", "e3", "recruiter").json()
    assert mine == {"employee_id": "e3", "items": [
        {"role_id": "r1", "title": "Software Developer", "level": 3, "openings": [
            {"id": "o2", "title": "Opening o2", "level": 3, "location": "Lisbon"}]}]}
    # e7's closed opening (o3, role r2) grants nothing; the open one (o4, role r3) does
    theirs = get(client, "/v1/employees/e7/owned-roles", "e7", "recruiter").json()
    assert [r["role_id"] for r in theirs["items"]] == ["r3"]
    assert get(client, "/v1/employees/e7/owned-roles", "e3", "recruiter").status_code == 403
    assert get(client, "/v1/employees/e1/owned-roles", "e1", "employee").json()["items"] == []


def test_demo_users_are_those_waypoint_token_picks(client: TestClient) -> None:
    response = client.get("/v1/auth/demo-users")
    assert response.status_code == 200
    body = response.json()
    assert body["password"] == "demo"
    assert [(u["role"], u["user_id"], u["name"]) for u in body["items"]] == [
        ("employee", "e1", "Ada L."), ("manager", "e2", "Grace H."),
        ("recruiter", "e3", "Ravi R."), ("ml_admin", "ml-admin", None),
        ("hr_admin", "hr-admin", None)]
    for user in body["items"]:  # each one signs in with the demo password as that role
        assert sign_in(client, user["user_id"], user["role"])


def test_no_demo_users_outside_demo_mode(tmp_path: Path) -> None:
    settings = security_settings(tmp_path, demo_mode=False)
    fill_store(settings)
    with TestClient(create_app(settings)) as client:
        response = client.get("/v1/auth/demo-users")
        assert response.status_code == 404
        assert set(response.json()) == {"error"}
