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
from collections.abc import Callable, Iterable, Mapping, Sequence
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
from features.live_store import ensure_live_tables, live_requirements
from features.params import Params, load_params
from features.profiles import (
    Observation,
    ProfileParams,
    build_employee_profile,
    held_role_observations,
    is_role_observation,
)
from features.ranking import FEATURE_NAMES
from features.ranking_history import EmployeeHistory, basic_requirements, records_begin
from features.ranking_model import Ranker
from features.settings import Settings
from features.store import Store
from inference.artifacts.bundle import ServingPolicy, write_bundle
from inference.artifacts.profiles import (
    SERVING_FILES,
    ProfileArtifacts,
    read_profile_artifacts,
)
from inference.fairness.groups import Grouping
from inference.retrieval.indexes import SkillProfileVectorizer
from training.batch import IN_PROCESS, BatchRunner
from training.fairness.audit import fit_rerank_offsets, read_audit_settings
from training.fairness.mitigation import (
    MitigationSettings,
    mitigate_training_set,
    train_mitigated,
    training_grouping,
)
from training.ranking.dataset import (
    ProfileBuilder,
    RankingDataset,
    build_dataset,
    historical_queries,
)
from training.ranking.evaluation import PRIMARY, TruthKey, fairness_costs, load_truth
from training.ranking.model_card import model_card, write_model_card
from training.ranking.ranker import (
    IN_PROCESS_BOOSTING,
    Backtest,
    Boosting,
    EvaluationReport,
    Fit,
    RankerParams,
    evaluate_models,
    format_report,
    outcome_backtest,
    split_summary,
    time_split,
    train_and_evaluate,
    train_ranker,
    training_split,
    with_backtest,
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

    @property
    def truth(self) -> Path:
        """The simulator's hidden truth: read by the evaluation only (`load_truth`)."""
        return self.artifact_dir / "simulation_truth.json.gz"


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
                          rejected: Mapping[str, Mapping[str, date]] | None = None, *,
                          role_levels: Mapping[str, int],
                          records_since: date | None = None) -> ProfileBuilder:
    """Rebuild a profile from observations strictly before the history's date, without the
    skills the person had rejected before that date.

    The roles held are observed afresh from the employee *as they were* then and the moves
    before then (`features.profiles.held_role_observations`): the stored observations say
    which role a person holds today, so for someone who went on to move they would file the
    role of the decision date as a past role, dated from the hire, which no one else's
    profile does (docs/ranking.md, "What a past decision could know").
    """
    params = params or load_params().profiles
    rejected = rejected or {}

    evidence_of: dict[str, tuple[Observation, ...]] = {}
    roles_of: dict[tuple[object, ...], tuple[Observation, ...]] = {}

    def build(employee: Employee, history: EmployeeHistory) -> EmployeeProfile:
        mine = rejected.get(employee.id, {})
        observed = evidence_of.get(employee.id)
        if observed is None:  # the stored observations but the roles, once per person
            observed = evidence_of[employee.id] = tuple(
                o for o in profiles.observations.get(employee.id, ())
                if not is_role_observation(o))
        key = (employee.id, employee.role_id, employee.role_since, employee.level,
               employee.hired_on, len(history.moves))  # the moves before the date, in order
        held = roles_of.get(key)
        if held is None:
            held = roles_of[key] = tuple(held_role_observations(
                employee, history.moves, profiles.role_requirements, role_levels,
                records_since))
        before = [o for o in (*observed, *held) if o.occurred_on < history.as_of
                  and not (o.skill_uri in mine and mine[o.skill_uri] < history.as_of)]
        return build_employee_profile(employee.id, history.as_of - timedelta(days=1), before,
                                      params)

    return build


def training_requirements(store: Store, profiles: ProfileArtifacts
                          ) -> Callable[[Opportunity], RequirementProfile]:
    """An opportunity's requirements as serving used them: inferred when it was posted or
    edited through the API, else the profiles stage's, else the basic ones."""
    ensure_live_tables(store)  # a store made before the live tables
    live = live_requirements(store)

    def requirements(opportunity: Opportunity) -> RequirementProfile:
        found = live.get(opportunity.id) or profiles.opportunity_requirements.get(opportunity.id)
        return found if found is not None else basic_requirements(opportunity)

    return requirements


