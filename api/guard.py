"""Limits before work: an ASGI middleware that checks the bearer token and the body size before
any route reads (or FastAPI parses) a byte of the body.

For every ``/v1`` path except the sign-in ones (`PUBLIC_PATHS`) a request without a valid,
unexpired token, signed by us or by the configured identity provider (`api.security.oidc`: its
keys are fetched in a worker thread, off the event loop; an unreachable provider answers 503),
answers 401 at once, body unread: a malformed or huge body from an anonymous caller costs
nothing. (The dependencies still resolve the token's subject against
the store and check roles.) Every request's body is limited: a ``Content-Length`` over the
limit answers 413 before reading; a body without one (chunked) is counted as it streams in and
cut off with a 413 as soon as it passes the limit. The limit is ``settings.max_body_bytes``,
or a route module's ``BODY_LIMITS[path]`` (the skills text endpoint takes more).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.security.bearer import authenticate, is_provider_token
from api.security.oidc import KeysNeededError, OidcVerifier, ProviderUnavailableError
from api.security.tokens import InvalidTokenError
from features.settings import Settings

PUBLIC_PATHS = frozenset({"/v1/auth/token", "/v1/auth/demo-users"})
"""``/v1`` paths answered without a token (the sign-in form has its own small limit)."""


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over {limit} bytes")


def _error(status: int, code: str, message: str,
           headers: Mapping[str, str] | None = None) -> tuple[Message, Message]:
    body = json.dumps({"error": {"code": code, "message": message, "detail": None}}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return ({"type": "http.response.start", "status": status, "headers": raw},
            {"type": "http.response.body", "body": body})


class RequestGuard:
    """Authentication and the body-size limit, ahead of routing (see the module notes)."""

    def __init__(self, app: ASGIApp, settings: Settings,
                 body_limits: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.settings = settings
        self.body_limits = dict(body_limits or {})

    async def _refusal(self, scope: Scope, headers: Headers
                       ) -> tuple[int, str, str, dict[str, str]] | None:
        """(status, code, message, headers) refusing the request's bearer token, or None when
        it is valid."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return 401, "unauthorized", "Not authenticated", {"WWW-Authenticate": "Bearer"}
        app: Any = scope.get("app")
        verifier: OidcVerifier | None = getattr(getattr(app, "state", None), "oidc_verifier",
                                                None)
        try:
            if verifier is not None and is_provider_token(token):
                try:
                    verifier.verify(token, offline=True)
                except KeysNeededError:            # fetching the JWKS blocks: not on the loop
                    await run_in_threadpool(verifier.verify, token)
            else:
                authenticate(self.settings, None, token)
        except InvalidTokenError as exc:
            return 401, "unauthorized", f"invalid bearer token: {exc}", {
                "WWW-Authenticate": 'Bearer error="invalid_token"'}
        except ProviderUnavailableError as exc:
            return 503, "unavailable", str(exc), {"Retry-After": exc.retry_after}
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = Headers(scope=scope)
        if path.startswith("/v1/") and path not in PUBLIC_PATHS:
            refusal = await self._refusal(scope, headers)
            if refusal is not None:
                await self._send(send, *refusal)
                return
        limit = self.body_limits.get(path, self.settings.max_body_bytes)
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            bad = not length.isdigit()
            await self._send(send, 400 if bad else 413, "bad_request" if bad else "too_large",
                             "invalid Content-Length" if bad else f"request body over {limit} "
                             "bytes")
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge as exc:  # read outside a route (no exception handler on the way)
            if started:
                raise
            await self._send(send, 413, "too_large", str(exc.detail))

    @staticmethod
    async def _send(send: Send, status: int, code: str, message: str,
                    headers: Mapping[str, str] | None = None) -> None:
        start, body = _error(status, code, message, headers)
        await send(start)
        await send(body)
