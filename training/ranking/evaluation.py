"""Evaluation that can fail: ordering within each opening's applicants, on the latest period.

For every held-out decision with at least two considered people (its *applicant slate*), a
scorer (the ranker or a baseline) orders the applicants, and that order is compared with

- **chosen**: who the decision picked (1) or not (0);
- **outcome**: the success grade of `training.ranking.labels` (0 not chosen, 2 chosen and
  retained with an average rating, 3 chosen and thrived a year later) on the decisions whose
  move is recorded to have worked out: did the scorer put the person who was chosen *and
  succeeded* first? Decisions whose move failed say the slate was weak, not who would have done
  better, and decisions without a recorded outcome (every one in the last year of history:
  `training.ranking.ranker.outcome_backtest` measures an earlier window) are left out;
- **truth** (simulated data only): the simulator's hidden true fit of each applicant
  (``models/simulation_truth.json.gz``). It is read here and nowhere else in training: never a
  feature, a label, or a tuning target.

with NDCG over the whole slate (the gain and discount of `inference.ranking.metrics`), top-1
accuracy (the scorer's first applicant is the chosen / best-graded / truly best one) and the
Spearman rank correlation between score and label (slates where the label varies; a
scorer constant on a slate counts 0 there, and a tie at the top counts the share of the tied
who are best, so every scorer is averaged over the same decisions). "Retrieved" keeps
the retrieved-list figures (NDCG@k, MRR, Recall@k over the retrieved lists with the
dataset's grades), for continuity only: they reward telling applicants from retrieved
non-applicants, which is not the same as ranking good moves first.

Every figure is a mean over decisions and comes with a 95% percentile bootstrap interval over
decisions (the same resamples for every scorer, so differences are paired).

Baselines: each skill feature used as the score (``skill_gap`` and ``missing_essentials``
lower-is-better), a hand-weighted skill score with weights fixed a priori (not fitted), and a
logistic regression on all of ``FEATURE_NAMES`` trained on the training period's applicants to
predict who was chosen.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy.stats import rankdata

from features.ranking import FEATURE_NAMES
from inference.fairness.groups import Grouping
from inference.ranking.metrics import groups, ndcg_of_scores, recall_at_k, reciprocal_rank
from training.ranking.dataset import APPLIED, MOVED, RankingDataset, outcome_key
from training.ranking.labels import MOVED_OK, applicant_mask, outcome_known, success_labels

if TYPE_CHECKING:
    from features.params import RerankPolicy

SKILL_FEATURES: dict[str, float] = {
    "embedding_cosine": 1.0,
    "skill_coverage": 1.0,
    "essential_coverage": 1.0,
    "skill_gap": -1.0,
    "missing_essentials": -1.0,
    "required_confidence": 1.0,
    "endorsements_on_required": 1.0,
}
"""Single-feature baselines and their direction (+1: higher is a better fit)."""

HAND_WEIGHTS: dict[str, float] = {
    "essential_coverage": 0.4, "skill_coverage": 0.4, "embedding_cosine": 0.2,
}
"""The hand-weighted skill score: a fixed blend of the three coverage-type features, chosen
before looking at any result (two thirds requirement coverage, one fifth profile similarity)."""

HAND_WEIGHTED = "hand_weighted_skill"
LOGISTIC = "logistic_regression"
PRIMARY = "applicants_outcome.ndcg"
"""The gate metric: NDCG of each applicant slate against the success grade (decisions with a
recorded one-year outcome)."""

Scorer = Callable[[np.ndarray], np.ndarray]
TruthKey = tuple[str, str]


def load_truth(path: Path) -> dict[TruthKey, float]:
    """``{(query id, employee id): true fit}`` of every historical applicant (evaluation only).

    Query ids follow the dataset's ``opp:<opportunity id>``."""
    with gzip.open(path, "rt") as handle:
        payload = json.load(handle)
    return {(f"opp:{opp}", emp): float(fit) for opp, emp, fit, _chosen in payload["applications"]}


def spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    """Spearman rank correlation of scores ``a`` with target ``b`` (average ranks for ties);
    None when the target is constant (nothing to order), 0.0 when the scores are: a scorer
    that cannot tell the applicants apart orders them no better than chance, and counting it
    so keeps every scorer's mean over the same decisions (leaving such decisions out let a
    feature that is often constant skip the slates it cannot order)."""
    if len(a) < 2:
        return None
    ra, rb = rankdata(a), rankdata(b)
    sa, sb = float(np.std(ra)), float(np.std(rb))
    if sb == 0.0:
        return None
    if sa == 0.0:
        return 0.0
    return float(np.mean((ra - ra.mean()) * (rb - rb.mean())) / (sa * sb))


def top1(scores: np.ndarray, target: np.ndarray) -> float:
    """The chance that the best-scored item has the highest ``target`` value: 1.0 or 0.0, and
    for a tie at the top the share of the tied items that have it (the first of them at
    random), so that the order of the rows cannot decide it."""
    tied = scores == np.max(scores)
    return float(np.mean(target[tied] == np.max(target)))


@dataclass(frozen=True)
class Slate:
    query_id: str
    rows: np.ndarray
    chosen: np.ndarray
    outcome: np.ndarray
    outcome_known: bool
    """Someone was chosen, and every chosen person's one-year outcome is recorded and good."""
    truth: np.ndarray | None


@dataclass(frozen=True)
class EvalData:
    """The held-out rows, their applicant slates and (optionally) the true fits."""

    data: RankingDataset
    slates: list[Slate]
    k: int
    recall_k: int

    @classmethod
    def of(cls, data: RankingDataset, k: int, recall_k: int,
           truth: Mapping[TruthKey, float] | None = None) -> EvalData:
        considered = applicant_mask(data)
        grades = success_labels(data)
        slates: list[Slate] = []
        for qid, g in zip(data.query_ids, groups(data.group_sizes), strict=True):
            rows = np.arange(g.start, g.stop)[considered[g]]
            if len(rows) < 2:
                continue
            fits = None
            if truth is not None:
                found = [truth.get((qid, data.employee_ids[r])) for r in rows]
                if all(f is not None for f in found):
                    fits = np.array(found, dtype=np.float64)
            chosen = data.labels[rows] >= MOVED
            known = bool(chosen.any()) and all(
                outcome_known(*data.outcomes.get(outcome_key(qid, data.employee_ids[r]),
                                                 (None, None)))
                for r in rows[chosen]) and bool(np.all(grades[rows][chosen] >= MOVED_OK))
            slates.append(Slate(query_id=qid, rows=rows, chosen=chosen.astype(float),
                                outcome=grades[rows].astype(float), outcome_known=known,
                                truth=fits))
        return cls(data=data, slates=slates, k=k, recall_k=recall_k)


def per_decision(ev: EvalData, scores: np.ndarray) -> dict[str, np.ndarray]:
    """metric -> its value in every decision where it is defined."""
    out: dict[str, list[float]] = {}

    def add(name: str, value: float | None) -> None:
        if value is not None:
            out.setdefault(name, []).append(value)

    for s in ev.slates:
        sc = scores[s.rows]
        n = len(s.rows)
        if s.chosen.max() > 0:
            add("applicants_chosen.ndcg", ndcg_of_scores(sc, s.chosen, n))
            add("applicants_chosen.top1", top1(sc, s.chosen))
            add("applicants_chosen.spearman", spearman(sc, s.chosen))
        if s.outcome_known:
            add("applicants_outcome.ndcg", ndcg_of_scores(sc, s.outcome, n))
            add("applicants_outcome.top1", top1(sc, s.outcome))
            add("applicants_outcome.spearman", spearman(sc, s.outcome))
        if s.truth is not None:
            add("truth.spearman", spearman(sc, s.truth))
            add("truth.top1", top1(sc, s.truth))
    labels = ev.data.labels
    for g in groups(ev.data.group_sizes):
        sc, y = scores[g], labels[g]
        add(f"retrieved.ndcg@{ev.k}", ndcg_of_scores(sc, y, ev.k))
        add("retrieved.mrr", reciprocal_rank(sc, y))
        add(f"retrieved.recall@{ev.recall_k}", recall_at_k(sc, y, ev.recall_k))
    return {name: np.asarray(v, dtype=np.float64) for name, v in out.items()}


