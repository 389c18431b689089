"""``waypoint dataset`` and ``waypoint train``: point-in-time training set, then the ranker."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from waypoint.commands.ray_options import add_ray_arguments, add_ray_train_arguments

if TYPE_CHECKING:
    from training.ranking.ranker import Boosting


def register(subparsers: Any) -> None:
    dataset = subparsers.add_parser(
        "dataset", help="build the point-in-time learning-to-rank set from historical moves")
    add_ray_arguments(dataset)
    dataset.set_defaults(func=run_dataset)
    train = subparsers.add_parser(
        "train", help="train and evaluate the ranker, write the bundle, log and register in MLflow")
    train.add_argument("--no-register", action="store_true", help="skip MLflow registration")
    add_ray_train_arguments(train)
    train.set_defaults(func=run_train)


def failure_message(summary: dict[str, Any]) -> str:
    """Why ``waypoint train`` registered nothing: a ranker no better than the baselines, or
    (a small or young organization) no held-out decision with a known outcome to judge it."""
    gate = summary.get("gate", {})
    if gate.get("decisions", 1) == 0:
        return (f"waypoint train: nothing to gate on: of the {gate.get('queries', 0)} "
                "historical decisions, none in the held-out period has a recorded one-year "
                "outcome, and too few are a year old for the backtest (it needs 10). The "
                "ranker and the bundle are written for inspection but not registered, so "
                "`waypoint promote` has nothing to promote. An imported organization needs "
                "more history: moves with outcome_rating / retained_one_year, applications "
                "to filled openings (docs/data-format.md)")
    return ("waypoint train: the ranker did not beat the best baseline by the margin in "
            "params.yaml (ranker.min_relative_improvement); nothing registered")


def run_dataset(args: argparse.Namespace) -> int:
    from features.settings import get_settings
    from training.batch import runner_for
    from training.ranking.ranker import read_params
    from training.ranking.stage import run_dataset_stage

    runner = runner_for(args.ray, args.ray_actors)
    print(json.dumps(run_dataset_stage(get_settings(), read_params(), runner), indent=2))
    return 0


def boosting_for(args: argparse.Namespace) -> Boosting:
    """Where ``waypoint train`` boosts: Ray Train with ``--ray-workers N``, else in-process."""
    from training.ranking.ranker import IN_PROCESS_BOOSTING

    workers = getattr(args, "ray_workers", None)
    if workers is None:
        return IN_PROCESS_BOOSTING
    from training.ranking.distributed import RayTrainBoosting

    return RayTrainBoosting(workers=workers, cpus_per_worker=args.ray_cpus_per_worker)


def run_train(args: argparse.Namespace) -> int:
    from features.settings import get_settings
    from training.ranking.ranker import read_params
    from training.ranking.stage import run_train_stage

    summary = run_train_stage(get_settings(), read_params(), register=not args.no_register,
                              boosting=boosting_for(args))
    print(json.dumps(summary, indent=2))
    if not summary["passed"]:
        print(failure_message(summary), flush=True)
        return 1
    return 0
