"""Train and evaluate the LightGBM LambdaRank ranker, with baselines and a quality gate.

Queries are split by time: the oldest go to training, the next slice to validation (early
stopping), the latest to a held-out test period. The ranker learns from applicant slates graded
by success (``training.ranking.labels``; ``labels: legacy`` is the applied-vs-retrieved
objective), with the skill-fit features constrained to move the score one way only
(``monotone``). On the test period the ranker and the baselines of
``training.ranking.evaluation`` (each skill feature, a hand-weighted skill score, a logistic
regression) are evaluated in the same run, every figure with a bootstrap interval. The gate
fails when the ranker's within-applicant outcome NDCG (``training.ranking.evaluation.PRIMARY``)
does not beat the best baseline's by ``min_relative_improvement``.

Parameters come from the ``ranker:`` section of ``params.yaml`` (`features.params`).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

import lightgbm as lgb
import numpy as np

from features.params import RankerParams, load_params
from features.ranking import FEATURE_NAMES
from features.ranking_model import Ranker
from training.ranking.dataset import RankingDataset
from training.ranking.evaluation import (
    PRIMARY,
    EvalData,
    TruthKey,
    baseline_scores,
    compare,
    fit_logistic,
    gain_shares,
    monotone_constraints,
    skill_sweep,
)
from training.ranking.labels import (
    OUTCOME_DAYS,
    SUCCESS_GAIN,
    applicant_mask,
    outcomes_known_by,
    training_view,
)
from training.ranking.prior import (
    choose_prior,
    clearly_better,
    prior_tree,
    validation_score,
    validation_values,
)

log = logging.getLogger(__name__)


def read_params(path: Path | None = None) -> RankerParams:
    """The ``ranker:`` section of params.yaml (`features.params.load_params`)."""
    return load_params(path).ranker


def time_split(data: RankingDataset, valid_fraction: float, test_fraction: float
               ) -> tuple[RankingDataset, RankingDataset, RankingDataset]:
    """(train, valid, test) by decision date: no query in a later split predates an earlier one.

    Cut points fall on date boundaries, so one date never spans two splits.
    """
    dates = np.array([d.toordinal() for d in data.query_dates])
    if len(dates) < 3:
        raise ValueError("need at least three queries to split by time")
    if np.any(np.diff(dates) < 0):
        raise ValueError("queries must be ordered by date")
    n = len(dates)
    test_start = dates[min(n - 1, round(n * (1 - test_fraction)))]
    valid_start = dates[min(n - 1, round(n * (1 - test_fraction - valid_fraction)))]
    train = dates < valid_start
    valid = (dates >= valid_start) & (dates < test_start)
    test = dates >= test_start
    return data.subset(train), data.subset(valid), data.subset(test)


def train_lambdarank(train: RankingDataset, valid: RankingDataset, params: RankerParams,
                     feature_names: Sequence[str],
                     boosting: Boosting | None = None) -> lgb.Booster:
    """LambdaRank with early stopping on ``valid``: the one place LightGBM settings live.

    Both sets are first reduced to what ``params.labels`` trains on (`training_view`). The
    model starts from a skill-fit prior (`training.ranking.prior.choose_prior`, on the whole
    validation period). The prior alone is the default; LambdaRank boosted on top of it (at
    each scale of ``params.prior_scales``; 0 = from scratch; ``[0]`` alone: no prior, boosting
    from scratch, as the comparisons of the objective do) replaces it only when it orders
    the validation applicants `clearly_better` on the gate's metric (a paired test corrected
    for the number of scales tried), the best such one. The validation decisions are halved
    (`alternate_halves`): boosting stops early on one half and is judged on the other, since
    a figure on the decisions that chose the number of rounds flatters the boosted model. The
    returned booster's first trees are the prior.

    ``boosting`` runs the LambdaRank boosting of every scale (default `IN_PROCESS_BOOSTING`;
    `training.ranking.distributed.RayTrainBoosting` on Ray Train workers); the prior, its tree
    and the choice among the scales are made here, in this process, either way."""
    boosting = boosting or IN_PROCESS_BOOSTING
    names = list(feature_names)
    view_train = training_view(train, params.labels)
    if not len(valid.group_sizes):
        return boosting.boost(view_train, training_view(valid, params.labels), params, names,
                              [None])[0]
    prior = (choose_prior(view_train.features, view_train.group_sizes, valid, names,
                          params.eval_at, params.recall_k)
             if any(scale > 0.0 for scale in params.prior_scales) else None)
    stop, judge = alternate_halves(valid)
    scales = params.prior_scales if prior is not None else [0.0]
    inits = [prior_tree(prior, scale, view_train.features, names, params.seed,
                        params.num_threads)
             if prior is not None and scale > 0.0 else None for scale in scales]
    boosters = boosting.boost(view_train, training_view(stop, params.labels), params, names,
                              inits)
    if prior is None:
        return boosters[0]

    def values_of(booster: lgb.Booster) -> np.ndarray:
        return validation_values(judge, np.asarray(booster.predict(judge.features)),
                                 params.eval_at, params.recall_k)

    chosen = prior_tree(prior, 1.0, view_train.features, names, params.seed,
                        params.num_threads)
    base = chosen_values = values_of(chosen)
    log.info("prior %s alone: validation (judging half) %s %.4f (n=%d)", prior.name, PRIMARY,
             float(base.mean()) if len(base) else float("nan"), len(base))
    for scale, booster in zip(scales, boosters, strict=True):
        values = values_of(booster)
        better = clearly_better(values, base, len(scales))
        log.info("prior %s x %.2f, boosted: validation (judging half) %s %.4f%s", prior.name,
                 scale, PRIMARY, float(values.mean()) if len(values) else float("nan"),
                 " (clearly better than the prior alone)" if better else "")
        if better and values.mean() > chosen_values.mean():
            chosen, chosen_values = booster, values
    return chosen


def alternate_halves(data: RankingDataset) -> tuple[RankingDataset, RankingDataset]:
    """(even, odd) decisions in date order: two halves of one period, alike in time."""
    even = np.arange(len(data.group_sizes)) % 2 == 0
    return data.subset(even), data.subset(~even)


def lambdarank_params(params: RankerParams, names: Sequence[str]) -> dict[str, Any]:
    """The LightGBM parameters of the ranker's boosting (``params``, ``ranker:`` section)."""
    lgb_params: dict[str, Any] = {
        "objective": "lambdarank", "metric": "ndcg", "eval_at": [params.eval_at],
        "learning_rate": params.learning_rate, "num_leaves": params.num_leaves,
        "min_data_in_leaf": params.min_data_in_leaf,
        "feature_fraction": params.feature_fraction, "bagging_fraction": params.bagging_fraction,
        "bagging_freq": params.bagging_freq, "lambda_l2": params.lambda_l2,
        "label_gain": list(SUCCESS_GAIN), "seed": params.seed, "deterministic": True,
        "num_threads": params.num_threads, "verbosity": -1,
    }
    if params.monotone:
        lgb_params["monotone_constraints"] = monotone_constraints(list(names))
    return lgb_params


