"""``waypoint export``, ``waypoint import``, ``waypoint organization`` and
``waypoint data-format``: the organization format (docs/data-format.md) in and out of the
store, and the pipeline stage that loads the organization from the source ``params.yaml``
names (``organization.source``: simulate or import)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from features.settings import REPO_ROOT

log = logging.getLogger(__name__)

TITLES_FOLDER = Path("occupations") / "titles"
SUMMARY = "organization_summary.json"


def register(subparsers: Any) -> None:
    export = subparsers.add_parser(
        "export", help="write the store's organization as an organization folder")
    export.add_argument("--out", type=Path, required=True, help="folder to write (replaced)")
    export.add_argument("--protected", action="store_true",
                        help="also write protected_attributes.csv (for fairness audits)")
    export.set_defaults(func=run_export)

    imp = subparsers.add_parser(
        "import", help="validate an organization folder, then write it in one transaction")
    imp.add_argument("folder", type=Path, help="organization folder (docs/data-format.md)")
    imp.add_argument("--dry-run", action="store_true",
                     help="validate and count what would change; write nothing")
    imp.add_argument("--replace", action="store_true",
                     help="replace the whole organization instead of updating it")
    imp.add_argument("--max-problems", type=int, default=100,
                     help="stop reporting after this many problems (default 100)")
    imp.add_argument("--summary", type=Path, help="also write the JSON report here")
    imp.add_argument("--no-progress", action="store_true", help="no progress bars")
    imp.set_defaults(func=run_import)

    stage = subparsers.add_parser(
        "organization", help="pipeline stage: simulate or import the organization "
        "(params.yaml organization.source)")
    stage.add_argument("--no-progress", action="store_true", help="no progress bars")
    stage.set_defaults(func=run_stage)

    docs = subparsers.add_parser(
        "data-format", help="regenerate docs/data-format.md and its JSON Schemas")
    docs.add_argument("--check", action="store_true",
                      help="exit 1 when the committed documentation is stale")
    docs.add_argument("--docs-dir", type=Path, default=REPO_ROOT / "docs")
    docs.set_defaults(func=run_docs)


def run_export(args: argparse.Namespace) -> int:
    from features.organization.export import export_organization
    from features.settings import get_settings
    from features.store import Store

    store = Store(get_settings().database_url)
    try:
        store.create_schema()
        counts = export_organization(store, args.out, protected=args.protected)
    finally:
        store.dispose()
    print(json.dumps({"out": str(args.out), "rows": counts}, indent=2))
    return 0


def import_folder(folder: Path, *, dry_run: bool = False, replace: bool = False,
                  max_problems: int = 100, progress: bool = False) -> dict[str, Any]:
    from features.settings import get_settings
    from features.store import Store
    from training.organization.importer import import_organization

    settings = get_settings()
    store = Store(settings.database_url)
    try:
        report = import_organization(folder, store, title_index=settings.artifact_dir
                                     / TITLES_FOLDER, dry_run=dry_run, replace=replace,
                                     limit=max_problems, progress=progress)
    finally:
        store.dispose()
    return report.as_json()


def run_import(args: argparse.Namespace) -> int:
    report = import_folder(args.folder, dry_run=args.dry_run, replace=args.replace,
                           max_problems=args.max_problems, progress=not args.no_progress)
    text = json.dumps(report, indent=2)
    print(text)
    if args.summary:
        args.summary.parent.mkdir(parents=True, exist_ok=True)
        args.summary.write_text(text + "\n")
    return 0


def run_stage(args: argparse.Namespace) -> int:
    """Load the organization ``params.yaml`` names, then write ``organization_summary.json``
    (source, version and store counts only: the same organization gives the same bytes, so
    later stages rerun only when it changed). The stage runs on every ``dvc repro``
    (``always_changed``): an import of unchanged files writes nothing, and a simulation the
    store already holds (same version, truth file present) is not rebuilt."""
    from features.params import load_params
    from features.settings import get_settings
    from features.store import Store
    from training.simulation.build import simulation_version
    from waypoint.commands import simulate

    settings = get_settings()
    params = load_params()
    source = params.organization
    truth = settings.artifact_dir / "simulation_truth.json.gz"
    store = Store(settings.database_url)
    try:
        store.create_schema()
        if source.source == "simulate":
            version = simulation_version(params.simulate)
            if store.dataset_version("organization") == version and truth.is_file():
                log.info("the store already holds simulation %s; nothing to do", version)
                simulate.write_reference_crosswalk()  # overrides may have changed
            else:
                code = simulate.run(argparse.Namespace(
                    employees=None, seed=None, shard_employees=None, params=None,
                    bias_strength=None, proxy_strength=None, summary=None, truth=None,
                    crosswalk=None, no_progress=args.no_progress))
                if code:
                    return int(code)
            detail: dict[str, Any] = {"source": "simulate"}
        else:
            folder = source.path if source.path.is_absolute() else REPO_ROOT / source.path
            print(json.dumps(import_folder(folder, progress=not args.no_progress), indent=2))
            simulate.write_reference_crosswalk()
            # the simulator's files do not describe an imported organization
            for stale in (truth, settings.artifact_dir / "simulation_summary.json"):
                stale.unlink(missing_ok=True)
            detail = {"source": "import", "path": str(source.path)}
        summary = {**detail, "version": store.dataset_version("organization"),
                   "counts": store.counts().model_dump()}
    finally:
        store.dispose()
    path = settings.artifact_dir / SUMMARY
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2) + "\n")
    return 0


def run_docs(args: argparse.Namespace) -> int:
    from features.organization.docs import stale_docs, write_docs

    if args.check:
        stale = stale_docs(args.docs_dir)
        for path in stale:
            print(f"{path}: stale; run `waypoint data-format`", file=sys.stderr)
        return 1 if stale else 0
    for path in write_docs(args.docs_dir):
        print(path)
    return 0
