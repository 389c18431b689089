"""The ranker boosted in one process against Ray Train workers, same data, same run.

Loads the learning-to-rank set `waypoint dataset` wrote (``--dataset``, default
``WAYPOINT_ARTIFACT_DIR/ranking/dataset.npz``), splits it by time with params.yaml's ``ranker:``
section and fits the ranker twice with `training.ranking.ranker.train_ranker`: in this process
(``ranker.num_threads`` threads) and with `training.ranking.distributed.RayTrainBoosting` on a
local Ray instance (``--workers`` workers of one CPU each; the training view sharded by
decision). Before that it times an empty Ray Train run of as many workers (the worker group's
start, LightGBM's network set-up: the fixed cost of every distributed fit). Then it evaluates
both models on the held-out period with `evaluate_models` (the truth.* figures when the
simulator's truth is beside the dataset) and, unless ``--no-backtest``, the outcome backtest
the gate reads when the held-out period has few one-year outcomes (the backtest's fits are
timed too). ``--seed-runs K`` (default 2) fits in-process K more times with ``ranker.seed``
+ 1 ... + K: the figures' spread under a change of seed alone, the noise the distributed
model is to be judged against::

    WAYPOINT_ARTIFACT_DIR=models PYTHONPATH=. .venv/bin/python \\
        benchmarks/bench_distributed_train.py --workers 2

What is timed is the fitting function alone (the prior, its tree, the boosting of every prior
scale, the choice among them); not the fairness mitigation `waypoint train` runs around it, nor
the evaluation. Prints a table and the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from features.params import RankerParams
from features.ranking_model import Ranker
from features.settings import get_settings
from training.ranking.dataset import RankingDataset
from training.ranking.distributed import RayTrainBoosting
from training.ranking.evaluation import PRIMARY, EvalData, compare, load_truth
from training.ranking.ranker import (
    IN_PROCESS_BOOSTING,
    Boosting,
    EvaluationReport,
    evaluate_models,
    outcome_backtest,
    read_params,
    train_ranker,
    training_split,
)
from training.ranking.stage import TrainPaths

FIGURES = ("applicants_outcome.ndcg", "applicants_chosen.ndcg", "applicants_chosen.top1",
           "truth.spearman", "truth.top1")


def _noop_worker() -> None:
    return None


def empty_run_seconds(workers: int) -> float:
    """An empty Ray Train LightGBM run of ``workers`` workers: its fixed cost."""
    from ray.train import RunConfig, ScalingConfig
    from ray.train.lightgbm import LightGBMTrainer

    with tempfile.TemporaryDirectory() as storage:
        started = time.perf_counter()
        LightGBMTrainer(_noop_worker,
                        scaling_config=ScalingConfig(num_workers=workers,
                                                     resources_per_worker={"CPU": 1}),
                        run_config=RunConfig(name="empty", storage_path=storage)).fit()
        return time.perf_counter() - started


def figures(report: EvaluationReport) -> dict[str, Any]:
    mine = report.metrics["ranker"]
    return {m: {"value": mine[m], "interval": report.intervals["ranker"][m],
                "decisions": report.counts.get(m, 0)} for m in FIGURES if m in mine}


def run(name: str, data: RankingDataset, params: RankerParams, boosting: Boosting,
        truth: dict[Any, float] | None, backtest: bool) -> dict[str, Any]:
    train, valid, test = training_split(data, params)
    started = time.perf_counter()
    ranker = train_ranker(train, valid, params, boosting)
    seconds = time.perf_counter() - started
    report = evaluate_models(ranker, test, params, train=train, truth=truth, valid=valid)
    out: dict[str, Any] = {"path": name, "fit_seconds": seconds,
                           "trees": ranker.booster.num_trees(), "test": figures(report),
                           "best_baseline": report.best_baseline,
                           "relative_improvement": report.relative_improvement,
                           "scores": ranker.score(test.features)}
    if backtest:
        fit_seconds: list[float] = []

        def fit(tr: RankingDataset, va: RankingDataset) -> Ranker:
            started = time.perf_counter()
            model = train_ranker(tr, va, params, boosting)
            fit_seconds.append(time.perf_counter() - started)
            return model

        found = outcome_backtest(data, params, fit, truth)
        out["backtest_fit_seconds"] = sum(fit_seconds)
        if found is not None:
            out["backtest"] = figures(found.report)
            out["backtest_relative_improvement"] = found.report.relative_improvement
            out["backtest_best_baseline"] = found.report.best_baseline
    return out


def table(rows: list[dict[str, Any]]) -> str:
    def cell(fig: dict[str, Any], m: str) -> str:
        if m not in fig or fig[m]["value"] != fig[m]["value"]:
            return "-"
        lo, hi = fig[m]["interval"]
        return f"{fig[m]['value']:.3f} [{lo:.3f}, {hi:.3f}]"

    names = [m for m in FIGURES if any(m in r["test"] for r in rows)]
    decisions = {m: rows[0]["test"].get(m, {}).get("decisions", 0) for m in names}
    backtest = rows[0].get("backtest", {}).get(PRIMARY, {}).get("decisions", 0)
    lines = ["| path | fit s | trees | "
             + " | ".join(f"test {m} ({decisions[m]})" for m in names)
             + f" | backtest fit s | backtest {PRIMARY} ({backtest}) | gate (backtest) |",
             "|---|---|---|" + "---|" * len(names) + "---|---|---|"]
    for r in rows:
        bt = r.get("backtest", {})
        gate = r.get("backtest_relative_improvement")
        lines.append(
            f"| {r['path']} | {r['fit_seconds']:.1f} | {r['trees']} | "
            + " | ".join(cell(r["test"], m) for m in names)
            + f" | {r.get('backtest_fit_seconds', float('nan')):.1f} | {cell(bt, PRIMARY)} | "
            + (f"{gate:+.1%} vs {r['backtest_best_baseline']}" if gate is not None else "-")
            + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=None,
                        help="default: WAYPOINT_ARTIFACT_DIR/ranking/dataset.npz")
    parser.add_argument("--workers", type=int, default=2, help="Ray Train workers (1 CPU each)")
    parser.add_argument("--cpus", type=int, default=None,
                        help="CPUs of the local Ray instance (default: --workers)")
    parser.add_argument("--no-backtest", dest="backtest", action="store_false",
                        help="skip the outcome backtest (a second fit each way)")
    parser.add_argument("--seed-runs", type=int, default=2,
                        help="in-process fits with ranker.seed + 1, + 2, ...: how much the "
                             "seed alone moves the figures (default: 2)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    logging.getLogger("training.ranking").setLevel(logging.INFO)  # each scale's validation
    paths = TrainPaths(get_settings().artifact_dir)
    dataset = args.dataset or paths.dataset
    data = RankingDataset.load(dataset)
    truth_file = dataset.parent.parent / paths.truth.name
    truth = load_truth(truth_file) if truth_file.is_file() else None
    print(f"{dataset}: {len(data.group_sizes)} decisions, {len(data.labels)} rows; "
          f"truth: {'yes' if truth else 'no'}; load average {os.getloadavg()[0]:.1f}", flush=True)

    import ray

    params = read_params()
    rows = [run("in-process", data, params, IN_PROCESS_BOOSTING, truth, args.backtest)]
    for k in range(1, args.seed_runs + 1):  # what the seed alone changes: the noise floor
        reseeded = params.model_copy(update={"seed": params.seed + k})
        rows.append(run(f"in-process, seed {reseeded.seed}", data, reseeded,
                        IN_PROCESS_BOOSTING, truth, args.backtest))
    ray.init(address="local", num_cpus=args.cpus or args.workers, include_dashboard=False,
             log_to_driver=False)
    try:
        empty = empty_run_seconds(args.workers)
        boosting = RayTrainBoosting(workers=args.workers, cpus_per_worker=1)
        rows.append(run(f"Ray Train, {args.workers} workers", data, params, boosting, truth,
                        args.backtest))
    finally:
        ray.shutdown()
    test = training_split(data, params)[2]
    paired = compare(EvalData.of(test, params.eval_at, params.recall_k, truth),
                     {"ranker": rows[-1]["scores"], "in_process": rows[0]["scores"]},
                     resamples=params.bootstrap, seed=params.seed)
    print(table(rows))
    print(f"empty Ray Train run ({args.workers} workers): {empty:.1f} s; shards (decisions / "
          "rows): " + ", ".join(f"{s.queries} / {s.rows}" for s in boosting.runs[0].shards)
          + f"; load average {os.getloadavg()[0]:.1f}")
    summary = {"dataset": str(dataset), "empty_ray_train_seconds": empty,
               "shards": [vars(s) for s in boosting.runs[0].shards],
               "paired_test_difference": paired.differences.get("in_process"),
               "paths": [{k: v for k, v in r.items() if k != "scores"} for r in rows]}
    print(json.dumps(summary, indent=2, default=str))


if __name__ == "__main__":
    main()
