"""Pipeline stage ``waypoint audit``: audit a registered ranker, record the verdict, gate.

Inputs: the store (protected attributes through `features.protected`, the organization for the
employee-facing lists), ``models/ranking/dataset.npz`` (its latest, held-out period is the audit
sample) and the model: the version in ``models/train_summary.json`` loaded from
``models/bundle``, or any registered version fetched from MLflow. The bundle brings its own
profiles and serving policy (re-ranking, offsets, depths): the employee-facing lists are served
by `inference.ranking.recommender.Recommender` over it, and the candidate lists are re-ranked
with its policy (`settings_for`).

Outputs: ``models/reports/fairness/`` (Markdown, HTML, PNG), ``models/reports/fairness_audit.json``,
MLflow metrics on the version's run and its ``fairness_audit`` tag (`record_fairness`).
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from features.errors import WaypointError
from features.protected import read_protected_attributes
from features.ranking_model import Ranker
from features.settings import Settings
from features.store import Store
from inference.artifacts.bundle import ModelBundle, load_bundle
from inference.fairness.export import mlflow_metrics
from inference.fairness.groups import protected_groupings
from inference.fairness.metrics import EmployeeRecommendations, RankedList
from inference.ranking.recommender import Recommender
from training.fairness.audit import AuditResult, AuditSettings, audit_served_lists, build_audit
from training.fairness.compare import Comparison, before_after_markdown, compare
from training.fairness.employee_lists import employee_recommendations
from training.fairness.mitigation import AugmentedRanker, MitigationSettings, hr_values
from training.fairness.report import write_report
from training.ranking.dataset import RankingDataset
from training.ranking.ranker import RankerParams, time_split
from training.ranking.stage import TrainPaths, career_adjacency

log = logging.getLogger(__name__)
REPORT_DIR = "fairness"
AUDIT_JSON = "fairness_audit.json"
BEFORE_AFTER = "fairness_before_after.md"


@dataclass(frozen=True)
class AuditedModel:
    bundle: ModelBundle
    version: str | None
    source: str

    @property
    def ranker(self) -> Ranker:
        return Ranker(booster=self.bundle.ranker)

    @property
    def rerank_offsets(self) -> Mapping[str, Mapping[str, float]]:
        """The bundle's fair re-ranking offsets, ``{dimension: {group: offset}}``."""
        return self.bundle.manifest.rerank_offsets


def load_model(settings: Settings, version: str | None = None) -> AuditedModel:
    """The version ``waypoint train`` registered (models/bundle), or ``version`` from MLflow."""
    paths = TrainPaths(settings.artifact_dir)
    summary: dict[str, Any] = {}
    if paths.summary.is_file():
        summary = json.loads(paths.summary.read_text())
    trained = summary.get("version")
    trained = None if trained is None else str(trained)
    if version is None or version == trained:
        if not (paths.bundle / "manifest.json").is_file():
            raise WaypointError(f"{paths.bundle}: no bundle; run `waypoint train` first")
        return AuditedModel(load_bundle(paths.bundle, model_version=trained), trained,
                            str(paths.bundle))
    from inference.artifacts.registry import BUNDLE_ARTIFACT, mlflow_client

    client = mlflow_client(settings.mlflow_tracking_uri)
    try:
        found = client.get_model_version(settings.model_name, version)
    except Exception as exc:
        raise WaypointError(f"{settings.model_name} version {version} not found: {exc}") from None
    import mlflow

    target = Path(tempfile.mkdtemp(prefix="waypoint-audit-"))
    mlflow.artifacts.download_artifacts(run_id=found.run_id, artifact_path=BUNDLE_ARTIFACT,
                                        dst_path=str(target))
    return AuditedModel(load_bundle(target / BUNDLE_ARTIFACT, model_version=version), version,
                        f"mlflow run {found.run_id}")


def settings_for(settings: AuditSettings, bundle: ModelBundle) -> AuditSettings:
    """The audit settings with the bundle's own serving policy: its re-ranking policy, its
    small-group threshold and its fitted offsets for that dimension (what serving applies)."""
    policy = bundle.manifest.policy
    offsets = dict(bundle.manifest.rerank_offsets.get(policy.rerank.dimension) or {})
    return settings.model_copy(update={"rerank": policy.rerank,
                                       "small_group_threshold": policy.small_group_threshold,
                                       "fitted_offsets": offsets})


class AuditInputs:
    """Everything an audit reads from the store and the artifacts, loaded once.

    ``bundle`` is the audited bundle (or, for the before/after comparison, the trained one):
    its serving pipeline, profiles and policy build the employee-facing lists."""

    def __init__(self, settings: Settings, params: RankerParams,
                 audit_settings: AuditSettings, bundle: ModelBundle) -> None:
        self.settings = settings
        self.params = params
        self.audit_settings = settings_for(audit_settings, bundle)
        paths = TrainPaths(settings.artifact_dir)
        if not paths.dataset.is_file():
            raise WaypointError(f"{paths.dataset} not found: run `waypoint dataset` first")
        self.store = Store(settings.database_url)
        self.data = RankingDataset.load(paths.dataset)
        _, _, self.test = time_split(self.data, params.valid_fraction, params.test_fraction)
        self.org = self.store.organization()
        self.recommender = Recommender(bundle, self.store)
        self.as_of = self.recommender.as_of
        self.adjacency = career_adjacency(self.store)
        ids = {*self.data.employee_ids, *(e.id for e in self.org.employees)}
        self.groupings = protected_groupings(
            read_protected_attributes(self.store.engine, ids), sorted(ids))

    def employee_lists(self, ranker: Ranker | AugmentedRanker,
                       extra: Mapping[str, Sequence[float]] | None = None,
                       ) -> list[EmployeeRecommendations]:
        s = self.audit_settings
        return employee_recommendations(
            self.recommender, score=ranker.score, extra=extra, sample=s.employee_sample,
            seed=self.params.seed, top_k=s.employee_top_k)


