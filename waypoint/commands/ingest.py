"""``waypoint ingest``: load ESCO and O*NET into the store."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ingest", help="load ESCO and O*NET reference data into the store"
    )
    parser.add_argument("--data-dir", type=Path, help="reference data folder (default: settings)")
    parser.add_argument("--force", action="store_true", help="reload even if unchanged")
    parser.add_argument("--summary", type=Path, help="write a JSON summary here")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from features.settings import get_settings
    from features.store import Store
    from training.ingest import ingest_reference_data

    settings = get_settings()
    store = Store(settings.database_url)
    data_dir = args.data_dir or settings.data_dir
    result = ingest_reference_data(data_dir, store, force=args.force)
    counts = store.counts()
    summary = {"version": result.version, "changed": result.changed,
               "data_dir": str(data_dir), "counts": counts.model_dump()}
    text = json.dumps(summary, indent=2)
    print(text)
    summary_path = args.summary or settings.artifact_dir / "ingest_summary.json"
    summary_path.parent.mkdir(parents=True, exist_ok=True)
    summary_path.write_text(text + "\n")
    return 0
