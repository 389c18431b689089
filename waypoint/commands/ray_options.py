"""``--ray`` and ``--ray-actors``: the batch stages' switch to Ray Data (`training.batch`);
``--ray-workers``: ``waypoint train``'s switch to Ray Train (`training.ranking.distributed`)."""

from __future__ import annotations

import argparse


def add_ray_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ray", action="store_true",
                        help="run the batch work as Ray Data pipelines (also when RAY_ADDRESS "
                             "is set: the cluster to join; a local instance otherwise); needs "
                             "the [scale] extra")
    parser.add_argument("--ray-actors", type=int, metavar="N",
                        help="Ray actors (default: one per CPU of the cluster)")


def add_ray_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Distributed boosting is asked for by ``--ray-workers`` only: ``RAY_ADDRESS`` names the
    cluster to join but does not by itself switch training over, since a model boosted on
    shards is equal to the single-process one within noise, not bit for bit (the batch stages,
    which ``RAY_ADDRESS`` does switch, give identical results either way)."""
    parser.add_argument("--ray-workers", type=int, metavar="N",
                        help="boost the ranker on N Ray Train workers, the training set sharded "
                             "by decision (the cluster at RAY_ADDRESS, else a local instance); "
                             "default: in this process. Needs the [scale] extra")
    parser.add_argument("--ray-cpus-per-worker", type=int, metavar="C", default=1,
                        help="CPUs (LightGBM threads) per Ray Train worker (default: 1)")
