"""Train and evaluate the LightGBM LambdaRank ranker, with baselines and a quality gate.

Queries are split by time: the oldest go to training, the next slice to validation (early
stopping), the latest to a held-out test period. On the test period the ranker and the
non-learned baselines (embedding cosine, skill coverage: one feature used as the score) are
evaluated in the same run with NDCG@k, MRR and Recall@k. The gate fails when the ranker's NDCG@k
does not beat the best baseline by ``min_relative_improvement``.

Parameters come from the ``ranker:`` section of ``params.yaml`` (`features.params`).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from features.params import RankerParams, load_params
from features.ranking import FEATURE_NAMES
from features.ranking_model import Ranker
from inference.ranking.metrics import evaluate
from training.ranking.dataset import RankingDataset

log = logging.getLogger(__name__)

BASELINES = ("embedding_cosine", "skill_coverage")


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
                     feature_names: Sequence[str]) -> lgb.Booster:
    """LambdaRank with early stopping on ``valid``: the one place LightGBM settings live."""
    lgb_params = {
        "objective": "lambdarank", "metric": "ndcg", "eval_at": [params.eval_at],
        "learning_rate": params.learning_rate, "num_leaves": params.num_leaves,
        "min_data_in_leaf": params.min_data_in_leaf,
        "feature_fraction": params.feature_fraction, "bagging_fraction": params.bagging_fraction,
        "bagging_freq": params.bagging_freq, "lambda_l2": params.lambda_l2,
        "label_gain": [0, 1, 3, 7], "seed": params.seed, "deterministic": True,
        "num_threads": params.num_threads, "verbosity": -1,
    }
    names = list(feature_names)
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
        valid_names=["valid"][: len(valid_sets)], callbacks=callbacks)
    return booster


def train_ranker(train: RankingDataset, valid: RankingDataset, params: RankerParams) -> Ranker:
    booster = train_lambdarank(train, valid, params, FEATURE_NAMES)
    return Ranker(booster=booster, meta={"params": params.model_dump(),
                                         "best_iteration": booster.best_iteration})


@dataclass
class EvaluationReport:
    metrics: dict[str, dict[str, float]]
    """model name ("ranker" or a baseline feature) -> metric -> value."""
    primary_metric: str
    best_baseline: str
    relative_improvement: float
    min_relative_improvement: float
    split: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.relative_improvement >= self.min_relative_improvement

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


def evaluate_models(ranker: Ranker, test: RankingDataset, params: RankerParams,
                    baselines: Sequence[str] = BASELINES) -> EvaluationReport:
    """The ranker and each baseline feature (used directly as the score) on the same rows."""
    k, rk = params.eval_at, params.recall_k
    metrics = {"ranker": evaluate(ranker.score(test.features), test.labels, test.group_sizes,
                                  k, rk)}
    for name in baselines:
        col = test.features[:, FEATURE_NAMES.index(name)]
        metrics[name] = evaluate(np.nan_to_num(col, nan=-1.0), test.labels, test.group_sizes,
                                 k, rk)
    primary = f"ndcg@{k}"
    best = max(baselines, key=lambda b: metrics[b][primary])
    base = metrics[best][primary]
    improvement = (metrics["ranker"][primary] - base) / base if base > 0 else float("inf")
    return EvaluationReport(metrics=metrics, primary_metric=primary, best_baseline=best,
                            relative_improvement=float(improvement),
                            min_relative_improvement=params.min_relative_improvement)


def training_split(data: RankingDataset, params: RankerParams
                   ) -> tuple[RankingDataset, RankingDataset, RankingDataset]:
    """`time_split` by ``params``; an empty train or test period is an error."""
    train, valid, test = time_split(data, params.valid_fraction, params.test_fraction)
    if not len(train.group_sizes) or not len(test.group_sizes):
        raise ValueError("time split left the train or the test period empty")
    return train, valid, test


def train_and_evaluate(data: RankingDataset, params: RankerParams
                       ) -> tuple[Ranker, EvaluationReport]:
    return fit_and_evaluate(*training_split(data, params), params)


def fit_and_evaluate(train: RankingDataset, valid: RankingDataset, test: RankingDataset,
                     params: RankerParams) -> tuple[Ranker, EvaluationReport]:
    """Train on ``train`` (early stopping on ``valid``), evaluate on ``test``; the evaluation
    and the split are saved in the model's metadata."""
    ranker = train_ranker(train, valid, params)
    report = evaluate_models(ranker, test, params)
    report.split = {"train_queries": len(train.group_sizes),
                    "valid_queries": len(valid.group_sizes),
                    "test_queries": len(test.group_sizes),
                    "test_from": test.query_dates[0].isoformat()}
    ranker.meta = {**ranker.meta, "evaluation": report.to_dict(),
                   "train_until": str(valid.query_dates[0] if valid.query_dates
                                      else test.query_dates[0])}
    return ranker, report


def format_report(report: EvaluationReport) -> str:
    lines = [f"{'model':<18}" + "".join(f"{m:>12}" for m in report.metrics["ranker"])]
    for name, m in report.metrics.items():
        lines.append(f"{name:<18}" + "".join(f"{v:>12.4f}" for v in m.values()))
    lines.append(f"ranker vs best baseline ({report.best_baseline}) on {report.primary_metric}: "
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
