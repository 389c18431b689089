"""``waypoint serve``: run the API with uvicorn, refusing unsafe configurations.

Refused (exit 2, one line): outside demo mode, the placeholder or a short secret
(`api.security.check_secret`); in demo mode (``--demo`` or ``WAYPOINT_DEMO_MODE=true``), any
bind address but loopback, unless ``--force-public-demo`` (``WAYPOINT_DEMO_PUBLIC=true``) says
so: demo accounts all share the password ``demo``. Demo mode is announced loudly in the log.
``--workers N`` (N > 1) runs N processes, each on its own ``SO_REUSEPORT`` socket
(``api.workers``: uvicorn's shared socket piled keep-alive connections onto one worker).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from typing import Any

from features.errors import WaypointError

DEMO_BANNER = "*" * 78


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("serve", help="serve the HTTP API")
    parser.add_argument("--host", help="bind address (default: settings, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: settings, 8000)")
    parser.add_argument("--demo", action="store_true",
                        help="demo mode: demo accounts with the password 'demo' (loopback only)")
    parser.add_argument("--force-public-demo", action="store_true",
                        help="allow demo mode on a non-loopback address (never in production)")
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes (default 1: the app in this process)")
    parser.set_defaults(func=run)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import DEMO_WARNING, create_app
    from api.http_protocol import PROTOCOL
    from features.settings import get_settings

    if args.workers < 1:
        raise WaypointError(f"--workers must be at least 1, not {args.workers}")
    settings = get_settings()
    updates = {k: True for k, on in (("demo_mode", args.demo),
                                      ("demo_public", args.force_public_demo)) if on}
    if updates:
        settings = settings.model_copy(update=updates)
    host, port = args.host or settings.host, args.port or settings.port
    if settings.demo_mode and not is_loopback(host) and not settings.demo_public:
        raise WaypointError(
            f"demo mode refuses to serve on {host}: every demo account's password is 'demo'. "
            "Bind to 127.0.0.1, or pass --force-public-demo if you really mean it")
    app = create_app(settings)  # refuses a weak secret outside demo mode
    if settings.demo_mode:
        print(f"{DEMO_BANNER}\n{DEMO_WARNING}\n{DEMO_BANNER}", file=sys.stderr, flush=True)
    print(f"Waypoint API on http://{host}:{port}  (web page: http://{host}:{port}/, "
          f"docs: http://{host}:{port}/docs, health: http://{host}:{port}/healthz)", flush=True)
    if args.workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="info", http=PROTOCOL)
        return 0
    for key, on in (("WAYPOINT_DEMO_MODE", settings.demo_mode),
                    ("WAYPOINT_DEMO_PUBLIC", settings.demo_public)):
        if on:  # the workers build their own app from the environment (api/asgi.py)
            os.environ[key] = "true"
    from api.workers import serve_workers

    return serve_workers("api.asgi:app", host, port, args.workers)