def audit_model(inputs: AuditInputs, model: AuditedModel, *, rerank: bool = True) -> AuditResult:
    s = settings_for(inputs.audit_settings, model.bundle)
    s = s if rerank else s.without_rerank()
    subject = f"{inputs.settings.model_name} version {model.version or 'unregistered'}"
    return build_audit(inputs.test, model.ranker.score(inputs.test.features), inputs.groupings,
                       s, employees=inputs.employee_lists(model.ranker), subject=subject)


def audit_document(result: AuditResult, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON the stage writes and ``--json`` prints (impact ratios under ``*impact_ratio*``)."""
    return {**result.audit.model_dump(mode="json"), "gate": result.gate.model_dump(mode="json"),
            "passed": result.passed, "min_impact_ratio": result.min_impact_ratio(),
            **(extra or {})}


def write_outputs(settings: Settings, result: AuditResult, extra: dict[str, Any]) -> Path:
    reports = TrainPaths(settings.artifact_dir).reports
    write_report(result.audit, reports / REPORT_DIR, gate=result.gate,
                 title=f"Fairness audit: {result.audit.subject}")
    path = reports / AUDIT_JSON
    path.write_text(json.dumps(audit_document(result, extra), indent=2) + "\n")
    return path


def record(settings: Settings, version: str | None, result: AuditResult, report: Path) -> bool:
    """Log the figures and the verdict on the model version; False when there is none."""
    if version is None:
        log.warning("no registered version to record the audit on (train without "
                    "--no-register first); the verdict is only in %s", report)
        return False
    from training.registry import record_fairness

    metrics = {k.removeprefix("fairness/"): v for k, v in mlflow_metrics(result.audit).items()}
    metrics["gate_passed"] = 1.0 if result.passed else 0.0
    record_fairness(settings.mlflow_tracking_uri, settings.model_name, version, result.passed,
                    metrics, report)
    return True


def run_audit_stage(settings: Settings, params: RankerParams, audit_settings: AuditSettings,
                    *, version: str | None = None, rerank: bool = True,
                    register: bool = True) -> tuple[AuditResult, dict[str, Any]]:
    model = load_model(settings, version)
    inputs = AuditInputs(settings, params, audit_settings, model.bundle)
    result = audit_model(inputs, model, rerank=rerank)
    extra = {"model_version": model.version, "model_source": model.source,
             "rerank_enabled": rerank and inputs.audit_settings.rerank.enabled,
             "rerank_policy": inputs.audit_settings.rerank.model_dump(mode="json"),
             "rerank_offsets": {k: dict(v) for k, v in model.rerank_offsets.items()},
             "test_from": inputs.test.query_dates[0].isoformat() if inputs.test.query_dates
             else None, "employee_lists_as_of": inputs.as_of.isoformat()}
    path = write_outputs(settings, result, extra)
    extra["recorded"] = record(settings, model.version, result, path) if register else False
    return result, extra


def run_compare(settings: Settings, params: RankerParams, audit_settings: AuditSettings,
                mitigation: MitigationSettings, command: str) -> tuple[Comparison, Path]:
    inputs = AuditInputs(settings, params, audit_settings, load_model(settings).bundle)
    comparison = compare(inputs.data, inputs.groupings, params, audit_settings, mitigation,
                         employee_lists=inputs.employee_lists,
                         hr=hr_values(inputs.org.employees))
    path = TrainPaths(settings.artifact_dir).reports / BEFORE_AFTER
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(before_after_markdown(comparison, command, inputs.audit_settings))
    return comparison, path


# --------------------------------------------------------------------------- served traffic


def served_candidate_lists(store: Store, since: datetime | None) -> list[RankedList]:
    """Recruiter candidate lists from the ``served_lists`` audit log, in displayed order."""
    out = []
    for entry in store.served_lists(since, endpoint="candidates"):
        items = sorted(entry.items, key=lambda i: i.rank)
        if items:
            out.append(RankedList.from_pairs(entry.id, [(i.id, i.score) for i in items]))
    return out


def run_served_audit(settings: Settings, audit_settings: AuditSettings,
                     since: datetime | None) -> AuditResult:
    store = Store(settings.database_url)
    lists = served_candidate_lists(store, since)
    ids: Sequence[str] = sorted({i for rl in lists for i in rl.ids})
    groupings = protected_groupings(read_protected_attributes(store.engine, ids), ids)
    subject = "served candidate lists" + (f" since {since.isoformat()}" if since else "")
    result = audit_served_lists(lists, groupings, audit_settings, subject=subject)
    reports = TrainPaths(settings.artifact_dir).reports
    write_report(result.audit, reports / "fairness_served", gate=result.gate,
                 title=f"Fairness audit: {subject}")
    (reports / "fairness_served_audit.json").write_text(json.dumps(
        audit_document(result, {"n_lists": len(lists), "since": since.isoformat()
                                if since else None}), indent=2) + "\n")
    return result


def ndcg_summary(result: AuditResult) -> dict[str, float]:
    n = result.audit.ndcg
    return {} if n is None else {"before": n.before, "after": n.after, "delta": n.delta}


__all__ = ["AuditInputs", "load_model", "run_audit_stage", "run_compare", "run_served_audit"]