@dataclass
class Comparison:
    metrics: dict[str, dict[str, float]]
    """scorer -> metric -> mean over decisions."""
    intervals: dict[str, dict[str, tuple[float, float]]]
    """scorer -> metric -> 95% bootstrap interval."""
    counts: dict[str, int]
    """metric -> decisions it is computed on."""
    differences: dict[str, tuple[float, float, float]]
    """baseline -> (ranker minus baseline on the primary metric, 95% paired interval)."""


def compare(ev: EvalData, scores: Mapping[str, np.ndarray], resamples: int = 1000,
            seed: int = 0, reference: str = "ranker") -> Comparison:
    """Every scorer's figures with paired bootstrap intervals over decisions."""
    values = {name: per_decision(ev, s) for name, s in scores.items()}
    rng = np.random.default_rng(seed)
    metrics: dict[str, dict[str, float]] = {}
    intervals: dict[str, dict[str, tuple[float, float]]] = {}
    counts: dict[str, int] = {}
    draws: dict[int, np.ndarray] = {}

    def resample(n: int) -> np.ndarray:
        if n not in draws:
            draws[n] = rng.integers(0, n, size=(resamples, n))
        return draws[n]

    def interval(v: np.ndarray) -> tuple[float, float]:
        if len(v) == 0 or resamples <= 0:
            return (float("nan"), float("nan"))
        means = v[resample(len(v))].mean(axis=1)
        lo, hi = np.percentile(means, [2.5, 97.5])
        return (float(lo), float(hi))

    for name, by_metric in values.items():
        metrics[name] = {m: float(v.mean()) if len(v) else float("nan")
                         for m, v in sorted(by_metric.items())}
        intervals[name] = {m: interval(v) for m, v in sorted(by_metric.items())}
        for m, v in by_metric.items():
            counts[m] = max(counts.get(m, 0), len(v))
    differences: dict[str, tuple[float, float, float]] = {}
    ref = values.get(reference, {}).get(PRIMARY)
    for name, by_metric in values.items():
        other = by_metric.get(PRIMARY)
        if name == reference or ref is None or other is None or len(other) != len(ref):
            continue
        diff = ref - other  # same decisions: the slates with a chosen applicant
        lo, hi = interval(diff)
        differences[name] = (float(diff.mean()), lo, hi)
    return Comparison(metrics=metrics, intervals=intervals, counts=counts,
                      differences=differences)


def fairness_costs(data: RankingDataset, scores: np.ndarray, grouping: Grouping,
                   rerank: RerankPolicy, offsets: Mapping[str, float],
                   metrics: Sequence[str] = (PRIMARY, "applicants_chosen.ndcg",
                                             "truth.top1"),
                   truth: Mapping[TruthKey, float] | None = None
                   ) -> dict[str, dict[str, float]]:
    """Per metric (those defined on ``data``): its value with each applicant slate in model
    order and in served order (fair re-ranking as serving ships it: ``offsets``, then the
    prefix floors), and the difference."""
    from inference.fairness.metrics import RankedList
    from training.fairness.audit import served_order

    ev = EvalData.of(data, 10, 10, truth)
    served = np.zeros(len(scores))
    for s in ev.slates:
        ids = [data.employee_ids[r] for r in s.rows]
        rl = RankedList.by_score(s.query_id, zip(ids, scores[s.rows].tolist(), strict=True))
        position = {e: i for i, e in enumerate(served_order(rl, grouping, rerank, offsets))}
        served[s.rows] = [-float(position[e]) for e in ids]
    model, fair = per_decision(ev, scores), per_decision(ev, served)
    out: dict[str, dict[str, float]] = {}
    for m in metrics:
        if len(model.get(m, ())):
            a, b = float(np.mean(model[m])), float(np.mean(fair[m]))
            out[m] = {"model_order": a, "served_order": b, "cost": a - b,
                      "relative_cost": (a - b) / a if a else 0.0}
    return out


