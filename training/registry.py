"""MLflow: log a training run with its bundle, register the ranker, promote and roll back.

Promotion is a gate, written as code: a version gets the alias ``champion`` only when its
evaluation matches or beats the current champion within ``tolerance`` on the gate metric and,
when required, its fairness audit passed. Every promotion is appended to a history kept as a
registered-model tag, so ``rollback`` can return to the previous champion.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb

from features.errors import WaypointError
from inference.artifacts.registry import BUNDLE_ARTIFACT, CHAMPION, champion_version, mlflow_client

log = logging.getLogger(__name__)
HISTORY_TAG = "champion_history"
EXPERIMENT = "waypoint-ranker"
FAIRNESS_TAG = "fairness_audit"


class PromotionRefused(WaypointError):
    """The gate said no; the message lists every reason."""


def _client(tracking_uri: str) -> Any:
    return mlflow_client(tracking_uri)


@dataclass(frozen=True)
class RegisteredRun:
    run_id: str
    version: str


def log_and_register(
    *,
    tracking_uri: str,
    model_name: str,
    ranker: lgb.Booster,
    bundle_dir: Path,
    params: Mapping[str, Any],
    metrics: Mapping[str, float],
    feature_names: list[str],
    data_version: str,
    reports: list[Path] | None = None,
    artifact_root: Path | None = None,
    tags: Mapping[str, str] | None = None,
) -> RegisteredRun:
    """Log params, metrics, feature list, data version, reports and the bundle; register.

    ``tags`` are set on the run besides ``data_version`` and ``feature_count`` (`waypoint
    train` records where the boosting ran: ``boosting``, `training.ranking.ranker.Boosting`).

    ``artifact_root`` pins where a new experiment keeps its artifacts (default: MLflow's,
    which is relative to the working directory); not with an MLflow server (an ``http(s)://``
    tracking URI), whose own artifact store every client and API worker reaches."""
    client = _client(tracking_uri)
    import mlflow
    import mlflow.lightgbm

    served = tracking_uri.startswith(("http://", "https://"))
    if artifact_root is not None and not served \
            and client.get_experiment_by_name(EXPERIMENT) is None:
        artifact_root.mkdir(parents=True, exist_ok=True)
        client.create_experiment(EXPERIMENT, artifact_location=artifact_root.resolve().as_uri())
    mlflow.set_experiment(EXPERIMENT)
    with mlflow.start_run() as run:
        mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
        mlflow.log_dict({"feature_names": feature_names}, "feature_names.json")
        mlflow.set_tags({**(tags or {}), "data_version": data_version,
                         "feature_count": str(len(feature_names))})
        for report in reports or []:
            mlflow.log_artifact(str(report), artifact_path="reports")
        mlflow.log_artifacts(str(bundle_dir), artifact_path=BUNDLE_ARTIFACT)
        # the requirements stated, not inferred: MLflow's inference imports the model in a
        # subprocess to list what it loads (~15 s of every `waypoint train`)
        info = mlflow.lightgbm.log_model(ranker, name="ranker",
                                         registered_model_name=model_name,
                                         pip_requirements=[f"lightgbm=={lgb.__version__}"])
    version = str(info.registered_model_version)
    log.info("registered %s version %s (run %s)", model_name, version, run.info.run_id)
    return RegisteredRun(run_id=run.info.run_id, version=version)


METRIC_BATCH = 1000
"""MLflow's limit on metrics per `log_batch` call."""


def record_fairness(tracking_uri: str, model_name: str, version: str, passed: bool,
                    metrics: Mapping[str, float], report: Path | None = None) -> None:
    """Attach a fairness audit result to a model version (and its run)."""
    client = _client(tracking_uri)
    status = "passed" if passed else "failed"
    client.set_model_version_tag(model_name, version, FAIRNESS_TAG, status)
    run_id = client.get_model_version(model_name, version).run_id
    from mlflow.entities import Metric

    stamp = int(time.time() * 1000)
    batch = [Metric(key=f"fairness.{key}", value=float(value), timestamp=stamp, step=0)
             for key, value in metrics.items()]
    for start in range(0, len(batch), METRIC_BATCH):  # one write per batch, not per metric
        client.log_batch(run_id, metrics=batch[start:start + METRIC_BATCH])
    if report is not None:
        client.log_artifact(run_id, str(report), artifact_path="fairness")
    from training.ranking.model_card import record_verdict

    record_verdict(client, run_id, passed, metrics)


