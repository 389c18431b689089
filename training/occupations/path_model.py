"""The blended career-path model: a logistic regression over per-source standardized signals.

For each source occupation every signal (``training/occupations/signals.py``) is turned into a
z-score over the other occupations, so that signals on different scales are comparable and a
source with uniformly high similarities is not favoured. The model learns one weight per
signal from O*NET's Related Occupations (Primary tiers) of the validation sources: a pair is
positive when the target is on the source's list. It is evaluated by cross-validation across
source occupations: every source is scored by a model fitted without it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from features.sources import read_rows
from inference.paths.graph import OccupationGraph
from training.occupations.reference import OccupationReference

log = logging.getLogger(__name__)
PRIMARY_TIERS = ("Primary-Short", "Primary-Long")
NEIGHBOURS = 40


def read_related_occupations(path: Path) -> dict[str, set[str]]:
    """Source code -> its Primary-tier related codes (O*NET's official layout)."""
    required = ("O*NET-SOC Code", "Related O*NET-SOC Code", "Relatedness Tier")
    gold: dict[str, set[str]] = defaultdict(set)
    for row in read_rows(path, required, delimiter="\t"):
        if row["Relatedness Tier"].strip() in PRIMARY_TIERS:
            gold[row.required("O*NET-SOC Code")].add(row.required("Related O*NET-SOC Code"))
    return dict(gold)


def standardize_rows(matrix: np.ndarray) -> np.ndarray:
    """Per-row z-scores, the diagonal (an occupation and itself) left out and set to 0."""
    m = matrix.astype(np.float64)
    np.fill_diagonal(m, np.nan)
    mean = np.nanmean(m, axis=1, keepdims=True)
    std = np.nanstd(m, axis=1, keepdims=True)
    z = (m - mean) / np.where(std == 0, 1.0, std)
    return np.nan_to_num(z).astype(np.float32)


@dataclass(frozen=True)
class BlendWeights:
    signals: tuple[str, ...]
    weights: tuple[float, ...]
    intercept: float

    def as_json(self) -> dict[str, object]:
        return {"intercept": round(self.intercept, 6),
                "weights": {s: round(w, 6)
                            for s, w in zip(self.signals, self.weights, strict=True)}}


class SignalStack:
    """The standardized signals, stacked: ``z[f]`` is signal ``signals[f]`` as N x N z-scores."""

    def __init__(self, codes: Sequence[str], signals: Mapping[str, np.ndarray]) -> None:
        self.codes = list(codes)
        self.index = {c: i for i, c in enumerate(self.codes)}
        self.signals = tuple(signals)
        self.z = np.stack([standardize_rows(signals[s]) for s in self.signals])

    def rows(self, sources: Sequence[str]) -> np.ndarray:
        """(sources x N x F) features of every pair from ``sources``."""
        idx = [self.index[s] for s in sources]
        return np.moveaxis(self.z[:, idx, :], 0, -1)

    def labels(self, sources: Sequence[str], gold: Mapping[str, set[str]]) -> np.ndarray:
        y = np.zeros((len(sources), len(self.codes)), dtype=np.int8)
        for a, s in enumerate(sources):
            for t in gold.get(s, ()):
                if t in self.index:
                    y[a, self.index[t]] = 1
        return y


def fit_blend(stack: SignalStack, gold: Mapping[str, set[str]], sources: Sequence[str],
              c: float = 1.0) -> BlendWeights:
    """Logistic regression of "on the related list" on the standardized signals; the source
    itself is left out of its own pairs."""
    x = stack.rows(sources)
    y = stack.labels(sources, gold)
    keep = np.ones(y.shape, dtype=bool)
    for a, s in enumerate(sources):
        keep[a, stack.index[s]] = False
    model = LogisticRegression(C=c, max_iter=3000)
    model.fit(x[keep], y[keep])
    return BlendWeights(stack.signals, tuple(float(w) for w in model.coef_[0]),
                        float(model.intercept_[0]))


def blend(stack: SignalStack, weights: BlendWeights, sources: Sequence[str] | None = None
          ) -> np.ndarray:
    """The model's logits for every pair from ``sources`` (all codes when None)."""
    x = stack.rows(sources if sources is not None else stack.codes)
    return (x @ np.asarray(weights.weights, dtype=np.float32) + weights.intercept).astype(
        np.float32)


def r_precision_at_k(scores: np.ndarray, sources: Sequence[str], stack: SignalStack,
                     gold: Mapping[str, set[str]], k: int = 10) -> list[float]:
    """Per source (row ``a`` of ``scores`` is ``sources[a]``): |top-k ∩ gold| / min(k, |gold|),
    ranking every other occupation of the catalog (ties broken by catalog order)."""
    out = []
    for a, s in enumerate(sources):
        row = scores[a].astype(np.float64).copy()
        row[stack.index[s]] = -np.inf
        top = set(np.argsort(-row, kind="stable")[:k].tolist())
        relevant = {stack.index[t] for t in gold.get(s, ()) if t in stack.index}
        if relevant:
            out.append(len(top & relevant) / min(k, len(relevant)))
    return out


def folds_of(sources: Sequence[str], n_folds: int, seed: int) -> list[list[str]]:
    order = np.random.default_rng(seed).permutation(sorted(sources))
    return [sorted(order[f::n_folds].tolist()) for f in range(n_folds)]


@dataclass
class PathEvaluation:
    sources: int
    folds: int
    model: float
    model_per_fold: list[float]
    baselines: dict[str, float]


def cross_validate(stack: SignalStack, gold: Mapping[str, set[str]], *, n_folds: int = 5,
                   seed: int = 0, c: float = 1.0, k: int = 10) -> PathEvaluation:
    """RP@k of the blended model, each fold's sources scored by a model fitted on the other
    folds, and of every single signal (nothing to fit) on all sources."""
    sources = sorted(s for s in gold if s in stack.index)
    folds = folds_of(sources, n_folds, seed)
    per_source: list[float] = []
    per_fold: list[float] = []
    for f, report in enumerate(folds):
        tune = [s for g, fold in enumerate(folds) if g != f for s in fold]
        weights = fit_blend(stack, gold, tune, c)
        values = r_precision_at_k(blend(stack, weights, report), report, stack, gold, k)
        per_source.extend(values)
        per_fold.append(float(np.mean(values)))
    baselines = {}
    for f, name in enumerate(stack.signals):
        rows = stack.z[f][[stack.index[s] for s in sources]]
        baselines[name] = float(np.mean(r_precision_at_k(rows, sources, stack, gold, k)))
    return PathEvaluation(sources=len(sources), folds=n_folds, model=float(np.mean(per_source)),
                          model_per_fold=per_fold, baselines=baselines)


def build_graph(ref: OccupationReference, stack: SignalStack, weights: BlendWeights,
                meta: dict[str, object]) -> OccupationGraph:
    """The served graph: logits of the model fitted on every validation source, the top
    neighbours' signal contributions, and the O*NET ratings behind the reasons."""
    logits = blend(stack, weights)
    ranked = logits.astype(np.float64).copy()
    np.fill_diagonal(ranked, -np.inf)
    neighbours = np.argsort(-ranked, axis=1, kind="stable")[:, :NEIGHBOURS].astype(np.int32)
    w = np.asarray(weights.weights, dtype=np.float32)
    rows = np.arange(len(stack.codes))[:, None]
    contributions = (np.moveaxis(stack.z[:, rows, neighbours], 0, -1) * w).astype(np.float16)
    elements = sorted({n for kind in ("skill_im", "knowledge_im")
                       for values in ref.ratings.get(kind, {}).values() for n in values})

    def table(scale: str) -> np.ndarray:
        out = np.full((len(stack.codes), len(elements)), np.nan, dtype=np.float32)
        for k in (f"skill_{scale}", f"knowledge_{scale}"):
            values = ref.ratings.get(k, {})
            for i, code in enumerate(stack.codes):
                for e, name in enumerate(elements):
                    v = values.get(code, {}).get(name)
                    if v is not None:
                        out[i, e] = v
        return out

    return OccupationGraph(
        codes=list(stack.codes), titles=[ref.titles[c] for c in stack.codes],
        job_zones=np.array([ref.job_zones.get(c, 0) for c in stack.codes], dtype=np.int8),
        logits=logits, signals=list(stack.signals), neighbours=neighbours,
        contributions=contributions, elements=elements, importance=table("im"),
        level=table("lv"), meta=meta)
