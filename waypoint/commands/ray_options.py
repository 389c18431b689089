"""``--ray`` and ``--ray-actors``: the batch stages' switch to Ray Data (`training.batch`)."""

from __future__ import annotations

import argparse


def add_ray_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ray", action="store_true",
                        help="run the batch work as Ray Data pipelines (also when RAY_ADDRESS "
                             "is set: the cluster to join; a local instance otherwise); needs "
                             "the [scale] extra")
    parser.add_argument("--ray-actors", type=int, metavar="N",
                        help="Ray actors (default: one per CPU of the cluster)")
