"""The identity provider's JWKS and claims as Waypoint reads them (api/security/oidc.py)."""

from __future__ import annotations

import pytest

from api.security.oidc import (
    OidcConfigurationError,
    OidcVerifier,
    check_provider_url,
    claim_at,
    signing_keys,
)
from api.security.tokens import InvalidTokenError
from features.settings import Settings


def test_only_asymmetric_signing_keys_are_kept() -> None:
    jwks = {"keys": [
        {"kty": "RSA", "kid": "r", "n": "x", "e": "AQAB"},
        {"kty": "EC", "kid": "e", "crv": "P-256", "x": "x", "y": "y", "use": "sig"},
        {"kty": "oct", "kid": "h", "k": "c2VjcmV0"},             # a shared secret: never
        {"kty": "RSA", "kid": "enc", "n": "x", "e": "AQAB", "use": "enc"},
        {"kty": "OKP", "kid": "o", "crv": "Ed25519", "x": "x"},
        "not a key", {"kty": "RSA", "kid": 7, "n": "x", "e": "AQAB"},
    ]}
    assert sorted(signing_keys(jwks)) == ["e", "r"]
    bad: object
    for bad in ({}, {"keys": "x"}, [], None):
        with pytest.raises(ValueError, match="keys"):
            signing_keys(bad)


def test_claims_are_read_by_name_or_dotted_path() -> None:
    claims = {"employee_id": "e1", "realm_access": {"roles": ["a"]}, "odd.name": "x"}
    assert claim_at(claims, "employee_id") == "e1"
    assert claim_at(claims, "realm_access.roles") == ["a"]
    assert claim_at(claims, "odd.name") == "x"
    assert claim_at(claims, "realm_access.missing") is None
    assert claim_at(claims, "employee_id.deeper") is None


@pytest.mark.parametrize("url", ["http://idp.example.com/realms/a", "ftp://127.0.0.1/x",
                                 "https:///no-host", "http://10.0.0.1/x"])
def test_provider_urls_must_be_https_outside_loopback(url: str) -> None:
    with pytest.raises(OidcConfigurationError, match="https"):
        check_provider_url(url, "issuer")


@pytest.mark.parametrize("url", ["https://sso.acme.example/realms/acme", "http://127.0.0.1:8080/x",
                                 "http://localhost/x", "http://[::1]:9/x"])
def test_https_and_loopback_urls_are_accepted(url: str) -> None:
    check_provider_url(url, "issuer")


def test_groups_map_only_to_the_roles_of_the_table() -> None:
    verifier = OidcVerifier(Settings(
        database_url="sqlite://", oidc_issuer="https://sso.acme.example/realms/acme",
        oidc_audience="waypoint", oidc_role_groups={"hr": "hr_admin", "ml": "ml_admin"}))
    assert verifier.identity({"employee_id": "e1", "groups": ["hr", "staff", 3]}).admin_roles \
        == {"hr_admin"}
    assert verifier.identity({"employee_id": "e1", "groups": "ml"}).admin_roles == {"ml_admin"}
    assert verifier.identity({"employee_id": "e1", "groups": {"hr": 1}}).admin_roles == set()
    assert verifier.identity({"employee_id": "e1"}).admin_roles == set()
    for claims in ({}, {"employee_id": ""}, {"employee_id": 42}, {"employee_id": "e" * 129}):
        with pytest.raises(InvalidTokenError, match="employee id"):
            verifier.identity(claims)
