"""``waypoint crosswalk``: the HR admin's O*NET -> ESCO occupation overrides (docs/crosswalk.md).

``waypoint crosswalk set CODE URI|none --note TEXT`` adds or replaces one override in the
overrides file (``WAYPOINT_CROSSWALK_OVERRIDES``, default ``data/crosswalk_overrides.csv``);
``waypoint crosswalk show CODE`` prints the published mapping's row and any override. The next
``dvc repro`` rebuilds what depends on the mapping (the simulated company, profiles, occupation
signals).
"""

from __future__ import annotations

import argparse
import csv
import json
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("crosswalk", help="review or override O*NET -> ESCO mappings")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    setter = verbs.add_parser("set", help="override one O*NET occupation's ESCO occupation")
    setter.add_argument("code", help="O*NET-SOC code, e.g. 15-1212.00")
    setter.add_argument("esco_uri", help="ESCO occupation URI, or 'none' for no ESCO occupation")
    setter.add_argument("--note", required=True, help="why (kept in the file, for review)")
    setter.set_defaults(func=run_set)
    show = verbs.add_parser("show", help="the published mapping and override of one code")
    show.add_argument("code")
    show.set_defaults(func=run_show)


def run_set(args: argparse.Namespace) -> int:
    from features.settings import get_settings
    from training.simulation.crosswalk_file import NO_MATCH, set_override

    settings = get_settings()
    uri = None if args.esco_uri == NO_MATCH else args.esco_uri
    set_override(settings.crosswalk_overrides, args.code, uri, args.note)
    print(json.dumps({"overrides": str(settings.crosswalk_overrides), "onet_code": args.code,
                      "esco_uri": uri or NO_MATCH}))
    return 0


def run_show(args: argparse.Namespace) -> int:
    from features.errors import WaypointError
    from features.settings import get_settings
    from training.simulation.crosswalk_file import NO_MATCH, read_overrides

    settings = get_settings()
    mapping = settings.artifact_dir / "crosswalk" / "onet_esco.csv"
    if not mapping.is_file():
        raise WaypointError(f"{mapping} not found: run `waypoint simulate` (dvc repro simulate)")
    with mapping.open(newline="") as handle:
        row = next((r for r in csv.DictReader(handle) if r["onet_code"] == args.code), None)
    overrides = read_overrides(settings.crosswalk_overrides)
    override = (overrides[args.code] or NO_MATCH) if args.code in overrides else None
    print(json.dumps({"published": row, "override": override}, indent=2))
    return 0
