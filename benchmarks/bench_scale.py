"""The real serving path on a large organization: recommendations and candidates, p50 / p99,
memory, each against a brute-force exact baseline in the same run.

Builds the `Recommender` the API serves (`inference.ranking.recommender.Recommender` over the
store in ``WAYPOINT_DATABASE_URL`` and a bundle, with the serving policy the bundle carries:
depths, index settings, re-ranking) and times, per request, in one process:

- ``served``: ``recommend(id, limit=20)`` / ``candidates(role, limit=20)`` exactly as served;
- ``exact``: the same recommender with both retrieval indexes replaced by brute-force exact
  search (FAISS flat scan) over the same vectors, everything else identical;
- ``reference features`` (recommendations only): the served index with each feature row
  computed by `features.ranking.feature_row` (the per-row Python path serving used before
  `features.ranking_batch`).

First every sampled employee's and role's first (cold) request is timed on ``served``
(building an employee's context reads their evidence once); then the variants are interleaved
request by request on warm contexts, so the machine's noise falls on all of them alike; medians
and ratios are against the baseline of the same run. Memory: the process's RSS and PSS once the
recommender is built, and its peak RSS. For a 100,000-employee organization, see
``benchmarks/scale_world.py``::

    WAYPOINT_DATABASE_URL=sqlite:////tmp/scale/org100k.db \\
    PYTHONPATH=. .venv/bin/python benchmarks/bench_scale.py --bundle /tmp/scale/bundle
"""

from __future__ import annotations

import argparse
import copy
import gc
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import faiss
import numpy as np

from features.ranking import feature_matrix
from features.settings import get_settings
from features.store import Store
from inference.artifacts.bundle import load_bundle
from inference.ranking.pipeline import OpportunityCatalog
from inference.ranking.recommender import Recommender
from inference.retrieval.indexes import EmployeeIndex, VectorIndex


def memory_mb() -> dict[str, float]:
    """RSS, PSS and peak RSS of this process in MiB."""
    out: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            out[line.split(":")[0]] = int(line.split()[1]) / 1024
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            out["Pss"] = int(line.split()[1]) / 1024
    return out


def _exact(index: VectorIndex) -> dict[str, int]:
    return {"exact_threshold": index.n + 1}


def exact_twin(rec: Recommender) -> Recommender:
    """The recommender with brute-force exact retrieval over the same vectors."""
    twin = copy.copy(rec)
    catalog = rec.catalog
    index = rec.options.index.model_copy(update=_exact(catalog.index.index))
    twin._catalog = OpportunityCatalog(catalog.opportunities, catalog.requirements,
                                       catalog.targets, catalog.vectors, index, catalog.mentors,
                                       common_skills=catalog.common_skills)
    people = rec.employee_index
    twin.employee_index = EmployeeIndex(people.employees, people.index.vectors,
                                        **_exact(people.index))
    return twin


class _ReferenceFeatures:
    """`TargetTable.matrix`'s signature over the per-row `feature_row` path."""

    def __init__(self, catalog: OpportunityCatalog) -> None:
        self.catalog = catalog

    def matrix(self, ctx, rows, target_vectors=None, adjacency=None):  # type: ignore[no-untyped-def]
        c = self.catalog
        return feature_matrix(ctx, [(c.targets[r], c.requirements[r]) for r in rows],
                              target_vectors, adjacency)


def reference_twin(rec: Recommender) -> Recommender:
    twin = copy.copy(rec)
    twin._catalog = copy.copy(rec.catalog)
    twin._catalog.features = _ReferenceFeatures(rec.catalog)  # type: ignore[assignment]
    return twin


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs) * 1e3, q))


def timed(call: Callable[[], object], into: list[float]) -> None:
    start = time.perf_counter()
    call()
    into.append(time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    settings = get_settings()
    parser.add_argument("--bundle", type=Path, default=settings.artifact_dir / "bundle")
    parser.add_argument("--queries", type=int, default=200, help="employees sampled")
    parser.add_argument("--roles", type=int, default=60, help="roles sampled (open openings)")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)  # one request per core, as the API serves
    before = memory_mb()
    store = Store(settings.database_url)
    started = time.perf_counter()
    rec = Recommender(load_bundle(args.bundle), store)
    built = time.perf_counter() - started
    gc.collect()
    after = memory_mb()
    index = rec.options.index
    print(f"Recommender built in {built:.1f} s: {len(rec.employees)} employees, "
          f"{len(rec.opportunities)} open opportunities; opportunity index "
          f"{rec.opportunity_index.index.kind}, candidate index {rec.employee_index.index.kind} "
          f"(exact up to {index.exact_threshold}); depths {rec.options.opportunity_depth} / "
          f"{rec.options.candidate_depth}")
    print(f"memory: RSS {before['VmRSS']:.0f} -> {after['VmRSS']:.0f} MiB, PSS {after['Pss']:.0f}"
          f" MiB, peak RSS {after['VmHWM']:.0f} MiB (opportunity vectors "
          f"{rec.catalog.vectors.nbytes / 2**20:.0f} MiB, employee vectors "
          f"{rec.employee_index.index.vectors.nbytes / 2**20:.0f} MiB)", flush=True)
    exact = exact_twin(rec)
    reference = reference_twin(rec)
    rng = np.random.default_rng(args.seed)
    ids = sorted(rec.employees)
    picks = [ids[i] for i in rng.choice(len(ids), size=min(args.queries, len(ids)),
                                        replace=False)]
    roles = sorted({o.role_id for o in rec.opportunities if o.role_id})
    role_picks = [roles[i] for i in rng.permutation(len(roles))[:args.roles]]
    t: dict[str, list[float]] = {k: [] for k in (
        "recommend cold", "recommend served", "recommend exact", "recommend reference features",
        "candidates cold", "candidates served", "candidates exact")}
    for emp in picks:
        timed(partial(rec.recommend, emp, limit=args.top), t["recommend cold"])
    for role in role_picks:
        timed(partial(rec.candidates, role, limit=args.top), t["candidates cold"])
    gc.disable()
    for emp in picks:
        timed(partial(rec.recommend, emp, limit=args.top), t["recommend served"])
        timed(partial(exact.recommend, emp, limit=args.top), t["recommend exact"])
        timed(partial(reference.recommend, emp, limit=args.top),
              t["recommend reference features"])
    for role in role_picks:
        timed(partial(rec.candidates, role, limit=args.top), t["candidates served"])
        timed(partial(exact.candidates, role, limit=args.top), t["candidates exact"])
    gc.enable()
    same = sum(rec.recommend(e, limit=args.top).items == exact.recommend(e, limit=args.top).items
               for e in picks[:50])
    print(f"served == exact lists for {same}/{min(50, len(picks))} employees")
    for name, values in t.items():
        base = t.get(name.replace("served", "exact")) if "served" in name else None
        ratio = f"   exact/served median {np.median(base) / np.median(values):5.2f}x" \
            if base else ""
        print(f"{name:>30}: n={len(values):>4} p50 {pct(values, 50):7.2f} ms  "
              f"p99 {pct(values, 99):7.2f} ms{ratio}")
    print(f"memory after the run: {memory_mb()}")


if __name__ == "__main__":
    main()
