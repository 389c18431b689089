"""``waypoint promote`` and ``waypoint rollback``: move the MLflow alias ``champion``."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(subparsers: Any) -> None:
    promote = subparsers.add_parser(
        "promote", help="give a registered ranker the alias 'champion' if it passes the gate")
    promote.add_argument("--version", help="model version (default: the latest registered)")
    promote.set_defaults(func=run_promote)
    rollback = subparsers.add_parser("rollback", help="return 'champion' to the previous one")
    rollback.set_defaults(func=run_rollback)


def run_promote(args: argparse.Namespace) -> int:
    from features.params import load_params
    from features.settings import get_settings
    from training.registry import promote

    settings = get_settings()
    gate = load_params().promote
    decision = promote(settings.mlflow_tracking_uri, settings.model_name, args.version,
                       metric=gate.metric, tolerance=gate.tolerance,
                       require_fairness=gate.require_fairness)
    text = json.dumps({"promoted": decision.version, "previous": decision.champion_version,
                       "metric": decision.metric, "value": decision.candidate_value,
                       "champion_value": decision.champion_value, "note": decision.note},
                      indent=2)
    print(text)
    (settings.artifact_dir / "promotion.json").write_text(text + "\n")
    return 0


def run_rollback(_args: argparse.Namespace) -> int:
    from features.settings import get_settings
    from training.registry import rollback

    settings = get_settings()
    print(json.dumps({"champion": rollback(settings.mlflow_tracking_uri, settings.model_name)}))
    return 0
