"""Training-side fairness mitigation: the only place training reads protected attributes.

The ranker's features never include a protected attribute (``features.ranking``); what can carry
the simulated history's bias into a model is (a) the labels (members of the disadvantaged group
were chosen less often at equal fit) and (b) features that record the outcome of biased past
decisions (``prior_moves``, ``years_in_role``, ``level_delta``...). Two switches, set in
``params.yaml`` under ``fairness.mitigation``:

- ``drop_features``: neutralize the listed features in the training rows (a constant column: the
  model cannot split on it, so what serving computes for it is ignored). The feature list saved
  with the model is unchanged, so bundles stay compatible. `feature_group_association` measures
  which features separate the groups among equally-labelled candidates (the evidence for the
  choice).
- ``massage``: label de-biasing of the historical decisions (Kamiran & Calders' "massaging",
  applied per grade): among applicants (grade >= 1), the rate of being chosen (grade >= 2) is
  computed per group of ``dimension``; for every non-small group below the best rate, the
  applicants of that group who were not chosen and whom a group-blind preliminary ranker scores
  highest are promoted to "moved" until the group's rate matches the best. The grades of
  everyone else are untouched, so the model learns who *would* have been chosen at equal fit.

Protected attributes are read by the caller through `features.protected` and passed in as a
``{employee id: group}`` mapping; the trained model never sees them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from features.ranking import FEATURE_NAMES
from features.ranking_model import Ranker
from inference.fairness.groups import SEX, Grouping, group_of
from inference.fairness.metrics import small_groups
from training.ranker import (
    EvaluationReport,
    RankerParams,
    evaluate_models,
    time_split,
    train_ranker,
)
from training.ranking_dataset import APPLIED, MOVED, RankingDataset

METHODS = ("none", "drop_features", "massage", "both")


@dataclass(frozen=True)
class MitigationSettings:
    enabled: bool = False
    method: str = "none"
    drop_features: tuple[str, ...] = ()
    dimension: str = SEX
    small_group_threshold: float = 0.02

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None,
                     small_group_threshold: float = 0.02) -> MitigationSettings:
        values = dict(values or {})
        method = str(values.get("method", "none"))
        if method not in METHODS:
            raise ValueError(f"fairness.mitigation.method must be one of {METHODS}")
        drop = tuple(str(n) for n in values.get("drop_features") or ())
        unknown = [n for n in drop if n not in FEATURE_NAMES]
        if unknown:
            raise ValueError(f"fairness.mitigation.drop_features: unknown features {unknown}")
        return cls(enabled=bool(values.get("enabled", False)), method=method,
                   drop_features=drop, dimension=str(values.get("dimension", SEX)),
                   small_group_threshold=small_group_threshold)

    @property
    def active(self) -> bool:
        return self.enabled and self.method != "none"

    @property
    def drops(self) -> bool:
        return self.active and self.method in ("drop_features", "both") \
            and bool(self.drop_features)

    @property
    def massages(self) -> bool:
        return self.active and self.method in ("massage", "both")

    def describe(self) -> str:
        if not self.active:
            return "none"
        parts = []
        if self.drops:
            parts.append("neutralized features: " + ", ".join(self.drop_features))
        if self.massages:
            parts.append(f"label massaging by {self.dimension}")
        return "; ".join(parts) or "none"


# --------------------------------------------------------------------------- diagnostics


def chosen_rates(data: RankingDataset, grouping: Grouping) -> dict[str, dict[str, float]]:
    """Per group: applicants (grade >= 1), chosen (grade >= 2) and the chosen rate.

    This is where a biased history is visible in the training data itself."""
    out: dict[str, dict[str, float]] = {}
    groups = np.array([group_of(grouping, e) for e in data.employee_ids])
    for g in sorted(set(groups.tolist())):
        m = groups == g
        applied = int(np.sum(data.labels[m] >= APPLIED))
        chosen = int(np.sum(data.labels[m] >= MOVED))
        out[g] = {"applicants": applied, "chosen": chosen,
                  "chosen_rate": chosen / applied if applied else float("nan")}
    return out


def feature_group_association(data: RankingDataset, grouping: Grouping, group: str,
                              ) -> dict[str, float]:
    """Per feature: standardized mean difference (group minus everyone else), computed within
    each grade and averaged over grades weighted by rows: how much a feature tells the group
    apart among candidates with the same historical outcome (a proxy check)."""
    groups = np.array([group_of(grouping, e) for e in data.employee_ids])
    out: dict[str, float] = {}
    for j, name in enumerate(FEATURE_NAMES):
        col = data.features[:, j]
        num = den = 0.0
        for grade in np.unique(data.labels):
            m = (data.labels == grade) & ~np.isnan(col)
            a, b = col[m & (groups == group)], col[m & (groups != group)]
            if len(a) < 5 or len(b) < 5:
                continue
            sd = float(np.std(col[m]))
            if sd == 0:
                continue
            num += m.sum() * (float(a.mean()) - float(b.mean())) / sd
            den += m.sum()
        out[name] = num / den if den else 0.0
    return out


# --------------------------------------------------------------------------- transformations


def neutralize_features(data: RankingDataset, names: Sequence[str]) -> RankingDataset:
    """A copy of ``data`` with the named feature columns set to 0 (unusable for splits)."""
    features = data.features.copy()
    for name in names:
        features[:, FEATURE_NAMES.index(name)] = 0.0
    return dataclasses.replace(data, features=features)


def massage_labels(data: RankingDataset, grouping: Grouping, scores: np.ndarray,
                   small_group_threshold: float = 0.02) -> tuple[RankingDataset, dict[str, int]]:
    """Promote the best-scored not-chosen applicants of under-chosen groups to "moved".

    Returns the new dataset and ``{group: applicants promoted}``.
    """
    labels = data.labels.copy()
    groups = np.array([group_of(grouping, e) for e in data.employee_ids])
    applicants = labels >= APPLIED
    sizes = {g: int(np.sum(applicants & (groups == g))) for g in set(groups.tolist())}
    small = small_groups(sizes, small_group_threshold)
    rates = {g: float(np.mean(labels[applicants & (groups == g)] >= MOVED))
             for g, n in sizes.items() if n}
    eligible = {g: r for g, r in rates.items() if g not in small}
    if not eligible:
        return data, {}
    best = max(eligible.values())
    promoted: dict[str, int] = {}
    for g, r in sorted(eligible.items()):
        n_flip = round((best - r) * sizes[g])
        if n_flip <= 0:
            continue
        pool = np.flatnonzero(applicants & (groups == g) & (labels < MOVED))
        top = pool[np.argsort(-scores[pool], kind="stable")[:n_flip]]
        labels[top] = MOVED
        promoted[g] = len(top)
    return dataclasses.replace(data, labels=labels), promoted


# --------------------------------------------------------------------------- training


@dataclass
class MitigationReport:
    settings: MitigationSettings
    chosen_rates_before: dict[str, dict[str, float]] = field(default_factory=dict)
    chosen_rates_after: dict[str, dict[str, float]] = field(default_factory=dict)
    promoted: dict[str, int] = field(default_factory=dict)
    association: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.settings.describe(),
                "dimension": self.settings.dimension,
                "chosen_rates_before": self.chosen_rates_before,
                "chosen_rates_after": self.chosen_rates_after,
                "promoted": self.promoted, "feature_group_association": self.association}


def mitigate_training_set(train: RankingDataset, grouping: Grouping,
                          settings: MitigationSettings, params: RankerParams,
                          valid: RankingDataset | None = None,
                          bias_group: str | None = None,
                          ) -> tuple[RankingDataset, RankingDataset | None, MitigationReport]:
    """The training (and validation) rows as the mitigated model learns from them."""
    report = MitigationReport(settings=settings,
                              chosen_rates_before=chosen_rates(train, grouping))
    if bias_group is not None:
        report.association = feature_group_association(train, grouping, bias_group)
    if settings.drops:
        train = neutralize_features(train, settings.drop_features)
        valid = None if valid is None else neutralize_features(valid, settings.drop_features)
    if settings.massages:
        empty = dataclasses.replace(train, features=train.features[:0], labels=train.labels[:0],
                                    group_sizes=train.group_sizes[:0], query_ids=[],
                                    query_dates=[], employee_ids=[])
        preliminary = train_ranker(train, valid if valid is not None else empty, params)
        train, report.promoted = massage_labels(
            train, grouping, preliminary.score(train.features), settings.small_group_threshold)
    report.chosen_rates_after = chosen_rates(train, grouping)
    return train, valid, report


def train_mitigated(data: RankingDataset, params: RankerParams, grouping: Grouping | None,
                    settings: MitigationSettings, bias_group: str | None = None,
                    ) -> tuple[Ranker, EvaluationReport, MitigationReport]:
    """`training.ranker.train_and_evaluate` with the mitigation applied to train/valid rows.

    The test period is evaluated on its real rows and labels (what serving will see)."""
    train, valid, test = time_split(data, params.valid_fraction, params.test_fraction)
    if not len(train.group_sizes) or not len(test.group_sizes):
        raise ValueError("time split left the train or the test period empty")
    if settings.active and grouping is not None:
        train, valid_m, report = mitigate_training_set(train, grouping, settings, params,
                                                       valid, bias_group)
        valid = valid_m if valid_m is not None else valid
    else:
        report = MitigationReport(settings=settings)
    ranker = train_ranker(train, valid, params)
    evaluation = evaluate_models(ranker, test, params)
    evaluation.split = {"train_queries": len(train.group_sizes),
                        "valid_queries": len(valid.group_sizes),
                        "test_queries": len(test.group_sizes),
                        "test_from": test.query_dates[0].isoformat()}
    ranker.meta = {**ranker.meta, "evaluation": evaluation.to_dict(),
                   "fairness_mitigation": report.to_dict()}
    return ranker, evaluation, report
