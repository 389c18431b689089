"""``waypoint data fetch``: download the official reference data releases."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("data", help="reference data management")
    verbs = parser.add_subparsers(dest="data_command", required=True, metavar="VERB")
    fetch = verbs.add_parser("fetch", help="download ESCO v1.1.1, O*NET 29.3 and SkillSpan")
    fetch.add_argument("--target", type=Path, help="cache folder (default ~/.cache/waypoint/data)")
    fetch.add_argument("--timeout", type=float, default=30.0, help="seconds per download")
    fetch.set_defaults(func=run_fetch)


def run_fetch(args: argparse.Namespace) -> int:
    from features.settings import get_settings
    from training.fetch import fetch_reference_data

    target = args.target or get_settings().fetch_cache_dir
    result = fetch_reference_data(target, timeout=args.timeout)
    print(f"fetched {len(result.files)} files into {result.target}; "
          f"use them with WAYPOINT_DATA_DIR={result.target}")
    return 0