def boost(train: RankingDataset, valid: RankingDataset, params: RankerParams,
          names: list[str], init: lgb.Booster | None,
          overrides: Mapping[str, Any] | None = None) -> lgb.Booster:
    """LambdaRank on ``train`` (early stopping on ``valid``), continuing from ``init``.

    ``overrides`` replace some of `lambdarank_params` (a distributed worker's tree learner,
    threads and machine count: `training.ranking.distributed`); never the model's settings."""
    lgb_params = {**lambdarank_params(params, names), **(overrides or {})}
    dtrain = lgb.Dataset(train.features, train.labels, group=train.group_sizes,
                         feature_name=names, free_raw_data=False)
    callbacks: list[Any] = [lgb.log_evaluation(0)]
    valid_sets = []
    if len(valid.group_sizes):
        valid_sets = [lgb.Dataset(valid.features, valid.labels, group=valid.group_sizes,
                                  feature_name=names, reference=dtrain)]
        callbacks.append(lgb.early_stopping(params.early_stopping_rounds, verbose=False))
    booster: lgb.Booster = lgb.train(
        lgb_params, dtrain, num_boost_round=params.num_boost_round, valid_sets=valid_sets,
        valid_names=["valid"][: len(valid_sets)], callbacks=callbacks, init_model=init,
        keep_training_booster=True)
    if booster.best_iteration > 0:  # the trees early stopping kept, the prior's included
        booster = lgb.Booster(model_str=booster.model_to_string(
            num_iteration=booster.best_iteration))
    return booster


