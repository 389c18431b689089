"""Resolve ``models:/<name>@champion`` in MLflow and load its bundle (the serving side)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from features.errors import WaypointError
from inference.artifacts.bundle import MANIFEST, ModelBundle, load_bundle

CHAMPION = "champion"
BUNDLE_ARTIFACT = "bundle"


def mlflow_client(tracking_uri: str) -> Any:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(tracking_uri)
    return MlflowClient(tracking_uri=tracking_uri)


def champion_version(tracking_uri: str, model_name: str) -> str | None:
    client = mlflow_client(tracking_uri)
    try:
        return str(client.get_model_version_by_alias(model_name, CHAMPION).version)
    except Exception:
        return None


def load_champion_bundle(tracking_uri: str, model_name: str, cache_dir: Path) -> ModelBundle:
    """Fetch the champion's bundle into ``cache_dir/<version>`` (once) and load it."""
    client = mlflow_client(tracking_uri)
    try:
        found = client.get_model_version_by_alias(model_name, CHAMPION)
    except Exception as exc:
        raise WaypointError(f"models:/{model_name}@{CHAMPION} does not exist: {exc}") from None
    import mlflow

    version = str(found.version)
    target = cache_dir / version
    if not (target / BUNDLE_ARTIFACT / MANIFEST).is_file():
        target.mkdir(parents=True, exist_ok=True)
        mlflow.artifacts.download_artifacts(run_id=found.run_id, artifact_path=BUNDLE_ARTIFACT,
                                            dst_path=str(target))
    return load_bundle(target / BUNDLE_ARTIFACT, model_version=version)