@dataclass
class GateDecision:
    version: str
    champion_version: str | None
    metric: str
    candidate_value: float
    champion_value: float | None
    reasons: list[str] = field(default_factory=list)
    note: str | None = None
    """Why the champion's figure was not compared, when it was not."""

    @property
    def passed(self) -> bool:
        return not self.reasons


def _run_metric(client: Any, model_name: str, version: str, metric: str) -> float | None:
    run_id = client.get_model_version(model_name, version).run_id
    value = client.get_run(run_id).data.metrics.get(metric)
    return None if value is None else float(value)


def _data_version(client: Any, model_name: str, version: str) -> str | None:
    run_id = client.get_model_version(model_name, version).run_id
    found = client.get_run(run_id).data.tags.get("data_version")
    return None if found is None else str(found)


def evaluate_gate(tracking_uri: str, model_name: str, version: str, *, metric: str,
                  tolerance: float, require_fairness: bool) -> GateDecision:
    client = _client(tracking_uri)
    candidate = _run_metric(client, model_name, version, metric)
    current = champion_version(tracking_uri, model_name)
    champion_value = (_run_metric(client, model_name, current, metric)
                      if current and current != version else None)
    note = None
    if current and champion_value is not None:
        ours, theirs = (_data_version(client, model_name, v) for v in (version, current))
        if ours != theirs:
            # each figure is measured on its own data's latest period: another organization
            # (a new import, a changed simulator) makes the two incomparable
            note = (f"the champion (version {current}) was evaluated on other data "
                    f"({theirs} vs {ours}): its {metric} {champion_value:.4f} is not compared")
            champion_value = None
    decision = GateDecision(version=version, champion_version=current, metric=metric,
                            candidate_value=candidate if candidate is not None else float("nan"),
                            champion_value=champion_value, note=note)
    if candidate is None:
        decision.reasons.append(f"version {version} has no {metric!r} metric (no evaluation)")
    elif champion_value is not None and candidate < champion_value - tolerance:
        decision.reasons.append(
            f"{metric} {candidate:.4f} is below the champion's {champion_value:.4f} "
            f"by more than the tolerance {tolerance}")
    if require_fairness:
        tags = client.get_model_version(model_name, version).tags
        status = tags.get(FAIRNESS_TAG)
        if status != "passed":
            decision.reasons.append(
                f"fairness audit {'failed' if status == 'failed' else 'missing'} "
                f"for version {version}")
    return decision


def _history(client: Any, model_name: str) -> list[str]:
    raw = client.get_registered_model(model_name).tags.get(HISTORY_TAG, "[]")
    return [str(v) for v in json.loads(raw)]


def promote(tracking_uri: str, model_name: str, version: str | None = None, *,
            metric: str = "ndcg_at_10", tolerance: float = 0.01,
            require_fairness: bool = True) -> GateDecision:
    """Move ``champion`` to ``version`` (default: the latest) if the gate passes."""
    client = _client(tracking_uri)
    if version is None:
        versions = client.search_model_versions(f"name='{model_name}'")
        if not versions:
            raise PromotionRefused(
                f"no registered versions of {model_name!r}: `waypoint train` registers a "
                "version only when it passes its quality gate (see models/train_summary.json)")
        version = str(max(int(v.version) for v in versions))
    decision = evaluate_gate(tracking_uri, model_name, version, metric=metric,
                             tolerance=tolerance, require_fairness=require_fairness)
    if not decision.passed:
        raise PromotionRefused(f"version {version} not promoted: " + "; ".join(decision.reasons))
    if decision.champion_version != version:
        history = _history(client, model_name)
        client.set_registered_model_alias(model_name, CHAMPION, version)
        client.set_registered_model_tag(model_name, HISTORY_TAG, json.dumps([*history, version]))
    if decision.note:
        log.warning("%s", decision.note)
    log.info("version %s of %s is champion", version, model_name)
    return decision


def rollback(tracking_uri: str, model_name: str) -> str:
    """Return ``champion`` to the version promoted before the current one."""
    client = _client(tracking_uri)
    history = _history(client, model_name)
    if len(history) < 2:
        raise PromotionRefused(f"{model_name!r} has no earlier champion to roll back to")
    previous = history[-2]
    client.set_registered_model_alias(model_name, CHAMPION, previous)
    client.set_registered_model_tag(model_name, HISTORY_TAG, json.dumps(history[:-1]))
    log.info("rolled %s back to version %s", model_name, previous)
    return previous