class Boosting(Protocol):
    """Where the ranker's LambdaRank boosting runs (`train_lambdarank`)."""

    def boost(self, train: RankingDataset, valid: RankingDataset, params: RankerParams,
              names: list[str], inits: Sequence[lgb.Booster | None]) -> list[lgb.Booster]:
        """One booster per init model (a prior tree, or None: from scratch), each trained by
        `boost` on ``train`` with early stopping on ``valid`` (both training views)."""
        ...

    def describe(self) -> dict[str, Any]:
        """What the ranker's metadata, the train summary and the MLflow run record of it."""
        ...


@dataclass(frozen=True)
class InProcessBoosting:
    """`boost` in this process, one init model after the other (the default)."""

    def boost(self, train: RankingDataset, valid: RankingDataset, params: RankerParams,
              names: list[str], inits: Sequence[lgb.Booster | None]) -> list[lgb.Booster]:
        return [boost(train, valid, params, names, init) for init in inits]

    def describe(self) -> dict[str, Any]:
        return {"backend": "in-process"}


IN_PROCESS_BOOSTING = InProcessBoosting()


def train_ranker(train: RankingDataset, valid: RankingDataset, params: RankerParams,
                 boosting: Boosting | None = None) -> Ranker:
    """`train_lambdarank` on the shipped features (``boosting``: where the boosting runs)."""
    boosting = boosting or IN_PROCESS_BOOSTING
    booster = train_lambdarank(train, valid, params, FEATURE_NAMES, boosting)
    return Ranker(booster=booster, meta={"params": params.model_dump(),
                                         "best_iteration": booster.best_iteration,
                                         "boosting": boosting.describe()})


@dataclass
class EvaluationReport:
    metrics: dict[str, dict[str, float]]
    """scorer ("ranker" or a baseline) -> metric -> value (`training.ranking.evaluation`)."""
    primary_metric: str
    best_baseline: str
    relative_improvement: float
    min_relative_improvement: float
    split: dict[str, Any] = field(default_factory=dict)
    intervals: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    """scorer -> metric -> 95% bootstrap interval over decisions."""
    counts: dict[str, int] = field(default_factory=dict)
    """metric -> the number of held-out decisions it averages over."""
    differences: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    """baseline -> ranker minus baseline on the primary metric, with a paired interval."""
    importance: dict[str, float] = field(default_factory=dict)
    """feature -> share of the ranker's split gain."""
    skill_sweep: dict[str, float] = field(default_factory=dict)
    """`training.ranking.evaluation.skill_sweep` of the ranker on held-out applicants."""
    truth: bool = False
    """Whether the simulator's true fits were available (the truth.* metrics)."""
    backtest: dict[str, Any] | None = None
    """`outcome_backtest`'s report (``to_dict``): the latest window whose outcomes are known."""
    gate_source: str = "test"
    """Where the gate's figures come from: ``test`` or ``backtest`` (when the held-out period
    has fewer than `MIN_GATE_DECISIONS` decisions with a recorded outcome)."""

    @property
    def passed(self) -> bool:
        return self.relative_improvement >= self.min_relative_improvement

    @property
    def gate_decisions(self) -> int:
        """Decisions with a known outcome behind the gate's figure (0: nothing to gate on,
        so the gate fails: too little history, not a worse ranker)."""
        if self.gate_source == "backtest" and self.backtest is not None:
            return int(self.backtest.get("counts", {}).get(self.primary_metric, 0))
        return int(self.counts.get(self.primary_metric, 0))

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


