"""Pipeline stages ``waypoint dataset`` and ``waypoint train``.

``dataset``: point-in-time learning-to-rank rows from the store's history, with profiles rebuilt
from the dated observations the profiles stage wrote (only observations strictly before each
decision date are used). ``train``: LambdaRank with early stopping on a later validation slice,
evaluation against the baselines on the latest period (the quality gate), then the serving
bundle, and an MLflow run that logs parameters, metrics, the feature list, the data version and
the report, logs the model and registers it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from features.domain import (
    Employee,
    EmployeeProfile,
    Event,
    EventKind,
    Opportunity,
    RequirementProfile,
)
from features.params import Params, load_params
from features.profiles import ProfileParams, build_employee_profile
from features.ranking import FEATURE_NAMES
from features.ranking_history import EmployeeHistory, basic_requirements
from features.ranking_model import Ranker
from features.settings import Settings
from features.store import Store
from inference.artifacts.bundle import ServingPolicy, write_bundle
from inference.artifacts.profiles import (
    SERVING_FILES,
    ProfileArtifacts,
    read_profile_artifacts,
)
from inference.retrieval.indexes import SkillProfileVectorizer
from training.fairness.audit import fit_rerank_offsets, read_audit_settings
from training.fairness.mitigation import MitigationSettings, train_mitigated, training_grouping
from training.ranking.dataset import (
    ProfileBuilder,
    RankingDataset,
    build_dataset,
    historical_queries,
)
from training.ranking.ranker import (
    EvaluationReport,
    RankerParams,
    format_report,
    time_split,
    train_and_evaluate,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainPaths:
    artifact_dir: Path

    @property
    def profiles(self) -> Path:
        return self.artifact_dir / "profiles"

    @property
    def dataset(self) -> Path:
        return self.artifact_dir / "ranking" / "dataset.npz"

    @property
    def ranker(self) -> Path:
        return self.artifact_dir / "ranker"

    @property
    def bundle(self) -> Path:
        return self.artifact_dir / "bundle"

    @property
    def reports(self) -> Path:
        return self.artifact_dir / "reports"

    @property
    def summary(self) -> Path:
        return self.artifact_dir / "train_summary.json"


def career_adjacency(store: Store) -> dict[tuple[str, str], int]:
    return {(c.source, c.target): c.rank for c in store.career_changes()}


def rejected_skills(events: Iterable[Event]) -> dict[str, dict[str, date]]:
    """employee -> skill -> the first date they said "this skill is wrong"."""
    rejected: dict[str, dict[str, date]] = {}
    for event in events:
        if event.kind is EventKind.SKILL_REJECTED and event.skill_uri:
            day = event.occurred_at.date()
            mine = rejected.setdefault(event.employee_id, {})
            mine[event.skill_uri] = min(mine.get(event.skill_uri, day), day)
    return rejected


def point_in_time_builder(profiles: ProfileArtifacts, params: ProfileParams | None = None,
                          rejected: Mapping[str, Mapping[str, date]] | None = None,
                          ) -> ProfileBuilder:
    """Rebuild a profile from observations strictly before the history's date, without the
    skills the person had rejected before that date."""
    params = params or load_params().profiles
    rejected = rejected or {}

    def build(employee: Employee, history: EmployeeHistory) -> EmployeeProfile:
        mine = rejected.get(employee.id, {})
        before = [o for o in profiles.observations.get(employee.id, ())
                  if o.occurred_on < history.as_of
                  and not (o.skill_uri in mine and mine[o.skill_uri] < history.as_of)]
        return build_employee_profile(employee.id, history.as_of - timedelta(days=1), before,
                                      params)

    return build


def build_training_set(store: Store, profiles: ProfileArtifacts, params: RankerParams,
                       vectorizer: SkillProfileVectorizer | None = None) -> RankingDataset:
    org = store.organization()

    def opportunity_requirements(opportunity: Opportunity) -> RequirementProfile:
        found = profiles.opportunity_requirements.get(opportunity.id)
        return found if found is not None else basic_requirements(opportunity)

    queries = historical_queries(org, opportunity_requirements, profiles.role_requirements)
    log.info("%d historical decisions", len(queries))
    return build_dataset(
        org, queries=queries,
        profile_builder=point_in_time_builder(profiles, rejected=rejected_skills(org.events)),
        vectorizer=vectorizer or SkillProfileVectorizer(), adjacency=career_adjacency(store),
        negatives=params.negatives, random_negatives=params.random_negatives,
        pool_fraction=params.pool_fraction, seed=params.seed,
    )


def run_dataset_stage(settings: Settings, params: RankerParams) -> dict[str, Any]:
    paths = TrainPaths(settings.artifact_dir)
    store = Store(settings.database_url)
    profiles = read_profile_artifacts(paths.profiles, observations=True)
    data = build_training_set(store, profiles, params)
    data.save(paths.dataset)
    log.info("dataset: %s", data.stats)
    return dict(data.stats)


def flat_metrics(report: EvaluationReport) -> dict[str, float]:
    """MLflow metric names: the ranker's without prefix (the gate reads ``ndcg_at_10``), the
    baselines' prefixed with their name."""
    out: dict[str, float] = {}
    for model, values in report.metrics.items():
        for name, value in values.items():
            clean = name.replace("@", "_at_")
            out[clean if model == "ranker" else f"{model}.{clean}"] = float(value)
    out["relative_improvement"] = report.relative_improvement
    return out


