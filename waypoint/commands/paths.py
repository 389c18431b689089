"""``waypoint paths``: most reachable next roles for role ids / O*NET-SOC codes read from stdin;
``waypoint paths build`` / ``evaluate``: fit and ship / evaluate the career-path model.

One key per line in; one JSON line out per resolved role: the same body as
``GET /v1/roles/{id}/paths`` (``{"role_id", "role_title", ..., "items": [{"role_id", "title",
"direction", "score", "reasons", ...}]}``, best first), from the same code
(``inference.paths.PathService``). An O*NET-SOC code expands to every role of that occupation.
An unknown key prints one error line to stderr naming the line number and the command goes on;
the exit status is 1 when any key was unknown.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from inference.paths import CareerLattice, PathService


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "paths", help="career paths: next roles for role ids or O*NET codes read from stdin")
    parser.add_argument("--limit", type=int, default=10, help="paths per role (default 10)")
    parser.set_defaults(func=run)
    verbs = parser.add_subparsers(dest="paths_verb", metavar="{build,evaluate}")
    build = verbs.add_parser("build", help="fit the path model and write the occupation graph")
    build.add_argument("--out", type=Path, default=None,
                       help="folder (default <artifact_dir>/occupations/paths)")
    build.set_defaults(func=run_build)
    evaluate = verbs.add_parser(
        "evaluate", help="RP@10 of the path model (cross-validated) and each single signal")
    evaluate.add_argument("--out", type=Path, default=None, help="also write the table here")
    evaluate.set_defaults(func=run_evaluate)


def run(args: argparse.Namespace) -> int:
    from features.settings import get_settings
    from features.store import Store

    settings = get_settings()
    service = PathService(Store(settings.database_url), settings.artifact_dir)
    return write_paths(sys.stdin, service.lattice(), args.limit, sys.stdout, sys.stderr)


def write_paths(lines: Iterable[str], lattice: CareerLattice, limit: int,
                out: IO[str], err: IO[str]) -> int:
    unknown = 0
    for number, line in enumerate(lines, start=1):
        key = line.strip()
        if not key or key.startswith("#"):
            continue
        roles = lattice.resolve(key)
        if not roles:
            print(f"waypoint paths: error: stdin line {number}: unknown role id or O*NET-SOC "
                  f"code {key!r}", file=err)
            unknown += 1
            continue
        for role in roles:
            out.write(json.dumps(lattice.paths(role.id, limit).model_dump(mode="json")) + "\n")
        out.flush()
    return 1 if unknown else 0


def run_build(args: argparse.Namespace) -> int:
    from features.settings import get_settings
    from inference.paths.service import graph_folder
    from training.occupations.paths_stage import build

    settings = get_settings()
    report = build(settings, args.out or graph_folder(settings.artifact_dir))
    print(json.dumps(report["rp_at_10"], indent=2))
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from features.settings import get_settings
    from training.occupations.paths_stage import evaluate, evaluation_table

    table = evaluation_table(evaluate(get_settings()))
    print(table, end="")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table)
    return 0
