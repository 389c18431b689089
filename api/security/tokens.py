"""Signed bearer tokens (JWT, HS256) and the secret-key policy.

Outside demo mode the secret must be set (``WAYPOINT_SECRET_KEY``), differ from the placeholder
and be at least 32 bytes; `check_secret` raises `InsecureSecretError` otherwise, and the app
factory calls it before anything else. In demo mode the signing key is derived from whatever
the secret is (placeholder included), so ``waypoint token`` and ``waypoint serve`` agree.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from features.errors import WaypointError
from features.settings import Settings

PLACEHOLDER_SECRET = "change-me"
MIN_SECRET_BYTES = 32
ALGORITHM = "HS256"
ISSUER = "waypoint"
AUDIENCE = "waypoint-api"


class InsecureSecretError(WaypointError):
    """The secret key is unset, the placeholder, or too short outside demo mode."""


class InvalidTokenError(Exception):
    """A bearer token that is malformed, expired, or not signed by us."""


@dataclass(frozen=True)
class TokenClaims:
    sub: str
    role: str
    exp: datetime


def check_secret(settings: Settings) -> None:
    """Refuse to run with a guessable signing secret outside demo mode."""
    if settings.demo_mode:
        return
    if settings.secret_key == PLACEHOLDER_SECRET:
        raise InsecureSecretError(
            "WAYPOINT_SECRET_KEY is the placeholder 'change-me' and demo mode is off; "
            "set a random secret of at least 32 bytes (python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))')")
    if len(settings.secret_key.encode()) < MIN_SECRET_BYTES:
        raise InsecureSecretError(
            f"WAYPOINT_SECRET_KEY is shorter than {MIN_SECRET_BYTES} bytes and demo mode is off")


def signing_key(settings: Settings) -> bytes:
    check_secret(settings)
    if settings.demo_mode:
        return hashlib.sha256(b"waypoint-demo:" + settings.secret_key.encode()).digest()
    return settings.secret_key.encode()


def issue_token(settings: Settings, subject: str, role: str,
                now: datetime | None = None) -> tuple[str, int]:
    """A signed token for ``subject`` acting as ``role``; returns (token, lifetime seconds)."""
    issued = now or datetime.now(UTC)
    lifetime = timedelta(minutes=settings.token_ttl_minutes)
    claims = {"sub": subject, "role": role, "iat": issued, "exp": issued + lifetime,
              "iss": ISSUER, "aud": AUDIENCE}
    return jwt.encode(claims, signing_key(settings), algorithm=ALGORITHM), int(
        lifetime.total_seconds())


def decode_token(settings: Settings, token: str) -> TokenClaims:
    """Verify signature, algorithm, issuer, audience and expiry; raise `InvalidTokenError`."""
    try:
        claims = jwt.decode(
            token, signing_key(settings), algorithms=[ALGORITHM], audience=AUDIENCE,
            issuer=ISSUER, options={"require": ["sub", "role", "exp", "iat", "iss", "aud"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidTokenError(str(exc)) from exc
    sub, role = claims["sub"], claims["role"]
    if not isinstance(sub, str) or not isinstance(role, str):
        raise InvalidTokenError("sub and role must be strings")
    return TokenClaims(sub=sub, role=role, exp=datetime.fromtimestamp(claims["exp"], UTC))