def build_training_set(store: Store, profiles: ProfileArtifacts, params: RankerParams,
                       vectorizer: SkillProfileVectorizer | None = None,
                       runner: BatchRunner = IN_PROCESS) -> RankingDataset:
    """The dataset from the store's history, API-made applications and dismissals included
    (`training.ranking.dataset.historical_queries`), built in this process or on Ray
    (``runner``, `training.batch`): the same rows either way."""
    org = store.organization()
    queries = historical_queries(org, training_requirements(store, profiles),
                                 profiles.role_requirements)
    log.info("%d historical decisions", len(queries))
    return build_dataset(
        org, queries=queries,
        profile_builder=point_in_time_builder(
            profiles, rejected=rejected_skills(org.events),
            role_levels={r.id: r.level for r in org.roles},
            records_since=records_begin(org.moves, org.opportunities)),
        vectorizer=vectorizer or SkillProfileVectorizer(), adjacency=career_adjacency(store),
        negatives=params.negatives, random_negatives=params.random_negatives,
        pool_fraction=params.pool_fraction, seed=params.seed, runner=runner,
    )


def run_dataset_stage(settings: Settings, params: RankerParams,
                      runner: BatchRunner = IN_PROCESS) -> dict[str, Any]:
    paths = TrainPaths(settings.artifact_dir)
    store = Store(settings.database_url)
    profiles = read_profile_artifacts(paths.profiles, observations=True)
    data = build_training_set(store, profiles, params, runner=runner)
    data.save(paths.dataset)
    log.info("dataset: %s", data.stats)
    return dict(data.stats)


def flat_metrics(report: EvaluationReport) -> dict[str, float]:
    """MLflow metric names: the ranker's without prefix, the baselines' prefixed with their
    name, the backtest's with ``backtest.`` (the promotion gate reads
    ``backtest.applicants_outcome.ndcg``); "@" -> "_at_"."""
    out: dict[str, float] = {}
    for model, values in report.metrics.items():
        for name, value in values.items():
            clean = name.replace("@", "_at_")
            if value == value:  # MLflow refuses NaN
                out[clean if model == "ranker" else f"{model}.{clean}"] = float(value)
    if report.backtest is not None:
        for model, values in report.backtest["metrics"].items():
            for name, value in values.items():
                clean = "backtest." + name.replace("@", "_at_")
                if value == value:
                    out[clean if model == "ranker" else f"{model}.{clean}"] = float(value)
    if report.relative_improvement == report.relative_improvement \
            and abs(report.relative_improvement) != float("inf"):
        out["relative_improvement"] = report.relative_improvement
    return out


FAMILIES = (("applicants_outcome", "Within each opening's applicants, against the one-year "
             "outcome (decisions whose move is recorded to have worked out: 0 not chosen, 2 "
             "chosen and retained, 3 chosen and thrived)"),
            ("applicants_chosen", "Within each opening's applicants, against who was chosen"),
            ("truth", "Within each opening's applicants, against the simulator's true fit "
             "(evaluation only)"),
            ("retrieved", "Over the retrieved lists (applicants vs. retrieved non-applicants; the "
             "old primary figure, for continuity)"))


def _tables(metrics: Mapping[str, Mapping[str, float]],
            intervals: Mapping[str, Mapping[str, Sequence[float]]],
            counts: Mapping[str, int], heading: str) -> list[str]:
    out: list[str] = []
    for family, title in FAMILIES:
        names = [m for m in metrics["ranker"] if m.split(".")[0] == family]
        if not names:
            continue
        short = [m.split(".", 1)[1] for m in names]
        n = ", ".join(f"{s}: {counts.get(m, 0)}" for s, m in zip(short, names, strict=True))
        out += [f"{heading} {title}", "", f"Decisions: {n}.", "",
                "| scorer | " + " | ".join(short) + " |", "|---|" + "---|" * len(names)]
        for model, values in metrics.items():
            cells = []
            for m in names:
                lo, hi = intervals.get(model, {}).get(m, (float("nan"),) * 2)
                cells.append(f"{values.get(m, float('nan')):.3f} [{lo:.3f}, {hi:.3f}]")
            out.append(f"| {model} | " + " | ".join(cells) + " |")
        out.append("")
    return out


