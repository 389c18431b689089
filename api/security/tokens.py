"""Signed bearer tokens (JWT, HS256) and the secret-key policy.

Outside demo mode the secret must be set (``WAYPOINT_SECRET_KEY``), differ from the placeholder
and be at least 32 bytes; `check_secret` raises `InsecureSecretError` otherwise, and the app
factory calls it before anything else. In demo mode a placeholder or short secret is replaced by a
random one kept in ``<artifact_dir>/.demo-secret`` (mode 0600, made on first use), so
``waypoint token`` and ``waypoint serve`` agree and nobody can forge a token from the public
placeholder; the signing key is derived from the secret, so demo and real tokens never mix.

A token is accepted only when ``exp`` and ``iat`` are numbers, ``iat`` is not in the future and
``exp - iat`` is at most ``token_ttl_minutes`` (a token minted with a longer life is refused).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

from features.errors import WaypointError
from features.settings import Settings

PLACEHOLDER_SECRET = "change-me"
MIN_SECRET_BYTES = 32
ALGORITHM = "HS256"
ISSUER = "waypoint"
AUDIENCE = "waypoint-api"
DEMO_SECRET_FILE = ".demo-secret"
CLOCK_SKEW_S = 60
_demo_secrets: dict[Path, bytes] = {}
_demo_lock = threading.Lock()


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


def weak_secret(secret: str) -> bool:
    return secret == PLACEHOLDER_SECRET or len(secret.encode()) < MIN_SECRET_BYTES


def demo_secret(artifact_dir: Path) -> bytes:
    """The installation's random demo secret (created once, readable by its owner only)."""
    path = (artifact_dir / DEMO_SECRET_FILE).resolve()
    with _demo_lock:
        if path not in _demo_secrets:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_urlsafe(48))
            _demo_secrets[path] = path.read_bytes().strip()
        return _demo_secrets[path]


def signing_key(settings: Settings) -> bytes:
    check_secret(settings)
    if settings.demo_mode:
        secret = settings.secret_key.encode()
        if weak_secret(settings.secret_key):
            secret = demo_secret(settings.artifact_dir)
        return hashlib.sha256(b"waypoint-demo:" + secret).digest()
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
    except (jwt.PyJWTError, TypeError, ValueError, OverflowError) as exc:
        raise InvalidTokenError(str(exc)) from exc
    sub, role, exp, iat = claims["sub"], claims["role"], claims["exp"], claims["iat"]
    if not isinstance(sub, str) or not isinstance(role, str):
        raise InvalidTokenError("sub and role must be strings")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (exp, iat)):
        raise InvalidTokenError("exp and iat must be numbers")
    now = datetime.now(UTC).timestamp()
    if iat > now + CLOCK_SKEW_S:
        raise InvalidTokenError("the token is issued in the future")
    if exp - iat > settings.token_ttl_minutes * 60:
        raise InvalidTokenError(f"the token lives longer than the maximum "
                                f"{settings.token_ttl_minutes} minutes")
    return TokenClaims(sub=sub, role=role, exp=datetime.fromtimestamp(exp, UTC))
