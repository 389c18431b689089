"""``waypoint simulate``: build the simulated demo organization and write it to the store."""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "simulate", help="build the simulated organization (seeded) and replace it in the store"
    )
    parser.add_argument("--employees", type=int, help="headcount (default: params.yaml)")
    parser.add_argument("--seed", type=int, help="random seed (default: params.yaml)")
    parser.add_argument("--shard-employees", type=int,
                        help="most employees per division (default: params.yaml)")
    parser.add_argument("--params", type=Path, default=None,
                        help="parameters file (default: the project's params.yaml)")
    parser.add_argument("--bias-strength", type=float, help="override simulate.bias_strength")
    parser.add_argument("--proxy-strength", type=float, help="override simulate.proxy_strength")
    parser.add_argument("--summary", type=Path,
                        help="summary JSON (default: <artifact_dir>/simulation_summary.json)")
    parser.add_argument("--truth", type=Path,
                        help="hidden truth (default: <artifact_dir>/simulation_truth.json.gz)")
    parser.add_argument("--crosswalk", type=Path,
                        help="published O*NET -> ESCO mapping (default: "
                             "<artifact_dir>/crosswalk/onet_esco.csv)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from features.errors import WaypointError
    from features.settings import get_settings
    from features.store import Store
    from features.taxonomy import read_reference_data
    from training.simulation import load_params
    from training.simulation.build import (
        Tally,
        simulate_divisions,
        simulation_version,
    )
    from training.simulation.crosswalk import Crosswalk
    from training.simulation.crosswalk_file import read_overrides, write_mapping
    from training.simulation.truth import TruthWriter

    settings = get_settings()
    try:
        params = load_params(args.params, employees=args.employees, seed=args.seed,
                             shard_employees=args.shard_employees,
                             bias_strength=args.bias_strength,
                             proxy_strength=args.proxy_strength)
    except ValueError as exc:
        raise WaypointError(f"invalid simulation parameters: {exc}") from exc
    started = time.perf_counter()
    reference = read_reference_data(settings.data_dir)
    log.info("read reference data from %s in %.1fs", settings.data_dir,
             time.perf_counter() - started)
    overrides = read_overrides(settings.crosswalk_overrides)
    truth_path = args.truth or settings.artifact_dir / "simulation_truth.json.gz"
    tally = Tally()
    seconds = {"build": 0.0, "write": 0.0}
    crosswalk: Crosswalk | None = None
    store = Store(settings.database_url)
    try:
        store.create_schema()
        parts = simulate_divisions(reference, params, progress=not args.no_progress,
                                   overrides=overrides)
        with (tqdm(total=params.employees, desc="simulate", unit="employee",
                   disable=args.no_progress) as bar,
              TruthWriter(truth_path) as truth,
              store.organization_writer(simulation_version(params)) as writer):
            clock = time.perf_counter()
            for part in parts:  # one division at a time: simulated, written, dropped
                built = time.perf_counter()
                seconds["build"] += built - clock
                writer.append(part.organization)
                truth.add(part.skill_uris, part.people, part.applications)
                tally.add(part)
                crosswalk = part.crosswalk
                bar.update(len(part.people))
                del part  # before the next division is built
                clock = time.perf_counter()
                seconds["write"] += clock - built
            counts = dict(writer.counts)
        seconds["write"] += time.perf_counter() - clock  # the commit, the truth file's end
    finally:
        store.dispose()
    log.info("simulated %s employees in %s divisions: built in %.1fs, wrote %s rows in %.1fs",
             params.employees, tally.divisions, seconds["build"], sum(counts.values()),
             seconds["write"])
    assert crosswalk is not None  # every organization has at least one division
    mapping_path = args.crosswalk or settings.artifact_dir / "crosswalk" / "onet_esco.csv"
    write_mapping(mapping_path, crosswalk.matches,
                  {o.code: o.title for o in reference.onet_occupations},
                  {o.uri: o.label for o in reference.occupations})
    summary: dict[str, Any] = {
        **tally.summary(params, crosswalk.stats()),
        "rows_written": counts,
        "truth": str(truth_path),
        "crosswalk_file": str(mapping_path),
        "crosswalk_overrides": len(overrides),
        "seconds": {"build": round(seconds["build"], 1), "write": round(seconds["write"], 1),
                    "total": round(time.perf_counter() - started, 1)},
    }
    summary_path = args.summary or settings.artifact_dir / "simulation_summary.json"
    summary_path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(summary, indent=2)
    summary_path.write_text(text + "\n")
    print(json.dumps({k: summary[k] for k in ("version", "counts", "crosswalk", "seconds")},
                     indent=2))
    return 0


def write_reference_crosswalk(path: Path | None = None) -> Path:
    """Build the O*NET -> ESCO mapping from the reference data alone (every O*NET code with
    task statements, the simulation's ``crosswalk_min_score``, the HR overrides) and write the
    reviewable file, as ``run`` does: an imported organization's roles with an O*NET code are
    linked through it too."""
    from features.settings import get_settings
    from features.taxonomy import read_reference_data
    from training.simulation import load_params
    from training.simulation.crosswalk import build_crosswalk
    from training.simulation.crosswalk_file import read_overrides, write_mapping

    settings = get_settings()
    params = load_params(None)
    reference = read_reference_data(settings.data_dir)
    codes = sorted({t.code for t in reference.onet_tasks})
    crosswalk = build_crosswalk(reference, codes, min_score=params.crosswalk_min_score,
                                overrides=read_overrides(settings.crosswalk_overrides))
    target = path or settings.artifact_dir / "crosswalk" / "onet_esco.csv"
    write_mapping(target, crosswalk.matches,
                  {o.code: o.title for o in reference.onet_occupations},
                  {o.uri: o.label for o in reference.occupations})
    return target
