"""FastAPI dependencies: `CurrentUser` and `require_roles`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from api.deps import SettingsDep, StoreDep
from api.security.bearer import ROLE_HEADER, authenticate, principal_for
from api.security.oidc import OidcVerifier, ProviderUnavailableError
from api.security.principals import Principal, UserRole
from api.security.tokens import InvalidTokenError
from features.store import Store

TOKEN_URL = "/v1/auth/token"

oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl=TOKEN_URL,
    description="Sign in with an employee id (or ml-admin / hr-admin); in demo mode the "
                "password is 'demo'. Put an access role in `scope` to act as that role. "
                "Where WAYPOINT_OIDC_ISSUER is set, an access token from the company's "
                "identity provider is accepted as the bearer token too (the header "
                "X-Waypoint-Role picks a role).",
)


def unauthorized(message: str, error: str = "invalid_token") -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, message,
                         headers={"WWW-Authenticate": f'Bearer error="{error}"'})


def forbidden(message: str = "you may not see this") -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, message)


def refuse_leaver(store: Store, user_id: str) -> None:
    """403 when ``user_id`` is an employee who left the organization (``waypoint import``
    marks them; their rows and history stay): a leaver's sign-in is closed, whatever the token
    or password (docs/data-format.md, "People who leave")."""
    left = store.left_on(user_id)
    if left is not None:
        raise forbidden(f"employee {user_id!r} left the organization on {left.isoformat()}: "
                        "their Waypoint account is closed")


def provider_unavailable(exc: ProviderUnavailableError) -> HTTPException:
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc),
                         headers={"Retry-After": exc.retry_after})


def oidc_verifier(request: Request) -> OidcVerifier | None:
    """The app's identity-provider verifier (``app.state.oidc_verifier``), None without one."""
    verifier: OidcVerifier | None = getattr(request.app.state, "oidc_verifier", None)
    return verifier


def get_current_principal(token: Annotated[str, Depends(oauth2_scheme)], request: Request,
                          settings: SettingsDep, store: StoreDep) -> Principal:
    """Verify the bearer token (Waypoint's or the identity provider's) and re-check its
    subject and role against the store."""
    try:
        identity = authenticate(settings, oidc_verifier(request), token)
    except InvalidTokenError as exc:
        raise unauthorized(f"invalid bearer token: {exc}") from exc
    except ProviderUnavailableError as exc:
        raise provider_unavailable(exc) from exc
    refuse_leaver(store, identity.subject)
    requested = request.headers.get(ROLE_HEADER) if identity.from_provider else None
    principal = principal_for(store, identity, requested)
    if principal is None and identity.from_provider:
        raise unauthorized(f"employee {identity.subject!r} of the identity provider's token is "
                           "not in Waypoint or does not hold the role asked for")
    if principal is None:
        raise unauthorized("the token's user no longer exists or no longer holds its role")
    return principal


CurrentUser = Annotated[Principal, Depends(get_current_principal)]


def require_roles(*roles: UserRole) -> Callable[[Principal], Principal]:
    """A dependency that returns the principal when its role is one of ``roles``, else 403."""
    allowed = frozenset(roles)
    if not allowed:
        raise ValueError("require_roles needs at least one role")

    def dependency(principal: CurrentUser) -> Principal:
        if principal.role not in allowed:
            raise forbidden(f"this needs one of the roles: {', '.join(sorted(allowed))}")
        return principal

    dependency.__name__ = f"require_roles_{'_'.join(sorted(allowed))}"
    return dependency
