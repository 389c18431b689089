"""The ranker's LambdaRank boosting on Ray Train workers (``waypoint train --ray-workers N``).

`RayTrainBoosting` is a `training.ranking.ranker.Boosting`: `train_lambdarank` still chooses the
skill-fit prior, fits its trees and decides on the validation period, in this process (the
driver), whether a boosted model replaces the prior alone, exactly as single-process training
does; only the boosting itself (one LightGBM LambdaRank run per prior scale,
`training.ranking.ranker.boost`, with the same parameters and the same early stopping) runs on
``workers`` Ray Train workers, in one Ray Train run (`ray.train.lightgbm.LightGBMTrainer`). The
result is one LightGBM booster like the single-process one (its first trees the prior), so
`train_ranker` returns the same `Ranker` and the evaluation, the gates, the bundle and the
MLflow run are unchanged.

Sharding (`shard_by_query`). LambdaRank's gradients of a row depend on every other row of its
query group (the pairs of one decision's applicant slate), so a group must be whole on one
worker: LightGBM computes the objective locally on each machine and never joins a group across
machines. The training view is therefore cut by query group, never by row (Ray Data's
``get_dataset_shard`` splits blocks of rows and could cut a group, so the shards are made here
and handed to the workers through the object store): groups are dealt in decision order, each
to the worker with the fewest rows so far. The shards are balanced by rows and each spans the
whole training period, which matters because in distributed mode LightGBM finds each feature's
bins from the local data of one machine. Every worker gets the *whole* validation view: the
early-stopping metric is computed locally by each machine, so identical validation data on
every worker is what makes them all stop at the same round (and the same one a single process
would pick for the same trees).

Tree learner: ``data`` (data parallel). Each worker builds the histograms of its own rows and
LightGBM all-reduces them, so the split search sees the same global statistics as one machine
(``min_data_in_leaf`` and the leaf values are global too). ``voting`` parallel only exchanges
the features each machine votes for, an approximation that pays off with thousands of
features; the ranker has a few dozen, whose full histograms are cheap to exchange, so data
parallel gives the exact split search at no real cost. ``feature`` parallel needs every row on
every machine (no sharding), and LightGBM's C API refuses it anyway.

What differs from one process, and why the model is equal only within noise: the feature bins
are found from one worker's shard per feature (not from all rows), and bagging
(``bagging_fraction``) draws from each worker's own rows with the same seed. Everything else
(parameters, prior, label gains, monotone constraints, early stopping) is identical. Each
worker trains with ``cpus_per_worker`` threads instead of ``ranker.num_threads``.

LightGBM's socket network is set up once per worker for all the boosters of a run (one per
prior scale): re-initializing it on the port Ray Train assigned fails while the previous
run's sockets linger (``Binding port ... failed``). Rank 0 returns the trained models as
strings (``Result.return_value``), so no checkpoint storage is needed, shared or not.

Ray is the optional ``[scale]`` extra, imported only here and only when a run starts: on a
cluster every node needs the project installed (docs/production.md, "Distributed training").
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np

from features.params import RankerParams
from training.batch import RayUnavailable
from training.ranking.dataset import RankingDataset
from training.ranking.ranker import boost

log = logging.getLogger(__name__)

TREE_LEARNER = "data"


def shard_by_query(data: RankingDataset, shards: int) -> list[RankingDataset]:
    """``data`` cut into ``shards`` parts by query group: each group whole in one part, the
    groups dealt in order, each to the part with the fewest rows so far (ties: the lower
    part). Every part keeps its groups in decision order."""
    if shards < 1:
        raise ValueError("need at least one shard")
    sizes = data.group_sizes.tolist()
    if len(sizes) < shards:
        raise ValueError(f"{len(sizes)} query groups cannot fill {shards} workers: "
                         "train with fewer workers")
    rows = [0] * shards
    owner = np.empty(len(sizes), dtype=np.int64)
    for i, n in enumerate(sizes):
        k = min(range(shards), key=lambda j: (rows[j], j))
        owner[i] = k
        rows[k] += int(n)
    return [data.subset(owner == k) for k in range(shards)]


def _slim(data: RankingDataset) -> RankingDataset:
    """What a worker trains on: rows, labels and groups (ids kept for the record)."""
    return dataclasses.replace(data, outcomes={}, dismissed={}, stats={})


@dataclass(frozen=True)
class ShardReport:
    queries: int
    rows: int
    first_query: str | None


@dataclass(frozen=True)
class DistributedRun:
    """One Ray Train run (`RayTrainBoosting.boost`): the shards, and what rank 0 saw."""

    shards: tuple[ShardReport, ...]
    seconds: float
    """Wall time of the run, the worker group's start included."""
    rank0: ShardReport
    """The shard rank 0 trained on, as it reported it (shard 0)."""
    iterations: tuple[int, ...]
    """Per init model: the trees of the model early stopping kept, the prior's included."""


