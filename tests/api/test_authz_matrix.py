"""Every id-taking endpoint, for every access role, with someone else's ids: 403 or 404, never
data; and every /v1 endpoint without a token: 401 with ``WWW-Authenticate: Bearer``.

The cases come from ``app.routes`` at collection time, so endpoints added later are covered
without touching this file; new path-parameter names go in ``tests/support/authz_matrix.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import UserRole
from tests.support.authz_matrix import (
    DEMO_USERS,
    KNOWN_GAPS,
    OIDC_USERS,
    OTHERS_IDS,
    PUBLIC_PARAMS,
    PUBLIC_ROUTES,
    SAMPLE_BODIES,
    TOKEN_KINDS,
    UNAUTHENTICATED_ROUTES,
    Endpoint,
    endpoints,
    fill_store,
    matrix_app,
    never_limited,
    security_settings,
    sign_in,
)
from tests.support.oidc_provider import LocalProvider

APP = matrix_app()
ENDPOINTS = endpoints(APP)
ID_ENDPOINTS = [e for e in ENDPOINTS if e.path_params and e.key not in PUBLIC_ROUTES
                and not all(p in PUBLIC_PARAMS for p in e.path_params)]
ROLE_CASES = [(e, role) for e in ID_ENDPOINTS for role in UserRole]
NO_TOKEN_CASES = [e for e in ENDPOINTS if (e.path.startswith("/v1/") or e.path_params)
                  and e.key not in UNAUTHENTICATED_ROUTES]


def _cases(cases: list[Any]) -> list[Any]:
    """Mark the cases of routes listed in KNOWN_GAPS as strict xfails."""
    marked = []
    for case in cases:
        endpoint = case[0] if isinstance(case, tuple) else case
        reason = KNOWN_GAPS.get(endpoint.key)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        marked.append(pytest.param(*case if isinstance(case, tuple) else (case,), marks=marks,
                                   id=" ".join(_id(part) for part in (
                                       case if isinstance(case, tuple) else (case,)))))
    return marked


def _id(case: object) -> str:
    if isinstance(case, Endpoint):
        return f"{case.method} {case.path}"
    return str(case)


@pytest.fixture(scope="module")
def idp() -> Iterator[LocalProvider]:
    with LocalProvider() as provider:
        yield provider


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, idp: LocalProvider) -> Iterator[TestClient]:
    settings = security_settings(tmp_path_factory.mktemp("authz"), **idp.settings())
    fill_store(settings)
    app = create_app(settings)
    never_limited(app)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="module", params=TOKEN_KINDS)
def tokens(request: pytest.FixtureRequest, client: TestClient,
           idp: LocalProvider) -> dict[UserRole, str]:
    """Each role's token: signed in with the demo password, or issued by the identity
    provider (the employee id claim and groups of `OIDC_USERS`)."""
    if request.param == "oidc":
        return {role: idp.token(user, groups=groups, lifetime=timedelta(hours=2))
                for role, (user, groups) in OIDC_USERS.items()}
    return {role: sign_in(client, user, role) for role, user in DEMO_USERS.items()}


def _others_ids(endpoint: Endpoint, role: UserRole) -> dict[str, str]:
    values = {}
    for name in endpoint.path_params:
        if name in OTHERS_IDS:
            values[name] = OTHERS_IDS[name][role]
        elif name in PUBLIC_PARAMS:
            values[name] = PUBLIC_PARAMS[name]
        else:
            pytest.fail(f"{endpoint.method} {endpoint.path}: path parameter {name!r} is not in "
                        "tests/support/authz_matrix.py (OTHERS_IDS or PUBLIC_PARAMS); add it there")
    return values


def _call(client: TestClient, endpoint: Endpoint, values: dict[str, str],
          headers: dict[str, str]) -> Any:
    body = SAMPLE_BODIES.get(endpoint.key, {}) if endpoint.has_body else None
    return client.request(endpoint.method, endpoint.url(values), params=endpoint.query,
                          json=body, headers=headers)


def test_matrix_size() -> None:
    print(f"\nauthorization matrix: {len(ID_ENDPOINTS)} id-taking endpoints x {len(UserRole)} "
          f"roles = {len(ROLE_CASES)} cases, plus {len(NO_TOKEN_CASES)} no-token cases")
    assert any(e.path == "/v1/employees/{employee_id}" for e in ID_ENDPOINTS)
    # the enumeration sees every documented operation, so the matrix cannot silently go empty
    documented = {(method.upper(), path) for path, item in APP.openapi()["paths"].items()
                  for method in item}
    enumerated = {(e.method, re.sub(r":\w+}", "}", e.path)) for e in ENDPOINTS}
    assert documented <= enumerated, documented - enumerated
    assert len(ROLE_CASES) == len(ID_ENDPOINTS) * len(UserRole)


@pytest.mark.parametrize(("endpoint", "role"), _cases(ROLE_CASES))
def test_someone_elses_ids_are_refused(client: TestClient, tokens: dict[UserRole, str],
                                       endpoint: Endpoint, role: UserRole) -> None:
    response = _call(client, endpoint, _others_ids(endpoint, role),
                     {"Authorization": f"Bearer {tokens[role]}"})
    allowed = {403, 404}
    if endpoint.has_body and endpoint.key not in SAMPLE_BODIES:
        allowed.add(422)  # no valid sample body registered: validation may answer first
    assert response.status_code in allowed, (
        f"{role} got {response.status_code} from {endpoint.method} {endpoint.path} with "
        f"someone else's ids: {response.text[:300]}")
    assert set(response.json()) == {"error"}


@pytest.mark.parametrize("endpoint", _cases(NO_TOKEN_CASES))
def test_no_token_is_401(client: TestClient, endpoint: Endpoint) -> None:
    values = {name: OTHERS_IDS.get(name, {}).get(UserRole.EMPLOYEE, PUBLIC_PARAMS.get(name, "x"))
              for name in endpoint.path_params}
    response = _call(client, endpoint, values, {})
    assert response.status_code == 401, (
        f"{endpoint.method} {endpoint.path} without a token answered {response.status_code}; "
        "check the token before any other work: APIRouter(dependencies=[Depends("
        "get_current_principal)]) runs it first; or list the route in UNAUTHENTICATED_ROUTES")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert set(response.json()) == {"error"}


@pytest.mark.parametrize("role", list(UserRole), ids=str)
def test_matrix_tokens_work(client: TestClient, tokens: dict[UserRole, str], role: UserRole,
                            idp: LocalProvider, request: pytest.FixtureRequest) -> None:
    """Positive control: the refusals above are not a broken sign-in, and each kind of token
    is what it says (the provider's are verified against its published keys)."""
    from_provider = request.node.callspec.params["tokens"] == "oidc"
    assert (jwt.get_unverified_header(tokens[role])["alg"] == "RS256") == from_provider
    if from_provider:
        assert idp.requests["/realms/acme/jwks"] >= 1
    me = client.get("/v1/auth/me", headers={"Authorization": f"Bearer {tokens[role]}"})
    assert me.status_code == 200
    assert me.json()["role"] == role
    own = me.json()["employee_id"]
    if own is not None:
        response = client.get(f"/v1/employees/{own}",
                              headers={"Authorization": f"Bearer {tokens[role]}"})
        assert response.status_code == 200
        assert response.json()["id"] == own


# ------------------------------------------------------------------ evidence, kind by kind
# ``POST /v1/employees/{id}/evidence`` decides by the body's kind who may write; the generic
# cases above send one kind. Here: every kind, every role, every kind of token.

SKILL = "http://data.europa.eu/esco/skill/s00"
EVIDENCE_BODIES: dict[str, dict[str, Any]] = {
    "course_completion": {"kind": "course_completion", "course_id": "c1"},
    "self_declared": {"kind": "self_declared", "skill_uri": SKILL},
    "self_description": {"kind": "self_description", "text": "I wrote Python every day."},
    "endorsement": {"kind": "endorsement", "skill_uri": SKILL},
    "review": {"kind": "review", "text": "Strong Python work.", "rating": 4},
}
REPORT = "e4"
"""Reports to e2 (the manager); e1, e3 and the admins have no line to them."""
MAY_WRITE_FOR_REPORT: dict[str, set[UserRole]] = {
    "course_completion": set(), "self_declared": set(), "self_description": set(),
    "endorsement": {UserRole.MANAGER}, "review": {UserRole.MANAGER, UserRole.HR_ADMIN},
}
"""Who may add each kind about the report (the employee's own kinds: only e4 themself)."""


def _evidence(client: TestClient, token: str, employee_id: str, kind: str) -> Any:
    return client.post(f"/v1/employees/{employee_id}/evidence", json=EVIDENCE_BODIES[kind],
                       headers={"Authorization": f"Bearer {token}",
                                "Idempotency-Key": f"matrix-{kind}-{employee_id}"})


class _NoSkillsEngine:
    """Reads no skill in any text (the matrix app loads no skills engine: 503 otherwise)."""

    def infer(self, text: str, source: Any) -> Any:
        return SimpleNamespace(skills=())


def _ready(client: TestClient) -> None:
    """The matrix store has no reference data; the sample skill must be known (else 422), and
    a text needs an engine (else 503)."""
    from features import tables as t

    app: Any = client.app
    app.state.skills_engine = _NoSkillsEngine()
    store = app.state.store
    with store.engine.begin() as conn:
        if not conn.execute(t.skills.select().where(t.skills.c.uri == SKILL)).first():
            conn.execute(t.skills.insert(), [{
                "uri": SKILL, "label": "Python", "alt_labels": [], "hidden_labels": [],
                "description": "", "skill_type": "skill/competence", "reuse_level": ""}])


@pytest.mark.parametrize("role", list(UserRole), ids=str)
@pytest.mark.parametrize("kind", list(EVIDENCE_BODIES))
def test_evidence_about_someone_else_is_refused(client: TestClient, tokens: dict[UserRole, str],
                                                kind: str, role: UserRole) -> None:
    other = OTHERS_IDS["employee_id"][role]
    response = _evidence(client, tokens[role], other, kind)
    assert response.status_code in {403, 404}, (kind, role, response.text[:300])
    assert set(response.json()) == {"error"}


@pytest.mark.parametrize("role", list(UserRole), ids=str)
@pytest.mark.parametrize("kind", list(EVIDENCE_BODIES))
def test_who_may_add_evidence_about_a_report(client: TestClient, tokens: dict[UserRole, str],
                                             kind: str, role: UserRole) -> None:
    """Positive and negative: an endorsement only by the report's manager (not HR, not an admin
    account of a manager), a review by the manager or HR."""
    _ready(client)
    response = _evidence(client, tokens[role], REPORT, kind)
    if role in MAY_WRITE_FOR_REPORT[kind]:
        assert response.status_code in {200, 201}, (kind, role, response.text[:300])
        assert response.json()["employee_id"] == REPORT
    else:
        assert response.status_code == 403, (kind, role, response.text[:300])
        assert set(response.json()) == {"error"}
