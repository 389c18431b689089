"""``waypoint token --as ROLE [--user ID]``: print a bearer token for a demo user (demo mode only).

Without ``--user`` the first demo user of the role in id order is used: employee = the first
employee who is neither a manager nor a recruiter, manager = the first with reports, recruiter =
the first recruiter, ml_admin / hr_admin = the built-in ``ml-admin`` / ``hr-admin`` accounts.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from features.errors import WaypointError

ROLES = ("employee", "manager", "recruiter", "ml_admin", "hr_admin")
"""The values of ``api.security.UserRole`` (kept literal so building the CLI stays light)."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("token", help="print a bearer token for a demo user")
    parser.add_argument("--as", dest="role", required=True, choices=ROLES,
                        help="the access role to act as")
    parser.add_argument("--user", help="employee id (default: the first demo user of the role)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from api.security import demo_user_for, issue_token, resolve_principal
    from api.security.principals import UserRole
    from features.settings import get_settings
    from features.store import Store

    settings = get_settings()
    if not settings.demo_mode:
        raise WaypointError("demo tokens are refused outside demo mode (WAYPOINT_DEMO_MODE=false)")
    role = UserRole(args.role)
    store = Store(settings.database_url)
    try:
        user = args.user or demo_user_for(store, role)
        if user is None:
            raise WaypointError(f"the store holds no demo user with the role {role}; "
                                "run the ingest or simulate stage first")
        principal = resolve_principal(store, user, role)
        if principal is None:
            raise WaypointError(f"{user!r} does not exist or does not hold the role {role}")
    finally:
        store.dispose()
    token, lifetime = issue_token(settings, principal.user_id, principal.role)
    print(f"{principal.user_id} as {principal.role}, valid {lifetime // 60} min", file=sys.stderr)
    print(token)
    return 0
