"""The skill-fit prior the ranker starts from: a skill score, as the model's first trees.

On the demo history a LambdaRank model trained from scratch on who was chosen learns, besides
skill fit, whatever else went with being chosen (tenure, time in role), and on the outcome
backtest it orders applicants no better than one skill feature alone (docs/ranking.md,
"The prior"). So the ranker starts from a prior: the unweighted consensus of the requirement-
coverage features (`CONSENSUS`, each in units of its spread within the training applicants'
slates), or one skill feature (`training.ranking.evaluation.SKILL_FEATURES`) alone when it
orders the *validation* period's applicants clearly better by the gate's own metric (`PRIMARY`,
the within-applicant outcome NDCG; who was chosen when no outcome is known there), by a margin a
paired test over the validation decisions calls clear (`clearly_better`). On the demo data the
validation period has about a hundred decisions with a known outcome and the single features lie
within about one standard error of each other and of the consensus, so picking the highest of
them would pick noise; an equal-weight mean of several noisy measures of one quantity needs no
fitted weight and is the a priori choice.

The prior is one regression tree per term, each on its one feature (`prior_tree`: the terms at
bin resolution, a count such as ``missing_essentials`` exactly, the skill features' monotone
constraints kept), and LambdaRank may continue from it (``init_model``): the shipped booster is one
LightGBM model, its first trees the prior, so serving, SHAP reasons, the bundle and MLflow need
nothing new. Whether boosting continues at all, and from which scale of the prior
(``ranker.prior_scales``), is decided by the same rule in `training.ranking.ranker`.
The simulator's truth is never read here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
from scipy.stats import norm

from training.ranking.dataset import RankingDataset
from training.ranking.evaluation import (
    PRIMARY,
    SKILL_FEATURES,
    EvalData,
    monotone_constraints,
    per_decision,
)

FALLBACK_METRIC = "applicants_chosen.ndcg"
"""What the choice reads when the validation period has no decision with a known outcome."""
PRIOR_LEAVES = 255
"""Leaves of each prior tree: LightGBM's default 255 feature bins, so a tree on one feature
reproduces the feature's term at bin resolution."""


CONSENSUS = ("skill_coverage", "skill_gap", "essential_coverage", "missing_essentials")
"""The requirement-coverage features, whose equal-weight mean (each in its unit, signed) is the
consensus prior: four measures of how much of the role's requirements the person holds, no
weight fitted. ``embedding_cosine`` (whole-profile similarity, retrieval's signal) is not one:
it measures how alike two profiles are, not how much of a requirement list is held
(docs/ranking.md, "The prior", also on how that choice was made)."""


@dataclass(frozen=True)
class Prior:
    name: str
    terms: tuple[tuple[str, float], ...]
    """(feature, weight): weight = direction (+1 higher is a better fit, -1 for ``skill_gap``
    and ``missing_essentials``) / (number of terms x the feature's spread within the
    training applicants' slates, `within_slate_sd`)."""

    def target(self, x: np.ndarray, names: Sequence[str], scale: float) -> np.ndarray:
        index = list(names)
        out = np.zeros(len(x), dtype=np.float64)
        for feature, weight in self.terms:
            out += weight * x[:, index.index(feature)]
        return scale * out


def validation_values(valid: RankingDataset, scores: np.ndarray, k: int, recall_k: int
                      ) -> np.ndarray:
    """`PRIMARY` in every validation decision where it is defined (`FALLBACK_METRIC` without
    any known outcome); empty when neither is."""
    values = per_decision(EvalData.of(valid, k, recall_k), scores)
    for metric in (PRIMARY, FALLBACK_METRIC):
        found = values.get(metric)
        if found is not None and len(found):
            return found
    return np.zeros(0, dtype=np.float64)


def validation_score(valid: RankingDataset, scores: np.ndarray, k: int, recall_k: int
                     ) -> float:
    """The mean of `validation_values`; -inf when it is not defined."""
    values = validation_values(valid, scores, k, recall_k)
    return float(values.mean()) if len(values) else float("-inf")


FAMILY_ERROR = 0.05
"""One-sided error rate of `clearly_better` over all the candidates compared with a default."""


def clearly_better(candidate: np.ndarray, default: np.ndarray, comparisons: int = 1) -> bool:
    """Whether ``candidate`` beats ``default`` on the same validation decisions (per-decision
    values, paired): its mean difference exceeds z standard errors, z the one-sided normal
    quantile at `FAMILY_ERROR` / ``comparisons`` (Bonferroni over the candidates compared with
    the same default; 1.64 for one, 2.33 for five). Choosing the highest of several
    near-equal candidates on ~100 decisions picks noise, and a boosted candidate's validation
    figure is already optimistic (early stopping chose its rounds on these decisions)."""
    if len(candidate) != len(default) or len(candidate) < 2:
        return False
    diff = candidate - default
    z = float(norm.ppf(1.0 - FAMILY_ERROR / max(1, comparisons)))
    return bool(diff.mean() > z * diff.std(ddof=1) / np.sqrt(len(diff)))


