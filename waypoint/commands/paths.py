"""``waypoint paths``: most reachable next roles for role ids / O*NET-SOC codes read from stdin.

One key per line in; one JSON line out per resolved role:
``{"role_id", "onet_code", "paths": [{"role_id", "onet_code", "title", "score"}, ...]}``, best
first. An O*NET-SOC code expands to every role of that occupation. An unknown key prints one
error line to stderr and the command goes on; the exit status is 1 when any key was unknown.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import IO, Any

from features.domain import CareerChange, Requirement, RequirementProfile
from features.store import Store
from inference.paths import CareerLattice, PathWeights


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "paths", help="career paths: next roles for role ids or O*NET codes read from stdin")
    parser.add_argument("--limit", type=int, default=10, help="paths per role (default 10)")
    parser.add_argument("--max-step-up", type=int, default=PathWeights.max_step_up,
                        help="highest level step considered (default 2)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from features.settings import get_settings

    store = Store(get_settings().database_url)
    lattice = lattice_from_store(store, PathWeights(max_step_up=args.max_step_up))
    return write_paths(sys.stdin, lattice, args.limit, sys.stdout, sys.stderr)


def write_paths(lines: Iterable[str], lattice: CareerLattice, limit: int,
                out: IO[str], err: IO[str]) -> int:
    unknown = 0
    for line in lines:
        key = line.strip()
        if not key or key.startswith("#"):
            continue
        roles = lattice.resolve(key)
        if not roles:
            print(f"waypoint paths: error: unknown role id or O*NET-SOC code {key!r}", file=err)
            unknown += 1
            continue
        for role in roles:
            steps = lattice.next_roles(role.id, limit)
            out.write(json.dumps({"role_id": role.id, "onet_code": role.onet_code,
                                  "paths": [s.as_json() for s in steps]}) + "\n")
        out.flush()
    return 1 if unknown else 0


def lattice_from_store(store: Store, weights: PathWeights | None = None) -> CareerLattice:
    """Roles and moves from the store, Career Changers from the reference tables, and role
    requirement profiles from the skills their opportunities named."""
    from sqlalchemy import inspect, select

    from features import tables as t
    from features.errors import WaypointError

    if not inspect(store.engine).has_table(t.roles.name):
        raise WaypointError(f"no roles in the store at {store.url}: run `waypoint ingest` and "
                            "`waypoint simulate` first")
    with store.engine.connect() as conn:
        changes = [CareerChange.model_validate(dict(row))
                   for row in conn.execute(select(t.career_changers)).mappings()]
    named: dict[str, Counter[str]] = defaultdict(Counter)
    for opp in store.opportunities():
        if opp.role_id:
            named[opp.role_id].update(opp.skill_uris)
    requirements = {
        role_id: RequirementProfile(subject_id=role_id, requirements=tuple(
            Requirement(skill_uri=uri, importance=n / max(counts.values()), level=0.5)
            for uri, n in sorted(counts.items())))
        for role_id, counts in named.items() if counts}
    return CareerLattice(store.roles(), store.moves(), changes, requirements, weights)
