"""``waypoint rank``: point-in-time slate scoring for outside evaluation (JSON lines in, out)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    rank = subparsers.add_parser(
        "rank", help="score employee slates for opportunities as of a date (JSON lines on stdin)",
        description="Reads {\"id\", \"opportunity_id\", \"as_of\", \"employee_ids\"} per line on "
                    "standard input, writes {\"id\", \"scores\": {employee_id: score}} per line "
                    "on standard output: the champion model's scores with features as known "
                    "strictly before as_of, no re-ranking. A malformed line or an unknown id "
                    "exits 2 naming the line; nothing is written for it.")
    rank.add_argument("--bundle", type=Path, default=None,
                      help="score with this bundle folder instead of the MLflow champion")
    rank.set_defaults(func=run_rank)


def run_rank(args: argparse.Namespace) -> int:
    from features.ranking_history import records_begin
    from features.ranking_model import Ranker
    from features.settings import get_settings
    from features.store import Store
    from inference.artifacts.bundle import load_bundle
    from inference.artifacts.profiles import OBSERVATIONS, read_profile_artifacts
    from training.ranking.slate_scoring import SlateScorer, score_lines
    from training.ranking.stage import (
        TrainPaths,
        career_adjacency,
        point_in_time_builder,
        rejected_skills,
    )

    settings = get_settings()
    if args.bundle is not None:
        bundle = load_bundle(args.bundle)
    else:
        from inference.artifacts.registry import load_champion_bundle

        bundle = load_champion_bundle(settings.mlflow_tracking_uri, settings.model_name,
                                      settings.artifact_dir / "serving_cache")
    store = Store(settings.database_url)
    try:
        org = store.organization()
        adjacency = career_adjacency(store)
    finally:
        store.dispose()
    folder = TrainPaths(settings.artifact_dir).profiles
    profiles = read_profile_artifacts(folder, observations=(folder / OBSERVATIONS).is_file())
    builder = (point_in_time_builder(profiles, rejected=rejected_skills(org.events),
                                     role_levels={r.id: r.level for r in org.roles},
                                     records_since=records_begin(org.moves, org.opportunities))
               if profiles.observations else None)
    scorer = SlateScorer(org, Ranker(booster=bundle.ranker), profiles=profiles,
                         profile_builder=builder, adjacency=adjacency)
    score_lines(scorer, sys.stdin, sys.stdout)
    return 0
