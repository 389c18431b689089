"""``POST /v1/auth/token`` (OAuth2 password flow) and ``GET /v1/auth/me``.

The form is parsed here from ``application/x-www-form-urlencoded`` (the body OAuth2 clients and
the /docs "Authorize" dialog send) so that ``python-multipart`` is not needed.

Sign-in is throttled twice, both before the password is checked: per client address, whatever
the user names (``token_address_rate_limit_per_minute``: spraying one password across names is
slow), checked before the form is even read; and per (user name, client address)
(``token_rate_limit_per_minute``: guessing one user's password is slow). There is no per-name
lock: a third party's failed attempts empty only their own buckets, never the user's.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import BaseModel, Field, ValidationError

from api.deps import SettingsDep, StoreDep
from api.ratelimit import LIMITED, client_address, limiter_for, rate_limited, too_many
from api.security import (
    TOKEN_URL,
    Principal,
    UserRole,
    issue_token,
    refuse_leaver,
    unauthorized,
)
from api.security.principals import CredentialVerifier, DemoCredentials, NoCredentials
from api.security.principals import resolve_principal as resolve

router = APIRouter(tags=["auth"])

MAX_FORM_BYTES = 4096
BODY_LIMITS = {TOKEN_URL: MAX_FORM_BYTES}
FORM_SCHEMA = {
    "type": "object",
    "required": ["username", "password"],
    "properties": {
        "grant_type": {"type": "string", "enum": ["password"]},
        "username": {"type": "string", "description": "employee id, or ml-admin / hr-admin"},
        "password": {"type": "string", "format": "password"},
        "scope": {"type": "string", "description": "the access role to act as (optional): "
                  + ", ".join(r.value for r in UserRole)},
    },
}


class TokenRequest(BaseModel):
    grant_type: Literal["password"] = "password"
    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=256)
    scope: str = ""


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    role: UserRole


def address_throttle(request: Request, settings: SettingsDep) -> str:
    """Spend one sign-in attempt of the client address; returns the address."""
    address = client_address(request)
    wait = limiter_for(request).acquire("auth.token.address", address,
                                        settings.token_address_rate_limit_per_minute)
    if wait > 0:
        raise too_many(wait)
    return address


LIMITED[address_throttle] = "auth.token.address"


async def token_form(request: Request,
                     _address: Annotated[str, Depends(address_throttle)]) -> TokenRequest:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            "send the OAuth2 password form as application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "form too large")
    fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items() if v}
    try:
        return TokenRequest.model_validate(fields)
    except ValidationError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            "the form needs grant_type=password, username and password") from exc


def credential_verifier(request: Request, settings: SettingsDep) -> CredentialVerifier:
    if settings.demo_mode:
        return DemoCredentials()
    verifier: CredentialVerifier = getattr(request.app.state, "credential_verifier",
                                           NoCredentials())
    return verifier


@router.post(TOKEN_URL, response_model=Token,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/x-www-form-urlencoded": {"schema": FORM_SCHEMA}}}})
def sign_in(address: Annotated[str, Depends(address_throttle)],
            form: Annotated[TokenRequest, Depends(token_form)], request: Request,
            response: Response, settings: SettingsDep, store: StoreDep,
            verifier: Annotated[CredentialVerifier, Depends(credential_verifier)]) -> Token:
    """Exchange a user name and password for a signed bearer token."""
    wait = limiter_for(request).acquire("auth.token", f"{form.username.lower()}@{address}",
                                        settings.token_rate_limit_per_minute)
    if wait > 0:
        raise too_many(wait)
    role = form.scope.strip() or None
    principal = resolve(store, form.username, role)
    if not verifier.verify(form.username, form.password) or principal is None:
        raise unauthorized("incorrect user name, password or role", error="invalid_grant")
    refuse_leaver(store, principal.user_id)
    token, lifetime = issue_token(settings, principal.user_id, principal.role)
    response.headers["Cache-Control"] = "no-store"
    return Token(access_token=token, expires_in=lifetime, role=principal.role)


@router.get("/v1/auth/me", response_model=Principal)
def me(principal: Annotated[Principal, Depends(rate_limited("auth.me"))]) -> Principal:
    """Who the bearer token says you are."""
    return principal