def within_slate_sd(column: np.ndarray, group_sizes: np.ndarray) -> float:
    """The pooled standard deviation of ``column`` within its slates (``group_sizes``
    consecutive rows each): how far a feature spreads among the people one decision orders,
    not between roles (a role with forty requirements and one with five differ in
    ``missing_essentials`` by far more than any two applicants to either). Missing values are
    left out; 0.0 when no slate has two values."""
    squares, degrees = 0.0, 0
    for values in np.split(column, np.cumsum(group_sizes)[:-1]):
        present = values[~np.isnan(values)]
        if len(present) > 1:
            squares += float(np.sum((present - present.mean()) ** 2))
            degrees += len(present) - 1
    return float(np.sqrt(squares / degrees)) if degrees else 0.0


def candidate_priors(train_rows: np.ndarray, names: Sequence[str],
                     group_sizes: np.ndarray) -> list[Prior]:
    """The consensus (first, when at least two skill features vary) and each varying skill
    feature alone, in units of its spread within the training applicants' slates
    (`within_slate_sd`; ``group_sizes`` cut ``train_rows`` into slates): the prior orders
    the people of one slate, so an equal weight must mean an equal pull within a slate."""
    units: dict[str, tuple[float, float]] = {}
    for feature, direction in SKILL_FEATURES.items():
        if feature in names and len(train_rows):
            sd = within_slate_sd(train_rows[:, list(names).index(feature)], group_sizes)
            if sd > 0.0:
                units[feature] = (direction, sd)
    singles = [Prior(name=f, terms=((f, d / sd),)) for f, (d, sd) in units.items()]
    members = [f for f in CONSENSUS if f in units]
    if len(members) < 2:
        return singles
    consensus = Prior(name="consensus", terms=tuple(
        (f, units[f][0] / (len(members) * units[f][1])) for f in members))
    return [consensus, *singles]


def choose_prior(train_rows: np.ndarray, group_sizes: np.ndarray, valid: RankingDataset,
                 names: Sequence[str], k: int, recall_k: int) -> Prior | None:
    """The consensus prior, unless a single skill feature `clearly_better` orders the
    validation applicants (`validation_values`); units from ``train_rows`` (the training
    applicants' feature rows). None when no skill feature varies."""
    candidates = candidate_priors(train_rows, names, group_sizes)
    if not candidates:
        return None
    default = candidates[0]
    base = validation_values(valid, default.target(valid.features, names, 1.0), k, recall_k)
    best, best_values = default, base
    for prior in candidates[1:]:
        values = validation_values(valid, prior.target(valid.features, names, 1.0), k,
                                   recall_k)
        if (clearly_better(values, base, len(candidates) - 1)
                and values.mean() > best_values.mean()):
            best, best_values = prior, values
    return best


def prior_tree(prior: Prior, scale: float, x: np.ndarray, names: Sequence[str],
               seed: int, threads: int) -> lgb.Booster:
    """One regression tree per term of ``scale`` times the prior, fitted on rows ``x``: tree t
    is fitted to what the sum of the first t terms leaves after the trees before it (exactly
    term t), each tree on one feature (LightGBM ``interaction_constraints``, one feature per
    set) with up to `PRIOR_LEAVES` leaves and learning rate 1. So the trees together are the
    prior's additive terms at bin resolution (one tree reproduces a single feature, a count
    exactly). A tree free to mix features approximates a sum of continuous terms by coarse
    boxes: within one opening's applicants it kept a rank correlation of only 0.80 with the
    prior it stood for (docs/ranking.md, "The prior"). The skill features' monotone
    constraints hold, so the prior never scores a better fit lower."""
    index = list(names)
    terms = np.stack([scale * weight * x[:, index.index(feature)]
                      for feature, weight in prior.terms])
    targets = np.cumsum(terms, axis=0)
    rounds = iter(range(len(terms)))

    def up_to_this_term(predicted: np.ndarray, _: lgb.Dataset) -> tuple[np.ndarray, np.ndarray]:
        target = targets[next(rounds)]  # squared error against the sum of the first t terms
        return predicted - target, np.ones_like(predicted)

    params = {"objective": up_to_this_term, "learning_rate": 1.0, "num_leaves": PRIOR_LEAVES,
              "monotone_constraints": monotone_constraints(index),
              "interaction_constraints": [[index.index(f)] for f, _ in prior.terms],
              "min_data_in_leaf": 1, "min_sum_hessian_in_leaf": 0.0, "lambda_l2": 0.0,
              "feature_fraction": 1.0, "bagging_fraction": 1.0, "bagging_freq": 0,
              "boost_from_average": False, "seed": seed, "deterministic": True,
              "num_threads": threads, "verbosity": -1}
    data = lgb.Dataset(x, targets[-1], feature_name=index, free_raw_data=False)
    booster = lgb.train(params, data, num_boost_round=len(terms))
    return lgb.Booster(model_str=booster.model_to_string())
