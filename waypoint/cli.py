"""``waypoint`` with one subcommand per pipeline stage.

Every module listed in `COMMANDS` contributes verbs through ``register(subparsers)``; a verb
sets ``func(args) -> int`` on its parser. Command modules are the only place that imports
``training``, ``inference`` and ``api`` together. Errors Waypoint understands print one
clear line and exit 2; nothing else is swallowed.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from features.errors import WaypointError
from features.settings import set_offline_environment
from waypoint.commands import (
    audit,
    crosswalk,
    data,
    ingest,
    oidc,
    organization,
    paths,
    rank,
    registry,
    serve,
    simulate,
    skills,
    titles,
    token,
    train,
)

COMMANDS = (audit, crosswalk, data, ingest, oidc, organization, paths, rank, registry, serve,
            simulate, skills, titles, token, train)
"""Every module that registers ``waypoint`` verbs, in ``--help`` order."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="waypoint", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    set_offline_environment()
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.func(args) or 0)
    except WaypointError as exc:
        print(f"waypoint {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