def evaluation_markdown(report: EvaluationReport) -> str:
    """One table per metric family: value [95% bootstrap interval] for every scorer."""
    out = ["# Ranker evaluation", "",
           f"## Held-out latest period {report.split.get('test_window')}", ""]
    if report.counts.get(PRIMARY, 0) == 0:
        out += ["No decision of this period has a recorded one-year outcome yet (outcomes "
                "arrive a year after the move): the outcome figures and the gate come from "
                "the backtest below.", ""]
    out += _tables(report.metrics, report.intervals, report.counts, "###")
    bt = report.backtest
    if bt is not None:
        out += [f"## Outcome backtest: the same recipe trained on decisions before "
                f"{bt['split'].get('test_from')}, evaluated on {bt['split'].get('test_window')} "
                "(the latest window whose one-year outcomes are known)", ""]
        out += _tables(bt["metrics"], bt["intervals"], bt["counts"], "###")
    verdict = "PASS" if report.passed else "FAIL"
    out += [f"Gate ({report.gate_source}): ranker vs best baseline ({report.best_baseline}) on "
            f"{report.primary_metric}: {report.relative_improvement:+.1%}; gate >= "
            f"{report.min_relative_improvement:+.1%}: **{verdict}**.", ""]
    diffs = (bt or {}).get("differences") if report.gate_source == "backtest" \
        else report.differences
    if diffs:
        out += ["Ranker minus each baseline on the primary metric (paired bootstrap):", ""]
        out += [f"- {b}: {d:+.3f} [{lo:+.3f}, {hi:+.3f}]" for b, (d, lo, hi) in diffs.items()]
        out.append("")
    top = list(report.importance.items())[:8]
    out += ["Features the ranker leans on (share of split gain): "
            + ", ".join(f"{n} {v:.1%}" for n, v in top) + ".", ""]
    if report.skill_sweep:
        sw = report.skill_sweep
        out += [f"Skill sweep (held-out applicants, none -> all of the requirements, everything "
                f"else fixed): score never drops for {sw['share_monotone']:.1%} of "
                f"{int(sw['rows'])} rows; mean gain {sw['mean_gain_none_to_all']:+.3f}.", ""]
    out += [f"Split: {json.dumps(report.split)}", ""]
    return "\n".join(out)