# --------------------------------------------------------------------------- baselines


def feature_column(x: np.ndarray, name: str) -> np.ndarray:
    return np.nan_to_num(x[:, FEATURE_NAMES.index(name)], nan=-1.0)


def hand_weighted(x: np.ndarray) -> np.ndarray:
    return sum((w * np.nan_to_num(x[:, FEATURE_NAMES.index(n)], nan=0.0)
                for n, w in HAND_WEIGHTS.items()), np.zeros(len(x)))


def fit_logistic(train: RankingDataset, seed: int = 0) -> Scorer:
    """Logistic regression (standardized features) on the training period's applicants:
    chosen or not. Returns a scorer (the log-odds)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    keep = train.labels >= APPLIED
    x = np.nan_to_num(train.features[keep], nan=0.0)
    y = (train.labels[keep] >= MOVED).astype(int)
    if len(np.unique(y)) < 2:
        return lambda rows: np.zeros(len(rows))
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
    model.fit(x, y)
    return lambda rows: np.asarray(model.decision_function(np.nan_to_num(rows, nan=0.0)))


def baseline_scores(x: np.ndarray, logistic: Scorer | None = None) -> dict[str, np.ndarray]:
    """Every baseline's score of the rows ``x`` (higher first)."""
    out = {name: sign * feature_column(x, name) for name, sign in SKILL_FEATURES.items()}
    out[HAND_WEIGHTED] = hand_weighted(x)
    if logistic is not None:
        out[LOGISTIC] = logistic(x)
    return out


# --------------------------------------------------------------------------- the skill sweep


MONOTONE: dict[str, int] = {
    "embedding_cosine": 1, "skill_coverage": 1, "essential_coverage": 1,
    "required_confidence": 1, "endorsements_on_required": 1, "skill_gap": -1,
    "missing_essentials": -1,
}
"""Every feature that is evidence of having the required skills, constrained so that more of
it can only raise the score (+1) and a larger gap only lower it (-1): "fits better, therefore
less likely" cannot be learned, whatever the history says (docs/ranking.md)."""


def monotone_constraints(names: Sequence[str]) -> list[int]:
    """LightGBM ``monotone_constraints`` for a feature list (0: unconstrained)."""
    return [MONOTONE.get(n, 0) for n in names]


def skill_sweep(score: Scorer, rows: np.ndarray, steps: int = 5) -> dict[str, float]:
    """Move each row from none to all of its requirements (coverage features from 0 to 1,
    gap and missing essentials down in step) with everything else unchanged; the share of rows
    whose score never drops along the way and the mean score gain from none to all."""
    names = list(FEATURE_NAMES)
    cov, ess = names.index("skill_coverage"), names.index("essential_coverage")
    gap, miss = names.index("skill_gap"), names.index("missing_essentials")
    levels = np.linspace(0.0, 1.0, steps)
    out = []
    for f in levels:
        x = rows.copy()
        x[:, cov], x[:, ess] = f, f
        x[:, gap] = (1.0 - f) * 0.6
        x[:, miss] = np.round((1.0 - f) * 2)
        out.append(score(x))
    s = np.stack(out, axis=1)
    never_drops = np.all(np.diff(s, axis=1) >= -1e-12, axis=1)
    return {"rows": float(len(rows)), "share_monotone": float(np.mean(never_drops)),
            "mean_gain_none_to_all": float(np.mean(s[:, -1] - s[:, 0]))}


def gain_shares(names: Sequence[str], gains: np.ndarray) -> dict[str, float]:
    """Feature -> share of the model's total split gain, largest first."""
    total = float(gains.sum())
    pairs = sorted(zip(names, gains.tolist(), strict=True), key=lambda p: -p[1])
    return {n: (g / total if total else 0.0) for n, g in pairs}