@dataclass
class RayTrainBoosting:
    """`training.ranking.ranker.Boosting` on ``workers`` Ray Train workers of
    ``cpus_per_worker`` CPUs each, on the cluster at ``address`` (``None``: ``RAY_ADDRESS``,
    else a local instance started here). ``runs`` records every run (`DistributedRun`)."""

    workers: int = 2
    cpus_per_worker: int = 1
    address: str | None = None
    storage_path: str | None = None
    """Ray Train's run folder (default: a temporary folder, removed after each run; the runs
    write no checkpoint)."""
    runs: list[DistributedRun] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.workers < 1 or self.cpus_per_worker < 1:
            raise ValueError("workers and cpus_per_worker must be at least 1")

    def describe(self) -> dict[str, Any]:
        return {"backend": "ray-train", "workers": self.workers,
                "cpus_per_worker": self.cpus_per_worker, "tree_learner": TREE_LEARNER}

    def connect(self) -> Any:
        try:
            import ray
            import ray.train.lightgbm  # Ray Train's LightGBM backend
        except ImportError as exc:  # pragma: no cover - the [scale] extra is installed in CI
            raise RayUnavailable("--ray-workers needs Ray Train: pip install -e '.[scale]'"
                                 ) from exc
        if not ray.is_initialized():
            ray.init(address=self.address or os.environ.get("RAY_ADDRESS") or None,
                     include_dashboard=False, log_to_driver=False)
        return ray

    def boost(self, train: RankingDataset, valid: RankingDataset, params: RankerParams,
              names: list[str], inits: Sequence[lgb.Booster | None]) -> list[lgb.Booster]:
        ray = self.connect()
        from ray.train import RunConfig, ScalingConfig
        from ray.train.lightgbm import LightGBMTrainer

        shards = shard_by_query(train, self.workers)
        storage = self.storage_path or tempfile.mkdtemp(prefix="waypoint-ray-train-")
        config = {
            "shards": [ray.put(_slim(s)) for s in shards], "valid": ray.put(_slim(valid)),
            "params": params, "names": list(names),
            "inits": [None if i is None else i.model_to_string() for i in inits],
            "threads": self.cpus_per_worker,
        }
        started = time.perf_counter()
        try:
            trainer = LightGBMTrainer(
                _boost_on_worker,  # type: ignore[arg-type]  # v2 keeps rank 0's return value
                train_loop_config=config,
                scaling_config=ScalingConfig(num_workers=self.workers,
                                             resources_per_worker={"CPU": self.cpus_per_worker}),
                run_config=RunConfig(name=f"waypoint-ranker-{time.strftime('%Y%m%d-%H%M%S')}",
                                     storage_path=storage))
            result = trainer.fit()
        finally:
            if self.storage_path is None:
                shutil.rmtree(storage, ignore_errors=True)
        out = getattr(result, "return_value", None)  # Ray Train v2 (the default since 2.5x)
        if not isinstance(out, dict):
            raise RuntimeError("Ray Train returned no models: it needs Ray Train v2 "
                               "(RAY_TRAIN_V2_ENABLED unset or 1)")
        boosters = [lgb.Booster(model_str=s) for s in out["models"]]
        run = DistributedRun(
            shards=tuple(ShardReport(queries=len(s.group_sizes), rows=len(s.labels),
                                     first_query=s.query_ids[0] if s.query_ids else None)
                         for s in shards),
            seconds=time.perf_counter() - started, rank0=ShardReport(**out["shard"]),
            iterations=tuple(int(r) for r in out["iterations"]))
        self.runs.append(run)
        log.info("Ray Train: %d boosters on %d workers (%s rows) in %.1fs", len(boosters),
                 self.workers, "/".join(str(s.rows) for s in run.shards), run.seconds)
        return boosters


def _boost_on_worker(config: dict[str, Any]) -> dict[str, Any] | None:
    """One worker: its shard, the whole validation view, `boost` once per init model."""
    import ray
    import ray.train
    from ray.train.collective import broadcast_from_rank_zero
    from ray.train.lightgbm import get_network_params

    context = ray.train.get_context()
    rank, world = context.get_world_rank(), context.get_world_size()
    shard: RankingDataset = ray.get(config["shards"][rank])
    valid: RankingDataset = ray.get(config["valid"])
    params: RankerParams = config["params"]
    names: list[str] = config["names"]
    overrides = {"tree_learner": TREE_LEARNER, "pre_partition": True, "num_machines": world,
                 "num_threads": int(config["threads"])}
    models: list[str] = []
    iterations: list[int] = []
    with _lightgbm_network(get_network_params()):
        for text in config["inits"]:
            init = None if text is None else lgb.Booster(model_str=text)
            booster = boost(shard, valid, params, names, init, overrides)
            kept = booster.current_iteration()
            if broadcast_from_rank_zero(kept) != kept:  # every worker must hold the same model
                raise RuntimeError(f"worker {rank} kept {kept} trees, rank 0 another number")
            models.append(booster.model_to_string())
            iterations.append(kept)
    if rank != 0:
        return None
    return {"models": models, "iterations": iterations,
            "shard": {"queries": len(shard.group_sizes), "rows": len(shard.labels),
                      "first_query": shard.query_ids[0] if shard.query_ids else None}}


@contextmanager
def _lightgbm_network(network: dict[str, Any]) -> Iterator[None]:
    """LightGBM's network (``machines``, ``local_listen_port``, ``num_machines`` from
    ``get_network_params``) for every booster trained inside; the boosters then pass only
    ``num_machines``, so LightGBM does not set it up and tear it down once per booster."""
    if not network:
        raise RuntimeError("no LightGBM network parameters: not inside a LightGBMTrainer")
    holder = lgb.Booster(params={"verbosity": -1},
                         train_set=lgb.Dataset(np.zeros((4, 1)), np.zeros(4),
                                               params={"verbosity": -1}))
    holder.set_network(network["machines"], local_listen_port=network["local_listen_port"],
                       num_machines=network["num_machines"])
    try:
        yield
    finally:
        holder.free_network()
