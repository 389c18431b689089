"""The authorization test matrix: an organization with every access role, "someone else's" ids
per role and path parameter, and the app's routes enumerated from ``app.routes``.

When you add an endpoint with a new path parameter, add the parameter name to
`OTHERS_IDS` (an id the role must not reach, per role) or, for public catalog data, to
`PUBLIC_PARAMS`; a route every signed-in user may read whatever the id goes into
`PUBLIC_ROUTES`, with the reason. `tests/api/test_authz_matrix.py` fails, naming the route, until
one of them covers it.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.app import create_app
from api.ratelimit import RateLimiter
from api.security import UserRole
from features.domain import (
    Employee,
    Opportunity,
    OpportunityKind,
    OpportunityStatus,
    Organization,
    ProtectedAttributes,
    Role,
    Sex,
)
from features.settings import Settings
from features.store import Store
from tests.support.store_factory import tiny_organization

SECRET = "test-secret-test-secret-test-secret-0123456789"

# Demo principals per role (the first of each in id order, as `waypoint token` picks them).
DEMO_USERS: dict[UserRole, str] = {
    UserRole.EMPLOYEE: "e1", UserRole.MANAGER: "e2", UserRole.RECRUITER: "e3",
    UserRole.ML_ADMIN: "ml-admin", UserRole.HR_ADMIN: "hr-admin",
}

# Identity-provider users per role: (employee id claim, groups). The admins are employees who
# are also managers (e2 of e4 and e5, e7 of e6), so acting as an admin must not carry a
# manager's reach into that role.
OIDC_USERS: dict[UserRole, tuple[str, list[str]]] = {
    UserRole.EMPLOYEE: ("e1", []), UserRole.MANAGER: ("e2", ["staff"]),
    UserRole.RECRUITER: ("e3", []), UserRole.ML_ADMIN: ("e2", ["waypoint-ml-admins"]),
    UserRole.HR_ADMIN: ("e7", ["waypoint-hr-admins"]),
}
TOKEN_KINDS = ("demo", "oidc")
"""The matrix runs for both: Waypoint's own tokens and the identity provider's."""

# An id of each kind that the role may not reach. hr_admin may reach everything that exists,
# so its "someone else's id" is one that does not exist (404).
OTHERS_IDS: dict[str, dict[UserRole, str]] = {
    # e6: not discoverable, reports to e7, unrelated to e1/e2/e3.
    "employee_id": {UserRole.EMPLOYEE: "e6", UserRole.MANAGER: "e6", UserRole.RECRUITER: "e6",
                    UserRole.ML_ADMIN: "e6", UserRole.HR_ADMIN: "e-missing"},
    # r2: its only open_role opportunity (o3) is closed and owned by e7.
    "role_id": {UserRole.EMPLOYEE: "r2", UserRole.MANAGER: "r2", UserRole.RECRUITER: "r2",
                UserRole.ML_ADMIN: "r2", UserRole.HR_ADMIN: "r-missing"},
    # o3: closed, owned by e7.
    "opportunity_id": {UserRole.EMPLOYEE: "o3", UserRole.MANAGER: "o3",
                       UserRole.RECRUITER: "o3", UserRole.ML_ADMIN: "o3",
                       UserRole.HR_ADMIN: "o-missing"},
}

PUBLIC_PARAMS: dict[str, str] = {}
"""Path parameters naming public catalog data (name -> a sample value), e.g. course ids."""

PUBLIC_ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/v1/roles/{role_id}/paths"):
        "career paths between roles are organization structure, not anyone's data",
}
"""(METHOD, path) -> why every signed-in user may call it with any id. Still needs a token."""

UNAUTHENTICATED_ROUTES: dict[tuple[str, str], str] = {
    ("POST", "/v1/auth/token"): "the sign-in endpoint itself",
    ("GET", "/v1/auth/demo-users"): "demo mode only (404 otherwise), read before signing in; "
                                    "every demo password is `demo` anyway",
}
"""/v1 routes callable without a token, with the reason. Every other /v1 route must say 401."""

KNOWN_GAPS: dict[tuple[str, str], str] = {}
"""(METHOD, path) -> a known authorization gap, run as a strict xfail: when it is fixed the
case passes, the strict xfail fails, and the entry must be removed."""

SAMPLE_BODIES: dict[tuple[str, str], Any] = {
    ("PUT", "/v1/employees/{employee_id}/discoverability"): {"discoverable": True},
    ("POST", "/v1/events"): {"kind": "click", "opportunity_id": "o1",
                             "idempotency_key": "authz-matrix"},
    ("PATCH", "/v1/opportunities/{opportunity_id}"): {"title": "Renamed by someone else"},
    ("PUT", "/v1/employees/{employee_id}/preferences"): {"aspirations": "data science"},
    ("POST", "/v1/employees/{employee_id}/evidence"): {
        "kind": "self_declared", "skill_uri": "http://data.europa.eu/esco/skill/s00",
        "idempotency_key": "authz-matrix"},
}
"""(METHOD, path) -> a valid JSON body, so the object check (not validation) answers."""

QUERY_SAMPLES: dict[str, str] = {
    "target_role_id": "r1",  # development plans
}
"""Required query parameter name -> a valid value (otherwise one is made from the type)."""


def security_organization() -> Organization:
    """`tiny_organization` plus a middle manager, an indirect report, two recruiters, an
    unrelated non-discoverable employee and open / closed open_role opportunities."""
    org = tiny_organization()
    base = org.employees[0]

    def person(eid: str, name: str, manager: str | None, *, discoverable: bool,
               recruiter: bool = False, role: str = "r1") -> Employee:
        return base.model_copy(update={"id": eid, "name": name, "manager_id": manager,
                                       "discoverable": discoverable, "is_recruiter": recruiter,
                                       "role_id": role})

    org.roles.append(Role(id="r3", title="Data Scientist", onet_code=None, level=3,
                          job_family="Computer and Mathematical", department_id="d1",
                          description="Analyse data."))
    org.employees += [
        person("e3", "Ravi R.", None, discoverable=False, recruiter=True),
        person("e4", "Linus T.", "e2", discoverable=True),
        person("e5", "Margaret H.", "e4", discoverable=True),
        person("e6", "Tim B.", "e7", discoverable=False),
        person("e7", "Barbara L.", None, discoverable=False, recruiter=True, role="r2"),
    ]
    org.protected_attributes += [
        ProtectedAttributes(employee_id=e, sex=Sex.UNKNOWN, race_ethnicity="unknown",
                            age_band="30-39") for e in ("e3", "e4", "e5", "e6", "e7")]
    opening = org.opportunities[0]

    def opening_for(oid: str, role: str, owner: str, status: OpportunityStatus) -> Opportunity:
        return opening.model_copy(update={"id": oid, "kind": OpportunityKind.OPEN_ROLE,
                                          "role_id": role, "owner_id": owner, "status": status,
                                          "title": f"Opening {oid}"})

    org.opportunities += [
        opening_for("o2", "r1", "e3", OpportunityStatus.OPEN),
        opening_for("o3", "r2", "e7", OpportunityStatus.CLOSED),
        opening_for("o4", "r3", "e7", OpportunityStatus.OPEN),
    ]
    return org


def security_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"database_url": f"sqlite:///{tmp_path / 'waypoint.db'}",
                              "artifact_dir": tmp_path / "models", "demo_mode": True,
                              # no reference data: a route that loads it before checking the
                              # token fails fast here instead of building indexes
                              "data_dir": tmp_path / "no-reference-data",
                              "secret_key": SECRET,
                              # a registry of its own (none): never the pipeline's models/
                              "mlflow_tracking_uri": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    values.update(overrides)
    return Settings(**values)


def fill_store(settings: Settings, org: Organization | None = None) -> None:
    store = Store(settings.database_url)
    store.create_schema()
    store.replace_organization(org or security_organization(), version="security-test")
    store.dispose()


def never_limited(app: FastAPI) -> None:
    """Give the app a limiter whose clock jumps an hour per request, so buckets stay full."""
    clock = itertools.count(0.0, 3600.0)
    app.state.rate_limiter = RateLimiter(clock=lambda: next(clock))


def sign_in(client: TestClient, user: str, role: str | None = None) -> str:
    form = {"grant_type": "password", "username": user, "password": "demo"}
    if role:
        form["scope"] = role
    response = client.post("/v1/auth/token", data=form)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    path_params: tuple[str, ...]
    query: dict[str, str] = field(default_factory=dict)
    has_body: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    def url(self, values: dict[str, str]) -> str:
        url = self.path
        for name in self.path_params:
            url = url.replace(f"{{{name}:path}}", values[name]).replace(
                f"{{{name}}}", values[name])
        return url


def _sample(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if kind == "integer":
        return "1"
    if kind == "number":
        return "1.0"
    if kind == "boolean":
        return "true"
    if schema.get("format") == "date":
        return "2026-01-01"
    if "enum" in schema:
        return str(schema["enum"][0])
    return "x"


def api_routes(app: FastAPI) -> list[tuple[str, str, set[str]]]:
    """(path, path_format, methods) of every APIRoute in ``app.routes``, included routers
    flattened (FastAPI >= 0.16x nests them; older versions list them flat)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - older FastAPI
        return [(r.path, r.path_format, set(r.methods or ())) for r in app.routes
                if isinstance(r, APIRoute)]
    return [(str(c.path), str(c.path_format), set(c.methods or ()))
            for c in iter_route_contexts(app.routes) if isinstance(c.original_route, APIRoute)]


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every (method, path) in ``app.routes``, with its path parameters; required query
    parameters and whether it takes a body come from the route's OpenAPI operation."""
    spec = app.openapi()
    found = []
    for path, path_format, methods in api_routes(app):
        names = tuple(m.group(1) for m in re.finditer(r"{(\w+)(?::\w+)?}", path))
        for method in sorted(methods - {"HEAD", "OPTIONS"}):
            operation = spec.get("paths", {}).get(path_format, {}).get(method.lower(), {})
            query = {p["name"]: QUERY_SAMPLES.get(p["name"], _sample(p.get("schema", {})))
                     for p in operation.get("parameters", [])
                     if p.get("in") == "query" and p.get("required")}
            found.append(Endpoint(method=method, path=path, path_params=names,
                                  query=query, has_body="requestBody" in operation))
    return found


def matrix_app() -> FastAPI:
    """An app built only to enumerate routes at collection time (no store is opened)."""
    return create_app(Settings(database_url="sqlite://", demo_mode=True, secret_key=SECRET))
