"""One bearer token, either kind: Waypoint's own (HS256, from ``POST /v1/auth/token``) or the
company identity provider's (`api.security.oidc`), and the principal it stands for.

The kind is told by the token header's ``alg``: ``HS256`` is Waypoint's; anything else goes to
the provider's verifier when one is configured (which accepts only its asymmetric allow-list,
so ``none`` or an HMAC token never passes there) and to Waypoint's own check otherwise.

A provider token names an employee (``oidc_employee_id_claim``), who must exist in the store, on
every request. Roles: the admin roles its groups grant (``oidc_role_groups``) and the store
roles the employee holds (employee; manager with reports; recruiter with ``is_recruiter``). The
caller acts as the role named in the ``X-Waypoint-Role`` header when they hold it, else as the
first held of hr_admin, ml_admin, manager, recruiter, employee. An admin role acts as the admin
account does (no employee's own data), under the employee's id as user id.
"""

from __future__ import annotations

from dataclasses import dataclass

import jwt

from api.security.oidc import OidcVerifier
from api.security.principals import Principal, UserRole, employee_principal, resolve_principal
from api.security.tokens import ALGORITHM, decode_token
from features.settings import Settings
from features.store import Store

ROLE_HEADER = "X-Waypoint-Role"
"""Request header naming the role a provider token's user acts as (optional)."""
ADMIN_ROLE_ORDER = (UserRole.HR_ADMIN, UserRole.ML_ADMIN)


@dataclass(frozen=True)
class BearerIdentity:
    """Who a verified token names, before the store is asked."""

    subject: str
    from_provider: bool
    role: str | None = None
    """The role a Waypoint token names (None for a provider token)."""
    admin_roles: frozenset[str] = frozenset()
    """The admin roles a provider token's groups grant."""


def is_provider_token(token: str) -> bool:
    """Whether the token is not one of Waypoint's own (its header's ``alg`` is not ours)."""
    try:
        return jwt.get_unverified_header(token).get("alg") != ALGORITHM
    except jwt.PyJWTError:
        return False


def authenticate(settings: Settings, verifier: OidcVerifier | None, token: str
                 ) -> BearerIdentity:
    """Verify either kind of token; raises `InvalidTokenError` (401) or, for a provider token,
    `ProviderUnavailableError` (503)."""
    if verifier is not None and is_provider_token(token):
        identity = verifier.verify(token)
        return BearerIdentity(subject=identity.employee_id, from_provider=True,
                              admin_roles=identity.admin_roles)
    claims = decode_token(settings, token)
    return BearerIdentity(subject=claims.sub, from_provider=False, role=claims.role)


def principal_for(store: Store, identity: BearerIdentity,
                  requested_role: str | None = None) -> Principal | None:
    """The principal the identity stands for now, or None when its user is not in the store or
    does not hold the role (the token's, or for a provider token the requested one)."""
    if not identity.from_provider:
        return resolve_principal(store, identity.subject, identity.role)
    employee = store.employee(identity.subject)
    if employee is None:
        return None
    try:
        wanted = UserRole(requested_role) if requested_role else None
    except ValueError:
        return None
    admins = [r for r in ADMIN_ROLE_ORDER if r in identity.admin_roles]
    if wanted in admins or (wanted is None and admins):
        return Principal(user_id=employee.id, role=wanted or admins[0])
    if wanted in ADMIN_ROLE_ORDER:
        return None
    return employee_principal(store, employee, wanted)
