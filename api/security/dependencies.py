"""FastAPI dependencies: `CurrentUser` and `require_roles`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import OAuth2PasswordBearer

from api.deps import SettingsDep, StoreDep
from api.security.principals import Principal, UserRole, resolve_principal
from api.security.tokens import InvalidTokenError, decode_token

TOKEN_URL = "/v1/auth/token"

oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl=TOKEN_URL,
    description="Sign in with an employee id (or ml-admin / hr-admin); in demo mode the "
                "password is 'demo'. Put an access role in `scope` to act as that role.",
)


def unauthorized(message: str, error: str = "invalid_token") -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, message,
                         headers={"WWW-Authenticate": f'Bearer error="{error}"'})


def forbidden(message: str = "you may not see this") -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, message)


def get_current_principal(token: Annotated[str, Depends(oauth2_scheme)],
                          settings: SettingsDep, store: StoreDep) -> Principal:
    """Verify the bearer token and re-check its subject and role against the store."""
    try:
        claims = decode_token(settings, token)
    except InvalidTokenError as exc:
        raise unauthorized(f"invalid bearer token: {exc}") from exc
    principal = resolve_principal(store, claims.sub, claims.role)
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