def write_evaluation_report(report: EvaluationReport, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    as_json = folder / "ranker_eval.json"
    as_json.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    as_md = folder / "ranker_eval.md"
    as_md.write_text(evaluation_markdown(report))
    return [as_json, as_md]


def read_truth(paths: TrainPaths) -> dict[TruthKey, float] | None:
    """The simulator's true fits when the store is simulated (evaluation only), else None."""
    if not paths.truth.is_file():
        return None
    return load_truth(paths.truth)


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


def shipped_fit(params: RankerParams, mitigation: MitigationSettings,
                grouping: Grouping | None, boosting: Boosting = IN_PROCESS_BOOSTING) -> Fit:
    """The shipped recipe on a (train, valid) pair: mitigation (when on), then `train_ranker`
    (boosting with ``boosting``)."""
    def fit(train: RankingDataset, valid: RankingDataset) -> Ranker:
        if mitigation.active and grouping is not None:
            train, valid_m, _ = mitigate_training_set(train, grouping, mitigation, params, valid,
                                                      boosting=boosting)
            valid = valid_m if valid_m is not None else valid
        return train_ranker(train, valid, params, boosting)

    return fit


def run_train_stage(settings: Settings, params: RankerParams, *, register: bool = True,
                    boosting: Boosting = IN_PROCESS_BOOSTING) -> dict[str, Any]:
    """Train, evaluate (gate), bundle, log and register. Returns the summary it writes.

    ``boosting`` is where every model of the stage boosts (the shipped one, the preliminary
    model of massaging, both backtests): in this process by default, on Ray Train workers with
    `training.ranking.distributed.RayTrainBoosting` (``waypoint train --ray-workers``). It is
    the only thing that changes: the split, the prior, the evaluation, the gates, the bundle
    and the MLflow run are the same code either way."""
    from training.registry import log_and_register

    paths = TrainPaths(settings.artifact_dir)
    store = Store(settings.database_url)
    data = RankingDataset.load(paths.dataset)
    truth = read_truth(paths)
    train, valid, test = training_split(data, params)
    mitigation = mitigation_settings()
    mitigation_summary: dict[str, Any] = {"method": mitigation.describe()}
    grouping = (training_grouping(store.engine, data.employee_ids, mitigation.dimension)
                if mitigation.active else None)
    if grouping is not None:
        ranker, _, mitigation_report = train_mitigated(data, params, grouping, mitigation,
                                                       boosting=boosting)
        log.info("fairness mitigation: %s; promoted %s", mitigation.describe(),
                 mitigation_report.promoted)
        mitigation_summary["promoted"] = mitigation_report.promoted
    else:
        ranker, _ = train_and_evaluate(data, params, boosting=boosting)
    # the shipped model's evaluation: the logistic baseline learns from the unmodified training
    # period, the true fits (simulated data) are read for the truth.* figures only
    report = evaluate_models(ranker, test, params, train=train, truth=truth, valid=valid)
    report.split = split_summary(train, valid, test)
    backtest = outcome_backtest(data, params, shipped_fit(params, mitigation, grouping, boosting),
                                truth)
    unmitigated = (outcome_backtest(data, params, boosting=boosting) if grouping is not None
                   else None)
    del grouping
    with_backtest(report, backtest.report if backtest else None)
    ranker.meta = {**ranker.meta, "evaluation": report.to_dict()}
    log.info("\n%s", format_report(report))
    offsets = fit_offsets(store, data, params, ranker)
    costs = fairness_cost(store, test, ranker, backtest, unmitigated, offsets, truth)
    log.info("fairness cost: %s", json.dumps(costs))
    reports = write_evaluation_report(report, paths.reports)
    ranker.save(paths.ranker)
    versions: Mapping[str, str | None] = {
        "reference": store.dataset_version("reference"),
        "organization": store.dataset_version("organization"),
    }
    metrics = flat_metrics(report)
    card = model_card(report, params=params, data_versions=versions,
                      mitigation=mitigation_summary, fairness_cost=costs,
                      model_name=settings.model_name)
    reports += write_model_card(card, paths.reports)
    profile_files = {f"profiles/{name}": paths.profiles / name for name in SERVING_FILES}
    write_bundle(paths.bundle, model_name=settings.model_name, ranker=ranker.booster,
                 feature_names=FEATURE_NAMES, encoder=settings.encoder, data_versions=versions,
                 extra_files=profile_files, metrics=metrics, rerank_offsets=offsets,
                 policy=serving_policy(load_params(), read_profile_artifacts(paths.profiles)))
    summary: dict[str, Any] = {"passed": report.passed, "metrics": metrics,
                               "gate": {"source": report.gate_source,
                                        "decisions": report.gate_decisions,
                                        "queries": len(data.group_sizes)},
                               "split": report.split, "data_versions": dict(versions),
                               "rerank_offsets": offsets, "fairness_cost": costs,
                               "boosting": boosting.describe()}
    if register and report.passed:
        run = log_and_register(
            tracking_uri=settings.mlflow_tracking_uri, model_name=settings.model_name,
            ranker=ranker.booster, bundle_dir=paths.bundle, params=params.model_dump(),
            metrics=metrics, feature_names=list(FEATURE_NAMES),
            data_version=f"{versions['reference']}/{versions['organization']}", reports=reports,
            artifact_root=settings.artifact_dir / "mlartifacts",
            tags={"boosting": json.dumps(boosting.describe(), sort_keys=True)})
        summary.update(run_id=run.run_id, version=run.version)
    paths.summary.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def fairness_cost(store: Store, test: RankingDataset, ranker: Ranker,
                  backtest: Backtest | None, unmitigated: Backtest | None,
                  offsets: Mapping[str, Mapping[str, float]],
                  truth: Mapping[TruthKey, float] | None) -> dict[str, Any]:
    """What mitigation and fair re-ranking cost (docs/ranking.md, "Fairness").

    Mitigation, on the primary metric: the backtest of the shipped recipe against the same
    backtest trained without mitigation. Re-ranking: applicant slates in served order (the
    shipped offsets, then the floors, as a recruiter would see them) against model order, on
    the primary metric (backtest window) and on the held-out period's other figures."""
    settings = read_audit_settings()
    out: dict[str, Any] = {"primary_metric": PRIMARY}
    if backtest is not None and unmitigated is not None:
        mit = backtest.report.metrics["ranker"].get(PRIMARY, float("nan"))
        unmit = unmitigated.report.metrics["ranker"].get(PRIMARY, float("nan"))
        out["mitigation"] = {"unmitigated": unmit, "mitigated": mit, "cost": unmit - mit}
    if settings.rerank.enabled:
        rerank = settings.rerank
        mine = dict(offsets.get(rerank.dimension, {}))
        periods: dict[str, tuple[RankingDataset, Ranker]] = {"test": (test, ranker)}
        if backtest is not None:
            periods["backtest"] = (backtest.test, backtest.ranker)
        rerank_costs: dict[str, Any] = {}
        for name, (rows, model) in periods.items():
            grouping = training_grouping(store.engine, rows.employee_ids, rerank.dimension)
            rerank_costs[name] = fairness_costs(rows, model.score(rows.features), grouping,
                                                rerank, mine, truth=truth)
            del grouping
        out["rerank"] = rerank_costs
    return out
