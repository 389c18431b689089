"""Skills inference on Ray Data against the in-process path, same texts, same run.

Takes the first ``--texts`` distinct texts the profiles stage would infer skills from (the store
in ``WAYPOINT_DATABASE_URL``; the one skills engine of ``WAYPOINT_ARTIFACT_DIR``), then runs
`training.skills.profiles.infer_texts` over them in this process and as a Ray Data pipeline on a
local instance (``--cpus`` CPUs, ``--actors`` engine actors; each actor loads the engine, which
is part of the Ray figure), and checks that both give the same skills. Prints texts per second
for each (the Ray figure with and without the pipeline's start: actors, engine loads)::

    WAYPOINT_ARTIFACT_DIR=models WAYPOINT_DATABASE_URL=sqlite:///models/waypoint.db \\
    PYTHONPATH=. .venv/bin/python benchmarks/bench_ray.py --texts 3000 --actors 2

``--dataset`` times the learning-to-rank set instead (`waypoint dataset`'s
`build_training_set` over the store and ``WAYPOINT_ARTIFACT_DIR/profiles``), both ways, and
checks the rows are identical. It writes nothing, but the store gets the live tables if it
lacks them: point it at a copy.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from functools import partial

from features.inferred_skills import SourceKind
from features.settings import get_settings
from features.store import Store
from inference.skills.artifacts import load_engine
from inference.skills.engine import SkillEngine
from training.batch import OnRay
from training.skills.profiles import infer_texts, profile_texts, text_batches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=3000, help="distinct texts to infer")
    parser.add_argument("--chunk", type=int, default=512, help="texts per encoder batch")
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 2,
                        help="CPUs of the local Ray instance")
    parser.add_argument("--actors", type=int, default=None,
                        help="engine actors (default: one per CPU)")
    parser.add_argument("--dataset", action="store_true",
                        help="time the training set instead of skills inference")
    args = parser.parse_args()

    import ray

    if args.dataset:
        ray.init(address="local", num_cpus=args.cpus, include_dashboard=False,
                 log_to_driver=False)
        ray.data.DataContext.get_current().enable_progress_bars = False
        try:
            print(json.dumps(time_dataset(OnRay(actors=args.actors)), indent=2))
        finally:
            ray.shutdown()
        return

    settings = get_settings()
    store = Store(settings.database_url)
    try:
        every = profile_texts(store.evidence(), store.courses(), store.roles(),
                              store.opportunities())
    finally:
        store.dispose()
    chosen = [(source, text) for source, items in text_batches(every, args.texts)
              for text in items][:args.texts]
    texts: dict[SourceKind, set[str]] = {}
    for source, text in chosen:
        texts.setdefault(source, set()).add(text)
    engine = load_engine(settings)

    started = time.perf_counter()
    local = infer_texts(engine, texts, args.chunk)
    local_seconds = time.perf_counter() - started

    ray.init(address="local", num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        runner = OnRay(actors=args.actors)
        loader = partial(load_engine, settings)
        first_seconds = _engine_load_seconds(runner, loader)  # also starts Ray's workers
        load_seconds = _engine_load_seconds(runner, loader)
        started = time.perf_counter()
        remote = infer_texts(None, texts, args.chunk, runner, loader)
        ray_seconds = time.perf_counter() - started
    finally:
        ray.shutdown()
    n = len(chosen)
    print(json.dumps({
        "texts": n, "chunk": args.chunk, "cpus": args.cpus,
        "actors": runner.actors or args.cpus, "engine": engine.encoder.name,
        "identical": local == remote,
        "in_process_seconds": round(local_seconds, 2),
        "in_process_texts_per_second": round(n / local_seconds, 1),
        "ray_seconds": round(ray_seconds, 2),
        "ray_texts_per_second": round(n / ray_seconds, 1),
        "ray_pipeline_start_seconds": round(load_seconds, 2),
        "ray_texts_per_second_after_start": round(n / max(ray_seconds - load_seconds, 1e-9), 1),
        "ray_first_pipeline_start_seconds": round(first_seconds, 2),
    }, indent=2))


def time_dataset(runner: OnRay) -> dict[str, object]:
    """`build_training_set` in-process and on ``runner``: seconds, rows, identical or not."""
    import numpy as np

    from inference.artifacts.profiles import read_profile_artifacts
    from training.ranking.ranker import read_params
    from training.ranking.stage import build_training_set

    settings = get_settings()
    store = Store(settings.database_url)
    try:
        profiles = read_profile_artifacts(settings.artifact_dir / "profiles", observations=True)
        params = read_params()
        started = time.perf_counter()
        local = build_training_set(store, profiles, params)
        local_seconds = time.perf_counter() - started
        started = time.perf_counter()
        remote = build_training_set(store, profiles, params, runner=runner)
        ray_seconds = time.perf_counter() - started
    finally:
        store.dispose()
    identical = (local.query_ids == remote.query_ids and local.employee_ids == remote.employee_ids
                 and np.array_equal(local.features, remote.features)
                 and np.array_equal(local.labels, remote.labels)
                 and np.array_equal(local.group_sizes, remote.group_sizes)
                 and local.outcomes == remote.outcomes and local.dismissed == remote.dismissed)
    return {"queries": local.stats["queries"], "rows": local.stats["rows"],
            "identical": identical, "actors": runner.pool_size(1 << 30),
            "in_process_seconds": round(local_seconds, 1),
            "ray_seconds": round(ray_seconds, 1)}


def _engine_load_seconds(runner: OnRay, loader: Callable[[], SkillEngine]) -> float:
    """A pipeline of one part per actor that only loads the engine: what a pipeline spends
    before its first batch (the first one also starts the local instance's workers)."""
    started = time.perf_counter()
    size = runner.pool_size(runner.actors or 1 << 30)
    runner.map(_nothing, list(range(size)), setup=loader)
    return time.perf_counter() - started


def _nothing(_engine: object, part: int) -> int:
    return part


if __name__ == "__main__":
    main()
