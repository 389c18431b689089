"""Sign-in, tokens, the secret policy, the employees list, rate limits and ``waypoint token``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.ratelimit import RateLimiter
from api.security import InsecureSecretError, UserRole, decode_token, issue_token
from api.security.tokens import signing_key
from features.settings import Settings, get_settings
from tests.support.authz_matrix import (
    SECRET,
    fill_store,
    security_organization,
    security_settings,
    sign_in,
)
from waypoint.cli import main
from waypoint.commands.token import ROLES


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = security_settings(tmp_path)
    fill_store(settings)
    return settings


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def me(client: TestClient, token: str) -> Any:
    return client.get("/v1/auth/me", headers=bearer(token))


# ------------------------------------------------------------------ sign-in and tokens


def test_demo_sign_in_issues_a_signed_token_with_sub_role_exp(client: TestClient,
                                                              settings: Settings) -> None:
    response = client.post("/v1/auth/token", data={"username": "e1", "password": "demo"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["role"] == "employee"
    assert body["expires_in"] == settings.token_ttl_minutes * 60
    claims = decode_token(settings, body["access_token"])
    assert (claims.sub, claims.role) == ("e1", "employee")
    assert claims.exp > datetime.now(UTC)
    assert me(client, body["access_token"]).json() == {
        "user_id": "e1", "role": "employee", "employee_id": "e1"}


@pytest.mark.parametrize(("user", "scope", "role"), [
    ("e2", None, "manager"),          # default: manager before recruiter before employee
    ("e2", "employee", "employee"),
    ("e3", None, "recruiter"),
    ("e7", "recruiter", "recruiter"),
    ("ml-admin", None, "ml_admin"),
    ("hr-admin", "hr_admin", "hr_admin"),
])
def test_sign_in_roles(client: TestClient, user: str, scope: str | None, role: str) -> None:
    assert me(client, sign_in(client, user, scope)).json()["role"] == role


@pytest.mark.parametrize("form", [
    {"username": "e1", "password": "wrong"},
    {"username": "nobody", "password": "demo"},
    {"username": "e1", "password": "demo", "scope": "manager"},     # e1 has no reports
    {"username": "e1", "password": "demo", "scope": "hr_admin"},
    {"username": "ml-admin", "password": "demo", "scope": "hr_admin"},
    {"username": "e1", "password": "demo", "scope": "superuser"},
])
def test_bad_sign_in_is_401(client: TestClient, form: dict[str, str]) -> None:
    response = client.post("/v1/auth/token", data=form)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "unauthorized"
    assert "access_token" not in response.text


def test_sign_in_needs_the_oauth2_form(client: TestClient) -> None:
    assert client.post("/v1/auth/token",
                       json={"username": "e1", "password": "demo"}).status_code == 400
    assert client.post("/v1/auth/token", data={"username": "e1"}).status_code == 400
    assert client.post("/v1/auth/token", data={
        "grant_type": "client_credentials", "username": "e1", "password": "demo"},
    ).status_code == 400


def test_no_password_sign_in_outside_demo_mode_without_a_verifier(tmp_path: Path) -> None:
    settings = security_settings(tmp_path, demo_mode=False)
    fill_store(settings)
    app = create_app(settings)
    with TestClient(app) as client:
        form = {"username": "e1", "password": "demo"}
        assert client.post("/v1/auth/token", data=form).status_code == 401

        class OnlyAda:
            def verify(self, username: str, password: str) -> bool:
                return (username, password) == ("e1", "correct horse")

        app.state.credential_verifier = OnlyAda()
        assert client.post("/v1/auth/token", data=form).status_code == 401
        token = sign_in_with(client, "e1", "correct horse")
        assert me(client, token).json()["user_id"] == "e1"


def sign_in_with(client: TestClient, user: str, password: str) -> str:
    response = client.post("/v1/auth/token", data={"username": user, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def _forge(settings: Settings, key: bytes | str, **changes: Any) -> str:
    now = datetime.now(UTC)
    claims = {"sub": "e1", "role": "employee", "iat": now, "exp": now + timedelta(minutes=5),
              "iss": "waypoint", "aud": "waypoint-api"}
    claims.update(changes)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key,
                      algorithm="HS256")


def test_bad_tokens_are_401(client: TestClient, settings: Settings) -> None:
    good, _ = issue_token(settings, "e1", "employee")
    assert me(client, good).status_code == 200
    past = datetime.now(UTC) - timedelta(hours=2)
    expired, _ = issue_token(settings, "e1", "employee", now=past)
    header, payload, signature = good.split(".")
    tampered = ".".join([header, payload, signature[:-2] + ("AA" if signature[-2:] != "AA"
                                                            else "BB")])
    unsigned = jwt.encode({"sub": "e1", "role": "hr_admin"}, key="", algorithm="none")
    other_key = _forge(settings, b"x" * 32)
    no_exp = _forge(settings, signing_key(settings), exp=None)    # right key, no exp
    wrong_aud = _forge(settings, signing_key(settings), aud="elsewhere")
    assert me(client, _forge(settings, signing_key(settings))).status_code == 200
    for token in [expired, tampered, unsigned, other_key, no_exp, wrong_aud, "garbage"]:
        response = me(client, token)
        assert response.status_code == 401, token
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/v1/auth/me").status_code == 401
    assert client.get("/v1/auth/me", headers={"Authorization": f"Basic {good}"}
                      ).status_code == 401


def test_a_role_is_rechecked_on_every_request(client: TestClient, settings: Settings) -> None:
    manager = sign_in(client, "e2", "manager")
    forged_role, _ = issue_token(settings, "e1", "hr_admin")     # validly signed, role not held
    gone, _ = issue_token(settings, "e-gone", "employee")
    assert me(client, manager).status_code == 200
    assert me(client, forged_role).status_code == 401
    assert me(client, gone).status_code == 401
    org = security_organization()
    org.employees = [e.model_copy(update={"manager_id": None}) if e.manager_id == "e2" else e
                     for e in org.employees]
    fill_store(settings, org)                                    # e2 loses every report
    assert me(client, manager).status_code == 401
    assert me(client, sign_in(client, "e2")).json()["role"] == "employee"


# ------------------------------------------------------------------ secret policy


def test_create_app_refuses_the_placeholder_secret_outside_demo_mode(tmp_path: Path) -> None:
    with pytest.raises(InsecureSecretError, match="WAYPOINT_SECRET_KEY"):
        create_app(Settings(database_url="sqlite://", demo_mode=False))
    with pytest.raises(InsecureSecretError, match="shorter"):
        create_app(Settings(database_url="sqlite://", demo_mode=False, secret_key="short"))
    create_app(Settings(database_url="sqlite://", demo_mode=False, secret_key=SECRET))
    create_app(Settings(database_url="sqlite://", demo_mode=True))      # demo: placeholder ok


def test_tokens_do_not_cross_secrets_or_modes(tmp_path: Path) -> None:
    demo = Settings(database_url="sqlite://", demo_mode=True, secret_key=SECRET)
    real = Settings(database_url="sqlite://", demo_mode=False, secret_key=SECRET)
    token, _ = issue_token(demo, "e1", "employee")
    with pytest.raises(Exception, match="Signature"):
        decode_token(real, token)


# ------------------------------------------------------------------ employees list


def test_hr_admin_lists_employees_in_pages(client: TestClient) -> None:
    token = sign_in(client, "hr-admin")
    first = client.get("/v1/employees?limit=3&offset=0", headers=bearer(token)).json()
    rest = client.get("/v1/employees?limit=10&offset=3", headers=bearer(token)).json()
    assert [e["id"] for e in first["items"]] == ["e1", "e2", "e3"]
    assert [e["id"] for e in rest["items"]] == ["e4", "e5", "e6", "e7"]
    assert first["total"] == rest["total"] == 7
    assert set(first["items"][0]).isdisjoint({"sex", "race_ethnicity", "age_band"})
    assert client.get("/v1/employees?limit=0", headers=bearer(token)).status_code == 422


@pytest.mark.parametrize("user", ["e1", "e2", "e3", "ml-admin"])
def test_only_hr_admin_lists_employees(client: TestClient, user: str) -> None:
    response = client.get("/v1/employees", headers=bearer(sign_in(client, user)))
    assert response.status_code == 403
    assert set(response.json()) == {"error"}


# ------------------------------------------------------------------ rate limits


def test_list_endpoint_is_rate_limited_per_principal(tmp_path: Path) -> None:
    settings = security_settings(tmp_path, rate_limit_per_minute=2)
    fill_store(settings)
    with TestClient(create_app(settings)) as client:
        token = bearer(sign_in(client, "hr-admin"))
        assert [client.get("/v1/employees", headers=token).status_code
                for _ in range(2)] == [200, 200]
        limited = client.get("/v1/employees", headers=token)
        assert limited.status_code == 429
        assert limited.json()["error"]["code"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1
        # another principal has its own bucket
        other = bearer(sign_in(client, "e1"))
        assert client.get("/v1/employees", headers=other).status_code == 403


def test_per_endpoint_override_from_settings(tmp_path: Path) -> None:
    settings = security_settings(tmp_path, rate_limits={"employees.list": 1})
    fill_store(settings)
    with TestClient(create_app(settings)) as client:
        token = bearer(sign_in(client, "hr-admin"))
        codes = [client.get("/v1/employees", headers=token).status_code for _ in range(2)]
    assert codes == [200, 429]


def test_sign_in_attempts_are_rate_limited_per_user_name(tmp_path: Path) -> None:
    settings = security_settings(tmp_path, token_rate_limit_per_minute=3)
    fill_store(settings)
    with TestClient(create_app(settings)) as client:
        codes = [client.post("/v1/auth/token", data={"username": "e1", "password": "guess"}
                             ).status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]
        assert client.post("/v1/auth/token", data={"username": "e2", "password": "demo"}
                           ).status_code == 200


def test_token_bucket_refills_with_time() -> None:
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    assert [limiter.acquire("x", "k", 60) for _ in range(60)] == [0.0] * 60
    assert limiter.acquire("x", "k", 60) == pytest.approx(1.0)
    assert limiter.acquire("x", "other", 60) == 0.0
    now[0] += 1.0
    assert limiter.acquire("x", "k", 60) == 0.0
    assert limiter.acquire("x", "k", 60) > 0.0


def test_limiter_forgets_the_least_recently_used_buckets() -> None:
    limiter = RateLimiter(clock=lambda: 0.0, max_buckets=2)
    for key in ("a", "b", "c"):
        limiter.acquire("x", key, 1)
    assert limiter.acquire("x", "a", 1) == 0.0      # "a" was dropped, so it starts full again
    assert limiter.acquire("x", "c", 1) > 0.0


# ------------------------------------------------------------------ waypoint token


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("WAYPOINT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("WAYPOINT_SECRET_KEY", SECRET)
    monkeypatch.setenv("WAYPOINT_DEMO_MODE", "true")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.mark.parametrize(("role", "user"), [
    ("employee", "e1"), ("manager", "e2"), ("recruiter", "e3"),
    ("ml_admin", "ml-admin"), ("hr_admin", "hr-admin"),
])
def test_cli_token_picks_the_first_demo_user(cli_env: Settings, capsys: pytest.CaptureFixture[str],
                                            role: str, user: str) -> None:
    assert main(["token", "--as", role]) == 0
    claims = decode_token(cli_env, capsys.readouterr().out.strip())
    assert (claims.sub, claims.role) == (user, role)


def test_cli_token_for_a_named_user_and_its_refusals(
        cli_env: Settings, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["token", "--as", "manager", "--user", "e4"]) == 0
    assert decode_token(cli_env, capsys.readouterr().out.strip()).sub == "e4"
    assert main(["token", "--as", "manager", "--user", "e1"]) == 2
    assert "does not hold" in capsys.readouterr().err
    monkeypatch.setenv("WAYPOINT_DEMO_MODE", "false")
    get_settings.cache_clear()
    assert main(["token", "--as", "employee"]) == 2
    assert "outside demo mode" in capsys.readouterr().err


def test_cli_role_choices_match_the_access_roles() -> None:
    assert tuple(r.value for r in UserRole) == ROLES