def evaluate_models(ranker: Ranker, test: RankingDataset, params: RankerParams,
                    train: RankingDataset | None = None,
                    truth: Mapping[TruthKey, float] | None = None,
                    valid: RankingDataset | None = None) -> EvaluationReport:
    """The ranker and every baseline on the same held-out rows (`training.ranking.evaluation`).

    ``train`` (the training period) fits the logistic-regression baseline; ``truth`` (the
    simulator's true fits) adds the truth.* figures. Neither touches the ranker. The gate's
    comparator, "the best baseline", is picked on ``valid`` (the validation period, by
    `validation_score`) and then judged on ``test`` like the ranker: picking the best of ten
    baselines on the test decisions themselves would hold the ranker to the luckiest of ten
    noisy figures (docs/ranking.md, "The gate"). Without ``valid``, the best on ``test``."""
    ev = EvalData.of(test, params.eval_at, params.recall_k, truth)
    logistic = fit_logistic(train, params.seed) if train is not None else None
    scores = {"ranker": ranker.score(test.features),
              **baseline_scores(test.features, logistic)}
    result = compare(ev, scores, resamples=params.bootstrap, seed=params.seed)
    baselines = [b for b in scores if b != "ranker"]
    if valid is not None and len(valid.group_sizes):
        on_valid = baseline_scores(valid.features, logistic)
        best = max(baselines, key=lambda b: validation_score(
            valid, on_valid[b], params.eval_at, params.recall_k))
    else:
        best = max(baselines, key=lambda b: _or_minus_inf(result.metrics[b].get(PRIMARY)))
    base = result.metrics[best].get(PRIMARY, float("nan"))
    mine = result.metrics["ranker"].get(PRIMARY, float("nan"))
    improvement = (mine - base) / base if base > 0 else float("-inf")
    if improvement != improvement:  # no decision with a known outcome in this period
        improvement = float("-inf")
    applicants = test.features[applicant_mask(test)]
    return EvaluationReport(
        metrics=result.metrics, primary_metric=PRIMARY, best_baseline=best,
        relative_improvement=float(improvement),
        min_relative_improvement=params.min_relative_improvement,
        intervals=result.intervals, counts=result.counts, differences=result.differences,
        importance=gain_shares(ranker.feature_names,
                               ranker.booster.feature_importance("gain")),
        skill_sweep=skill_sweep(ranker.score, applicants[:500]) if len(applicants) else {},
        truth=truth is not None)


MIN_GATE_DECISIONS = 30


def with_backtest(report: EvaluationReport, backtest: EvaluationReport | None
                  ) -> EvaluationReport:
    """Attach ``backtest``; gate on it when the held-out period lacks outcomes."""
    if backtest is not None:
        report.backtest = backtest.to_dict()
    if report.counts.get(PRIMARY, 0) < MIN_GATE_DECISIONS:
        if backtest is not None and backtest.counts.get(PRIMARY, 0) > 0:
            report.best_baseline = backtest.best_baseline
            report.relative_improvement = backtest.relative_improvement
            report.gate_source = "backtest"
        elif report.counts.get(PRIMARY, 0) == 0:
            report.relative_improvement = float("-inf")  # nothing to gate on: fail
    return report


Fit = Callable[[RankingDataset, RankingDataset], Ranker]


@dataclass
class Backtest:
    ranker: Ranker
    report: EvaluationReport
    test: RankingDataset


def outcome_backtest(data: RankingDataset, params: RankerParams, fit: Fit | None = None,
                     truth: Mapping[TruthKey, float] | None = None,
                     boosting: Boosting | None = None) -> Backtest | None:
    """The same recipe as of an earlier date, evaluated where one-year outcomes are known.

    A move's outcome is recorded a year after it, so the latest period never has any. The
    backtest keeps the decisions at least `OUTCOME_DAYS` before the last one, splits them by
    time like the shipped model (train / validation / latest ``test_fraction``), forgets the
    outcomes not yet known when its test window starts (`outcomes_known_by`), trains with
    ``fit`` (default `train_ranker`, boosting with ``boosting``) and evaluates the ranker and
    the baselines there. None when the history is too short."""
    if not data.query_dates:
        return None
    horizon = data.query_dates[-1] - timedelta(days=OUTCOME_DAYS)
    matured = data.subset([d <= horizon for d in data.query_dates])
    if len(matured.group_sizes) < 10:
        return None
    try:
        train, valid, test = training_split(matured, params)
    except ValueError:
        return None
    known = test.query_dates[0]
    train, valid = outcomes_known_by(train, known), outcomes_known_by(valid, known)
    ranker = (fit(train, valid) if fit is not None
              else train_ranker(train, valid, params, boosting))
    report = evaluate_models(ranker, test, params, train=train, truth=truth, valid=valid)
    report.split = split_summary(train, valid, test)
    return Backtest(ranker=ranker, report=report, test=test)


def _or_minus_inf(value: float | None) -> float:
    return float("-inf") if value is None or value != value else value


def training_split(data: RankingDataset, params: RankerParams
                   ) -> tuple[RankingDataset, RankingDataset, RankingDataset]:
    """`time_split` by ``params``; an empty train or test period is an error."""
    train, valid, test = time_split(data, params.valid_fraction, params.test_fraction)
    if not len(train.group_sizes) or not len(test.group_sizes):
        raise ValueError("time split left the train or the test period empty")
    return train, valid, test