def write_evaluation_report(report: EvaluationReport, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    as_json = folder / "ranker_eval.json"
    as_json.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    names = list(next(iter(report.metrics.values())))
    rows = ["| model | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    rows += [f"| {model} | " + " | ".join(f"{v:.4f}" for v in values.values()) + " |"
             for model, values in report.metrics.items()]
    verdict = "PASS" if report.passed else "FAIL"
    as_md = folder / "ranker_eval.md"
    as_md.write_text(
        "# Ranker evaluation (held-out later period)\n\n" + "\n".join(rows) + "\n\n"
        f"Ranker vs best baseline ({report.best_baseline}) on {report.primary_metric}: "
        f"{report.relative_improvement:+.1%}; gate >= {report.min_relative_improvement:+.1%}: "
        f"**{verdict}**.\n\nSplit: {json.dumps(report.split)}\n")
    return [as_json, as_md]


def mitigation_settings() -> MitigationSettings:
    """``fairness.mitigation`` of params.yaml."""
    fairness = load_params().fairness
    return MitigationSettings.from_params(fairness.mitigation, fairness.small_group_threshold)


def fit_offsets(store: Store, data: RankingDataset, params: RankerParams,
                ranker: Ranker) -> dict[str, dict[str, float]]:
    """Fair re-ranking offsets for ``ranker`` (``fairness.rerank.offsets.fit``), fitted on the
    validation period; ``{dimension: {group: offset}}``, empty when off."""
    settings = read_audit_settings()
    rerank = settings.rerank
    if not (rerank.enabled and rerank.offsets.fit):
        return {}
    _, valid, _ = time_split(data, params.valid_fraction, params.test_fraction)
    grouping = training_grouping(store.engine, valid.employee_ids, rerank.dimension)
    fit = fit_rerank_offsets(valid, ranker.score(valid.features), grouping, settings)
    del grouping
    log.info("fair re-ranking offsets (%s, validation period): %s; lowest selection/exposure "
             "ratio there %.3f after %d steps", rerank.dimension, fit.offsets or "none",
             fit.lowest_ratio or float("nan"), fit.steps)
    return {rerank.dimension: fit.offsets}


def serving_policy(params: Params, profiles: ProfileArtifacts) -> ServingPolicy:
    """The serving policy the bundle carries: params.yaml's as of training, and the profiles'."""
    return ServingPolicy(serving=params.serving, rerank=params.fairness.rerank,
                         small_group_threshold=params.fairness.small_group_threshold,
                         profiles_as_of=profiles.as_of, profiles_engine=profiles.engine)


def run_train_stage(settings: Settings, params: RankerParams, *,
                    register: bool = True) -> dict[str, Any]:
    """Train, evaluate (gate), bundle, log and register. Returns the summary it writes."""
    from training.registry import log_and_register

    paths = TrainPaths(settings.artifact_dir)
    store = Store(settings.database_url)
    data = RankingDataset.load(paths.dataset)
    mitigation = mitigation_settings()
    if mitigation.active:
        grouping = training_grouping(store.engine, data.employee_ids, mitigation.dimension)
        ranker, report, mitigation_report = train_mitigated(data, params, grouping, mitigation)
        del grouping
        log.info("fairness mitigation: %s; promoted %s", mitigation.describe(),
                 mitigation_report.promoted)
    else:
        ranker, report = train_and_evaluate(data, params)
    log.info("\n%s", format_report(report))
    offsets = fit_offsets(store, data, params, ranker)
    reports = write_evaluation_report(report, paths.reports)
    ranker.save(paths.ranker)
    versions: Mapping[str, str | None] = {
        "reference": store.dataset_version("reference"),
        "organization": store.dataset_version("organization"),
    }
    metrics = flat_metrics(report)
    profile_files = {f"profiles/{name}": paths.profiles / name for name in SERVING_FILES}
    write_bundle(paths.bundle, model_name=settings.model_name, ranker=ranker.booster,
                 feature_names=FEATURE_NAMES, encoder=settings.encoder, data_versions=versions,
                 extra_files=profile_files, metrics=metrics, rerank_offsets=offsets,
                 policy=serving_policy(load_params(), read_profile_artifacts(paths.profiles)))
    summary: dict[str, Any] = {"passed": report.passed, "metrics": metrics,
                               "split": report.split, "data_versions": dict(versions),
                               "rerank_offsets": offsets}
    if register and report.passed:
        run = log_and_register(
            tracking_uri=settings.mlflow_tracking_uri, model_name=settings.model_name,
            ranker=ranker.booster, bundle_dir=paths.bundle, params=params.model_dump(),
            metrics=metrics, feature_names=list(FEATURE_NAMES),
            data_version=f"{versions['reference']}/{versions['organization']}", reports=reports,
            artifact_root=settings.artifact_dir / "mlartifacts")
        summary.update(run_id=run.run_id, version=run.version)
    paths.summary.write_text(json.dumps(summary, indent=2) + "\n")
    return summary
