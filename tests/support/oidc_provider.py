"""A local identity provider for tests: a real HTTP server on 127.0.0.1 (in a thread) serving
an OpenID discovery document and a JWKS, and the private keys to sign its tokens with.

    with LocalProvider() as idp:
        settings = security_settings(tmp_path, **idp.settings())
        token = idp.token(employee_id="e1", groups=["waypoint-hr-admins"])

`rotate()` publishes a new key (the old one dropped), `requests` counts what was fetched,
`down = True` makes every answer a 500 and `stall.set()` makes answers wait until cleared.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

AUDIENCE = "api://waypoint"
ROLE_GROUPS = {"waypoint-hr-admins": "hr_admin", "waypoint-ml-admins": "ml_admin"}
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
_RSA_KEYS: list[rsa.RSAPrivateKey] = []


def rsa_key(index: int) -> rsa.RSAPrivateKey:
    """The ``index``-th test RSA key (made once per test session: 2048-bit keys are slow)."""
    while len(_RSA_KEYS) <= index:
        _RSA_KEYS.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return _RSA_KEYS[index]


def public_jwk(kid: str, key: PrivateKey) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
        jwk["alg"] = "RS256"
    else:
        jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
        jwk["alg"] = "ES256"
    jwk.update({"kid": kid, "use": "sig"})
    return jwk


class LocalProvider:
    """Discovery at ``{issuer}/.well-known/openid-configuration``, JWKS at ``{issuer}/jwks``."""

    def __init__(self) -> None:
        self.keys: dict[str, PrivateKey] = {"key-1": rsa_key(0)}
        self.published: list[dict[str, Any]] = []
        self.requests: Counter[str] = Counter()
        self.down = False
        self.closing = False
        self.stall = threading.Event()
        """While set, every answer waits until it is cleared (a provider that hangs)."""
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}/realms/acme"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.publish()

    def __enter__(self) -> LocalProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None
                 ) -> None:
        self.closing = True
        self.stall.clear()
        self.server.shutdown()
        self.server.server_close()

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """Settings pointing Waypoint at this provider."""
        values: dict[str, Any] = {"oidc_issuer": self.issuer, "oidc_audience": AUDIENCE,
                                  "oidc_role_groups": ROLE_GROUPS}
        values.update(overrides)
        return values

    def publish(self, extra: list[dict[str, Any]] | None = None) -> None:
        self.published = [public_jwk(kid, key) for kid, key in self.keys.items()]
        self.published += extra or []

    def rotate(self, kid: str, key: PrivateKey) -> None:
        """Publish ``key`` as ``kid`` and drop every earlier key."""
        self.keys = {kid: key}
        self.publish()

    def token(self, employee_id: str | None = "e1", *, groups: list[str] | str | None = None,
              kid: str | None = "key-1", key: PrivateKey | None = None,
              algorithm: str = "RS256", lifetime: timedelta = timedelta(minutes=5),
              issued: datetime | None = None, **claims: Any) -> str:
        """A token as the provider signs it; any claim can be overridden (None drops it)."""
        now = issued or datetime.now(UTC)
        values: dict[str, Any] = {"iss": self.issuer, "aud": AUDIENCE, "sub": "idp-user-1",
                                  "iat": now, "exp": now + lifetime,
                                  "employee_id": employee_id, "groups": groups or []}
        values.update(claims)
        payload = {k: v for k, v in values.items() if v is not None}
        signer = key if key is not None else self.keys[kid or "key-1"]
        headers = {"kid": kid} if kid is not None else None
        return jwt.encode(payload, signer, algorithm=algorithm, headers=headers)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                provider.requests[path] += 1
                while provider.stall.is_set():
                    provider.stall.wait(0.05)
                    if not provider.stall.is_set() or provider.closing:
                        break
                prefix = "/realms/acme"
                documents: dict[str, Any] = {
                    f"{prefix}/.well-known/openid-configuration": {
                        "issuer": provider.issuer, "jwks_uri": f"{provider.issuer}/jwks",
                        "id_token_signing_alg_values_supported": ["RS256", "ES256"]},
                    f"{prefix}/jwks": {"keys": provider.published},
                }
                if provider.down or path not in documents:
                    self.send_response(500 if provider.down else 404)
                    self.end_headers()
                    return
                body = json.dumps(documents[path]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler
