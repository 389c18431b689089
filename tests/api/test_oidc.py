"""Sign-in from the company's identity provider: OIDC bearer tokens verified against a JWKS
served by a real local HTTP server (tests/support/oidc_provider.py), over a real store."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.app import create_app
from api.security.oidc import OidcConfigurationError, OidcVerifier
from features import tables as t
from features.settings import Settings, get_settings
from tests.support.authz_matrix import fill_store, never_limited, security_settings, sign_in
from tests.support.oidc_provider import AUDIENCE, LocalProvider, rsa_key
from waypoint.cli import main

DISCOVERY = "/realms/acme/.well-known/openid-configuration"
JWKS = "/realms/acme/jwks"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def idp() -> Iterator[LocalProvider]:
    with LocalProvider() as provider:
        yield provider


def oidc_settings(tmp_path: Path, idp: LocalProvider, **overrides: Any) -> Settings:
    settings = security_settings(tmp_path, **idp.settings(**overrides))
    fill_store(settings)
    return settings


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(tmp_path: Path, idp: LocalProvider, clock: Clock) -> Iterator[TestClient]:
    settings = oidc_settings(tmp_path, idp)
    app = create_app(settings)
    app.state.oidc_verifier = OidcVerifier(settings, clock=clock)
    never_limited(app)
    with TestClient(app) as test_client:
        yield test_client


def me(client: TestClient, token: str, role: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    if role:
        headers["X-Waypoint-Role"] = role
    return client.get("/v1/auth/me", headers=headers)


def assert_refused(response: Any, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error"}
    assert words.lower() in response.json()["error"]["message"].lower(), response.json()
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


# ------------------------------------------------------------------ valid tokens


def test_a_provider_token_signs_in_its_employee_and_keys_are_fetched_once(
        client: TestClient, idp: LocalProvider) -> None:
    assert idp.requests == {}                        # nothing fetched before the first token
    for _ in range(3):
        response = me(client, idp.token("e1"))
        assert response.status_code == 200, response.text
        assert response.json() == {"user_id": "e1", "role": "employee", "employee_id": "e1"}
    assert idp.requests == {DISCOVERY: 1, JWKS: 1}
    own = client.get("/v1/employees/e1", headers={"Authorization": f"Bearer {idp.token('e1')}"})
    assert own.status_code == 200 and own.json()["id"] == "e1"


def test_store_roles_and_group_roles(client: TestClient, idp: LocalProvider) -> None:
    assert me(client, idp.token("e2")).json()["role"] == "manager"       # has reports
    assert me(client, idp.token("e3")).json()["role"] == "recruiter"
    assert me(client, idp.token("e7"), "recruiter").json()["role"] == "recruiter"
    hr = idp.token("e1", groups=["staff", "waypoint-hr-admins"])
    assert me(client, hr).json() == {"user_id": "e1", "role": "hr_admin", "employee_id": None}
    employees = client.get("/v1/employees", headers={"Authorization": f"Bearer {hr}"})
    assert employees.status_code == 200 and employees.json()["total"] == 7
    assert me(client, hr, "employee").json()["role"] == "employee"
    ml = idp.token("e4", groups=["waypoint-ml-admins"])
    assert me(client, ml).json() == {"user_id": "e4", "role": "ml_admin", "employee_id": None}
    assert me(client, idp.token("e1", groups="waypoint-ml-admins")).json()["role"] == "ml_admin"
    # a role the user does not hold, through the header: refused, never granted
    assert_refused(me(client, idp.token("e1"), "hr_admin"), 401, "does not hold")
    assert_refused(me(client, idp.token("e1"), "manager"), 401, "does not hold")
    assert_refused(me(client, idp.token("e1"), "superuser"), 401, "does not hold")


def test_an_es256_token_verifies_against_an_ec_key(client: TestClient,
                                                   idp: LocalProvider) -> None:
    idp.keys["ec-1"] = ec.generate_private_key(ec.SECP256R1())
    idp.publish()
    token = idp.token("e1", kid="ec-1", algorithm="ES256")
    assert me(client, token).status_code == 200


def test_a_small_clock_skew_is_tolerated(client: TestClient, idp: LocalProvider) -> None:
    just_expired = idp.token("e1", issued=datetime.now(UTC) - timedelta(minutes=5, seconds=10))
    assert me(client, just_expired).status_code == 200          # 10 s past exp, leeway 30 s
    soon = idp.token("e1", nbf=datetime.now(UTC) + timedelta(seconds=10))
    assert me(client, soon).status_code == 200


def test_demo_tokens_keep_working_beside_provider_tokens(client: TestClient) -> None:
    assert me(client, sign_in(client, "e2", "manager")).json()["role"] == "manager"


def test_keycloak_realm_roles_through_a_nested_claim(tmp_path: Path,
                                                     idp: LocalProvider) -> None:
    settings = oidc_settings(tmp_path, idp, oidc_groups_claim="realm_access.roles",
                             oidc_employee_id_claim="preferred_username")
    with TestClient(create_app(settings)) as client:
        token = idp.token(None, preferred_username="e1",
                          realm_access={"roles": ["waypoint-hr-admins"]})
        assert me(client, token).json()["role"] == "hr_admin"
        assert_refused(me(client, idp.token("e1")), 401, "no employee id")


# ------------------------------------------------------------------ refused tokens


def test_bad_provider_tokens_are_401_with_a_json_body(client: TestClient,
                                                      idp: LocalProvider) -> None:
    past = datetime.now(UTC) - timedelta(hours=2)
    pem = rsa_key(0).public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    claims = {"iss": idp.issuer, "aud": AUDIENCE, "employee_id": "hr-admin",
              "iat": datetime.now(UTC), "exp": datetime.now(UTC) + timedelta(minutes=5)}
    cases = {
        "expired": (idp.token("e1", issued=past), "expired"),
        "not yet valid": (idp.token("e1", nbf=datetime.now(UTC) + timedelta(minutes=10)),
                          "not yet valid"),
        "issued in the future": (idp.token("e1", issued=datetime.now(UTC)
                                           + timedelta(minutes=10)), "not yet valid"),
        "wrong audience": (idp.token("e1", aud="api://someone-else"), "audience"),
        "wrong issuer": (idp.token("e1", iss="https://evil.example/realms/acme"), "issuer"),
        "no expiry": (idp.token("e1", exp=None), "exp"),
        "unknown kid": (idp.token("e1", kid="key-x", key=rsa_key(1)), "unknown key id"),
        "signed by another key": (idp.token("e1", key=rsa_key(1)), "Signature"),
        "alg none": (jwt.encode(claims, key="", algorithm="none"), "not accepted"),
        "alg none with a kid": (jwt.encode(claims, key="", algorithm="none",
                                           headers={"kid": "key-1"}), "not accepted"),
        "HS256 keyed with the provider's public key": (hs256(pem, claims, kid="key-1"),
                                                       "signature"),
        "HS384": (jwt.encode(claims, key=b"k" * 48, algorithm="HS384"), "not accepted"),
        "RS384 (not allowed)": (idp.token("e1", algorithm="RS384"), "not accepted"),
        "ES256 naming the RSA key": (idp.token("e1", kid="key-1", algorithm="ES256",
                                               key=ec.generate_private_key(ec.SECP256R1())),
                                     "the key is for 'RS256'"),
        "garbage": ("not-a-jwt", "invalid bearer token"),
    }
    for name, (token, words) in cases.items():
        response = me(client, token)
        assert response.status_code == 401, (name, response.text)
        assert set(response.json()) == {"error"}, name
        assert words.lower() in response.json()["error"]["message"].lower(), (
            name, response.json())
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), name


def hs256(key: bytes, claims: dict[str, Any], kid: str) -> str:
    """An HS256 token keyed with ``key`` (PyJWT refuses a PEM as an HMAC key, an attacker
    does not)."""
    def part(value: bytes) -> str:
        return jwt.utils.base64url_encode(value).decode()

    body = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in claims.items()}
    signing_input = (part(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
                     + "." + part(json.dumps(body).encode()))
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + part(signature)


def test_a_user_not_in_the_store_is_401(client: TestClient, idp: LocalProvider) -> None:
    assert_refused(me(client, idp.token("e-nobody")), 401, "not in Waypoint")
    # an admin account's name is not an employee, whatever groups the token carries
    assert_refused(me(client, idp.token("hr-admin", groups=["waypoint-hr-admins"])), 401,
                   "not in Waypoint")
    assert_refused(me(client, idp.token(None)), 401, "no employee id")


def test_a_user_who_left_is_refused_whatever_their_groups(client: TestClient,
                                                         idp: LocalProvider) -> None:
    with client.app.state.store.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(t.employee_departures.insert(), [
            {"employee_id": "e1", "left_on": date(2026, 11, 30), "source": "absent"}])
    assert_refused(me(client, idp.token("e1")), 403, "left the organization on 2026-11-30")
    assert_refused(me(client, idp.token("e1", groups=["waypoint-hr-admins"])), 403,
                   "account is closed")
    assert me(client, idp.token("e2")).status_code == 200


def test_the_guard_refuses_before_any_body_is_read(client: TestClient,
                                                   idp: LocalProvider) -> None:
    response = client.post("/v1/events", content=b"{not json",
                           headers={"Authorization": f"Bearer {idp.token('e1', aud='x')}",
                                    "Content-Type": "application/json"})
    assert_refused(response, 401, "audience")


# ------------------------------------------------------------------ keys: rotation, caching


def test_a_rotated_key_is_fetched_once_and_unknown_kids_are_rate_limited(
        client: TestClient, idp: LocalProvider, clock: Clock) -> None:
    assert me(client, idp.token("e1")).status_code == 200
    assert idp.requests[JWKS] == 1
    clock.now += 3600 - 1                           # still within the JWKS TTL
    idp.rotate("key-2", rsa_key(1))
    assert me(client, idp.token("e1", kid="key-2")).status_code == 200   # one refetch
    assert idp.requests[JWKS] == 2
    assert me(client, idp.token("e1", kid="key-2")).status_code == 200
    # made-up key ids right after: refused without asking the provider again
    for n in range(5):
        assert_refused(me(client, idp.token("e1", kid=f"made-up-{n}", key=rsa_key(1))), 401,
                       "unknown key id")
    assert_refused(me(client, idp.token("e1", kid="key-1", key=rsa_key(0))), 401,
                   "unknown key id")                # the dropped key no longer verifies
    assert idp.requests[JWKS] == 2
    clock.now += 30                                 # the minimum refetch interval later
    idp.rotate("key-3", rsa_key(2))
    assert me(client, idp.token("e1", kid="key-3")).status_code == 200
    assert idp.requests[JWKS] == 3


def test_keys_are_refetched_after_their_ttl_and_kept_while_the_provider_is_down(
        client: TestClient, idp: LocalProvider, clock: Clock) -> None:
    assert me(client, idp.token("e1")).status_code == 200
    clock.now += 3600
    assert me(client, idp.token("e1")).status_code == 200
    assert idp.requests[JWKS] == 2
    clock.now += 3600
    idp.down = True                                 # a refresh fails: the held keys serve
    assert me(client, idp.token("e1")).status_code == 200
    assert idp.requests[JWKS] == 2 and idp.requests[DISCOVERY] == 3


def test_an_unreachable_provider_is_a_503_with_retry_after(
        client: TestClient, idp: LocalProvider, clock: Clock) -> None:
    idp.down = True
    for _ in range(3):
        response = me(client, idp.token("e1"))
        assert_refused(response, 503, "identity provider")
        assert response.json()["error"]["code"] == "unavailable"
        assert int(response.headers["Retry-After"]) >= 1
    assert idp.requests[DISCOVERY] == 1             # one attempt per refetch interval
    idp.down = False
    clock.now += 30
    assert me(client, idp.token("e1")).status_code == 200


def test_a_provider_that_does_not_answer_is_a_503(tmp_path: Path, idp: LocalProvider) -> None:
    settings = oidc_settings(tmp_path, idp, oidc_http_timeout_seconds=2.0)
    idp.server.shutdown()
    idp.server.server_close()                       # nothing listens on the port any more
    with TestClient(create_app(settings)) as client:
        assert_refused(me(client, idp.token("e1")), 503, "unreachable")
        # Waypoint's own tokens do not need the provider
        assert me(client, sign_in(client, "e1")).status_code == 200


def test_a_provider_that_hangs_is_a_503_after_the_timeout(tmp_path: Path,
                                                         idp: LocalProvider) -> None:
    settings = oidc_settings(tmp_path, idp, oidc_http_timeout_seconds=0.2)
    idp.stall.set()
    try:
        with TestClient(create_app(settings)) as client:
            assert_refused(me(client, idp.token("e1")), 503, "unreachable")
    finally:
        idp.stall.clear()


def test_a_discovery_document_for_another_issuer_is_refused(
        client: TestClient, idp: LocalProvider) -> None:
    configured = idp.issuer
    idp.issuer = idp.issuer.replace("/realms/acme", "/realms/acme-other")
    # the token says the configured issuer, but the discovery document names another one
    response = me(client, idp.token("e1", iss=configured))
    assert_refused(response, 503, "does not name the issuer")


def test_symmetric_keys_in_the_jwks_are_ignored(client: TestClient,
                                                idp: LocalProvider) -> None:
    secret = b"s" * 32
    idp.publish(extra=[{"kty": "oct", "kid": "hmac", "k": jwt.utils.base64url_encode(secret)
                        .decode(), "alg": "HS256"}])
    claims = {"iss": idp.issuer, "aud": AUDIENCE, "employee_id": "e1",
              "iat": datetime.now(UTC), "exp": datetime.now(UTC) + timedelta(minutes=5)}
    token = jwt.encode(claims, secret, algorithm="HS256", headers={"kid": "hmac"})
    assert_refused(me(client, token), 401, "invalid bearer token")


# ------------------------------------------------------------------ configuration


def test_configuration_is_checked_at_start_without_the_network(tmp_path: Path,
                                                               idp: LocalProvider) -> None:
    with pytest.raises(ValidationError, match="WAYPOINT_OIDC_AUDIENCE"):
        Settings(database_url="sqlite://", oidc_issuer=idp.issuer)
    base = {"database_url": "sqlite://", "oidc_issuer": idp.issuer, "oidc_audience": AUDIENCE}
    with pytest.raises(ValidationError, match="oidc_algorithms"):
        Settings.model_validate({**base, "oidc_algorithms": ["HS256"]})
    with pytest.raises(ValidationError, match="oidc_role_groups"):
        Settings.model_validate({**base, "oidc_role_groups": {"everyone": "recruiter"}})
    with pytest.raises(OidcConfigurationError, match="https"):
        create_app(security_settings(tmp_path, oidc_issuer="http://idp.example.com/realms/a",
                                     oidc_audience=AUDIENCE))
    create_app(security_settings(tmp_path, **idp.settings()))
    assert idp.requests == {}


# ------------------------------------------------------------------ waypoint oidc check


def test_cli_checks_the_provider_and_a_token(tmp_path: Path, idp: LocalProvider,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    settings = oidc_settings(tmp_path, idp)
    monkeypatch.setenv("WAYPOINT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("WAYPOINT_OIDC_ISSUER", idp.issuer)
    monkeypatch.setenv("WAYPOINT_OIDC_AUDIENCE", AUDIENCE)
    monkeypatch.setenv("WAYPOINT_OIDC_ROLE_GROUPS", json.dumps({"waypoint-hr-admins": "hr_admin"}))
    get_settings.cache_clear()
    try:
        assert main(["oidc", "check"]) == 0
        out = capsys.readouterr().out
        assert f"keys from {idp.issuer}/jwks: key-1 RSA RS256" in out
        assert main(["oidc", "check", "--token", idp.token("e2")]) == 0
        assert "token valid: user e2 as manager" in capsys.readouterr().out
        monkeypatch.setattr("sys.stdin", io.StringIO(idp.token("e2", groups=[
            "waypoint-hr-admins"]) + "\n"))
        assert main(["oidc", "check", "--token", "-", "--role", "employee"]) == 0
        assert "user e2 as employee (admin roles granted: hr_admin)" in capsys.readouterr().out
        assert main(["oidc", "check", "--token", idp.token("e2", aud="x")]) == 2
        assert "the token is refused: Audience" in capsys.readouterr().err
        assert main(["oidc", "check", "--token", idp.token("e-nobody")]) == 2
        assert "not in the store" in capsys.readouterr().err
        idp.down = True
        assert main(["oidc", "check"]) == 2
        assert "unavailable" in capsys.readouterr().err
        monkeypatch.delenv("WAYPOINT_OIDC_ISSUER")
        get_settings.cache_clear()
        assert main(["oidc", "check"]) == 2
        assert "is not set" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
