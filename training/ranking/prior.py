"""A skill-fit prior the ranker boosts from: a skill score, as the model's first trees.

On the demo history a LambdaRank model trained from scratch on who was chosen learns, besides
skill fit, whatever else went with being chosen (tenure, time in role), and on the outcome
backtest it orders applicants no better than one skill feature alone (docs/ranking.md,
"The prior"). So the ranker starts from a prior: of each skill feature
(`training.ranking.evaluation.SKILL_FEATURES`) alone and their unweighted consensus, the one that
orders the *validation* period's applicants best by the gate's own metric (`PRIMARY`, the
within-applicant outcome NDCG; who was chosen when no outcome is known there), in units of each
feature's standard deviation over the training applicants, times a scale. The prior is one
regression tree fitted to that target (exact for a count such as ``missing_essentials``, a close
step function otherwise; a few trees for the consensus), and LambdaRank continues from it
(``init_model``): the shipped booster is one LightGBM model, its first tree the prior, so
serving, SHAP reasons, the bundle and MLflow need nothing new. The scale is chosen the same
way, on the validation period, among ``ranker.prior_scales`` (0 = no prior).
The simulator's truth is never read here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np

from training.ranking.dataset import RankingDataset
from training.ranking.evaluation import PRIMARY, SKILL_FEATURES, EvalData, per_decision

FALLBACK_METRIC = "applicants_chosen.ndcg"
"""What the choice reads when the validation period has no decision with a known outcome."""
PRIOR_LEAVES = 63
PRIOR_ROUNDS = 8
"""Trees that approximate a prior of several features (one reproduces a single feature)."""


CONSENSUS = ("embedding_cosine", "skill_coverage", "skill_gap", "essential_coverage",
             "missing_essentials")
"""The skill features whose equal-weight mean (each in its unit, signed) is the consensus
prior, a candidate besides each single feature: no weight in it is fitted."""


@dataclass(frozen=True)
class Prior:
    name: str
    terms: tuple[tuple[str, float], ...]
    """(feature, weight): weight = direction (+1 higher is a better fit, -1 for ``skill_gap``
    and ``missing_essentials``) / (number of terms x the feature's standard deviation over the
    training applicants)."""

    def target(self, x: np.ndarray, names: Sequence[str], scale: float) -> np.ndarray:
        index = list(names)
        out = np.zeros(len(x), dtype=np.float64)
        for feature, weight in self.terms:
            out += weight * x[:, index.index(feature)]
        return scale * out


def validation_score(valid: RankingDataset, scores: np.ndarray, k: int, recall_k: int
                     ) -> float:
    """The mean of `PRIMARY` over the validation decisions (`FALLBACK_METRIC` without any
    known outcome); -inf when neither is defined."""
    values = per_decision(EvalData.of(valid, k, recall_k), scores)
    for metric in (PRIMARY, FALLBACK_METRIC):
        found = values.get(metric)
        if found is not None and len(found):
            return float(found.mean())
    return float("-inf")


def choose_prior(train_rows: np.ndarray, valid: RankingDataset, names: Sequence[str],
                 k: int, recall_k: int) -> Prior | None:
    """Of each skill feature alone and their consensus (`CONSENSUS`), the prior that best
    orders the validation applicants (`validation_score`), with units from ``train_rows``
    (the training applicants' feature rows); None when no skill feature varies."""
    units: dict[str, tuple[float, float]] = {}
    for feature, direction in SKILL_FEATURES.items():
        if feature in names and len(train_rows):
            sd = float(np.nanstd(train_rows[:, list(names).index(feature)]))
            if sd > 0.0:
                units[feature] = (direction, sd)
    candidates = [Prior(name=f, terms=((f, d / sd),)) for f, (d, sd) in units.items()]
    members = [f for f in CONSENSUS if f in units]
    if len(members) > 1:
        candidates.append(Prior(name="consensus", terms=tuple(
            (f, units[f][0] / (len(members) * units[f][1])) for f in members)))
    best: tuple[float, Prior] | None = None
    for prior in candidates:
        value = validation_score(valid, prior.target(valid.features, names, 1.0), k, recall_k)
        if best is None or value > best[0]:
            best = (value, prior)
    return None if best is None else best[1]


def prior_tree(prior: Prior, scale: float, x: np.ndarray, names: Sequence[str],
               seed: int, threads: int) -> lgb.Booster:
    """One regression tree fitted to ``scale`` times the prior on rows ``x`` (learning rate
    1: the tree's leaves are the target's means, so a count feature is reproduced exactly)."""
    params = {"objective": "regression", "learning_rate": 1.0, "num_leaves": PRIOR_LEAVES,
              "min_data_in_leaf": 1, "min_sum_hessian_in_leaf": 0.0, "lambda_l2": 0.0,
              "feature_fraction": 1.0, "bagging_fraction": 1.0, "bagging_freq": 0,
              "boost_from_average": False, "seed": seed, "deterministic": True,
              "num_threads": threads, "verbosity": -1}
    data = lgb.Dataset(x, prior.target(x, names, scale), feature_name=list(names),
                       free_raw_data=False)
    rounds = 1 if len(prior.terms) == 1 else PRIOR_ROUNDS
    return lgb.train(params, data, num_boost_round=rounds)
