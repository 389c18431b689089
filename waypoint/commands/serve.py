"""``waypoint serve``: run the API with uvicorn."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("serve", help="serve the HTTP API")
    parser.add_argument("--host", help="bind address (default: settings, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: settings, 8000)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from features.settings import get_settings

    settings = get_settings()
    host, port = args.host or settings.host, args.port or settings.port
    print(f"Waypoint API on http://{host}:{port}  (web page: http://{host}:{port}/, "
          f"docs: http://{host}:{port}/docs, health: http://{host}:{port}/healthz)", flush=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
    return 0