def train_and_evaluate(data: RankingDataset, params: RankerParams,
                       truth: Mapping[TruthKey, float] | None = None,
                       boosting: Boosting | None = None
                       ) -> tuple[Ranker, EvaluationReport]:
    """Train and evaluate on the latest period, with the outcome backtest (the gate);
    ``boosting``: where both models' boosting runs (`train_lambdarank`)."""
    ranker, report = fit_and_evaluate(*training_split(data, params), params, truth=truth,
                                      boosting=boosting)
    backtest = outcome_backtest(data, params, truth=truth, boosting=boosting)
    with_backtest(report, backtest.report if backtest else None)
    ranker.meta = {**ranker.meta, "evaluation": report.to_dict()}
    return ranker, report


def split_summary(train: RankingDataset, valid: RankingDataset, test: RankingDataset
                  ) -> dict[str, Any]:
    """Sizes and date windows of the three periods (the model card's data window)."""
    def window(d: RankingDataset) -> list[str]:
        return [d.query_dates[0].isoformat(), d.query_dates[-1].isoformat()] \
            if d.query_dates else []

    return {"train_queries": len(train.group_sizes), "valid_queries": len(valid.group_sizes),
            "test_queries": len(test.group_sizes), "test_from": test.query_dates[0].isoformat(),
            "train_window": window(train), "valid_window": window(valid),
            "test_window": window(test)}


def fit_and_evaluate(train: RankingDataset, valid: RankingDataset, test: RankingDataset,
                     params: RankerParams, *, evaluation_train: RankingDataset | None = None,
                     truth: Mapping[TruthKey, float] | None = None,
                     boosting: Boosting | None = None
                     ) -> tuple[Ranker, EvaluationReport]:
    """Train on ``train`` (early stopping on ``valid``), evaluate on ``test``; the evaluation
    and the split are saved in the model's metadata. ``evaluation_train`` (default ``train``)
    is what the logistic-regression baseline learns from: the unmodified training period when
    ``train`` carries mitigated labels. ``boosting``: see `train_lambdarank`."""
    ranker = train_ranker(train, valid, params, boosting)
    report = evaluate_models(ranker, test, params,
                             train=evaluation_train if evaluation_train is not None else train,
                             truth=truth, valid=valid)
    report.split = split_summary(train, valid, test)
    ranker.meta = {**ranker.meta, "evaluation": report.to_dict(),
                   "train_until": str(valid.query_dates[0] if valid.query_dates
                                      else test.query_dates[0])}
    return ranker, report


def format_report(report: EvaluationReport) -> str:
    """The evaluation as a plain-text table: value [95% interval] per scorer and metric."""
    names = list(report.metrics["ranker"])
    lines = []
    for metric in names:
        lines.append(f"{metric} (decisions: {report.counts.get(metric, 0)})")
        for model, values in report.metrics.items():
            lo, hi = report.intervals.get(model, {}).get(metric, (float("nan"),) * 2)
            lines.append(f"  {model:<26}{values.get(metric, float('nan')):>8.4f}  "
                         f"[{lo:.4f}, {hi:.4f}]")
    lines.append(f"ranker vs best baseline ({report.best_baseline}) on {report.primary_metric} "
                 f"({report.gate_source}): "
                 f"{report.relative_improvement:+.1%} (gate: >= "
                 f"{report.min_relative_improvement:+.1%}) -> "
                 f"{'PASS' if report.passed else 'FAIL'}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Train on a saved dataset (``RankingDataset.save``); exit 1 when the gate fails."""
    parser = argparse.ArgumentParser(prog="python -m training.ranking.ranker", description=__doc__)
    parser.add_argument("dataset", type=Path, help="a .npz written by RankingDataset.save")
    parser.add_argument("--params", type=Path, default=None, help="default: repo params.yaml")
    parser.add_argument("--out", type=Path, default=Path("models/ranker"))
    args = parser.parse_args(argv)
    params = read_params(args.params)
    ranker, report = train_and_evaluate(RankingDataset.load(args.dataset), params)
    ranker.save(args.out)
    (args.out / "evaluation.json").write_text(json.dumps(report.to_dict(), indent=2))
    print(format_report(report))
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
