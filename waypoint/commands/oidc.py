"""``waypoint oidc check [--token TOKEN | --token -] [--role ROLE]``: check the identity-provider
settings against the provider, before users find out.

Fetches ``{WAYPOINT_OIDC_ISSUER}/.well-known/openid-configuration`` and the JWKS it names and
prints the signing keys found; with a token (``-`` reads it from standard input, so it stays out
of the shell history) verifies it as the API would and prints the principal it stands for in the
store (``--role`` as the ``X-Waypoint-Role`` header would ask). Any failure is one line, exit 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from features.errors import WaypointError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("oidc", help="check the identity-provider sign-in settings")
    verbs = parser.add_subparsers(dest="oidc_command", required=True, metavar="VERB")
    check = verbs.add_parser("check", help="fetch the provider's keys; verify a token")
    check.add_argument("--token", help="an access token to verify ('-': read it from stdin)")
    check.add_argument("--role", help="the role to act as (as the X-Waypoint-Role header)")
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    from api.security.bearer import BearerIdentity, principal_for
    from api.security.oidc import OidcVerifier, ProviderUnavailableError
    from api.security.tokens import InvalidTokenError
    from features.settings import get_settings
    from features.store import Store

    settings = get_settings()
    if not settings.oidc_issuer:
        raise WaypointError("WAYPOINT_OIDC_ISSUER is not set: identity-provider sign-in is off")
    verifier = OidcVerifier(settings)
    try:
        keys = verifier.refresh()
    except ProviderUnavailableError as exc:
        raise WaypointError(f"the identity provider is unavailable: {exc}") from exc
    print(f"issuer {settings.oidc_issuer}, audience {settings.oidc_audience!r}")
    print(f"keys from {verifier.jwks_uri}: " + (", ".join(
        f"{kid or '(no kid)'} {key.get('kty')} {key.get('alg', '')}".rstrip()
        for kid, key in keys.items()) or "none usable"))
    if not args.token:
        return 0
    token = sys.stdin.read().strip() if args.token == "-" else args.token
    try:
        identity = verifier.verify(token)
    except (InvalidTokenError, ProviderUnavailableError) as exc:
        raise WaypointError(f"the token is refused: {exc}") from exc
    store = Store(settings.database_url)
    try:
        principal = principal_for(store, BearerIdentity(
            subject=identity.employee_id, from_provider=True,
            admin_roles=identity.admin_roles), args.role)
    finally:
        store.dispose()
    if principal is None:
        raise WaypointError(f"the token is valid but employee {identity.employee_id!r} is not "
                            "in the store or does not hold the role asked for")
    print(f"token valid: user {principal.user_id} as {principal.role}"
          + (f" (admin roles granted: {', '.join(sorted(identity.admin_roles))})"
             if identity.admin_roles else ""))
    return 0
