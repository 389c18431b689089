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
- ``massage``: label de-biasing of the historical decisions (Kamiran & Calders' "massaging"),
  applied to both biased steps of the history (`massage_labels`): being considered (grade >= 1
  among everyone in a decision's pool) and being chosen (grade >= 2 among those considered).
  At each step the rate is computed per group of ``dimension``; for every non-small group below
  the best rate, the group's members whom a group-blind preliminary ranker scores highest are
  promoted until the group's rate matches the best. So the model learns who *would* have been
  considered and chosen at equal features.

Protected attributes are read by the caller through `features.protected` and passed in as a
``{employee id: group}`` mapping; the trained model never sees them.

**The unmitigated ("naive") ranker** of the before/after comparison is what a team without
fairness work would build: every non-protected HR field it holds becomes a feature, so next to
``FEATURE_NAMES`` it also gets ``HR_FIELDS`` (``part_time``, read from the store's employees
table; not a protected attribute, but in the simulated organization the proxy the history is
biased on). `with_hr_fields` appends those columns to a dataset, `train_with_fields` trains on
the wider list and returns an `AugmentedRanker` (never shipped: the shipped feature list is
``FEATURE_NAMES``). **Proxy screening** (`screen_proxies`) is the first step of the shipped
pipeline: `feature_group_association` over the wider list flags every feature whose
within-grade standardized mean difference between the disadvantaged group and everyone else is
at least ``PROXY_SMD`` (0.5, a "medium" effect size); flagged HR fields are dropped (which gives
back the shipped feature list), flagged shipped features are reported (and neutralized only if
``drop_features`` lists them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
from sqlalchemy.engine import Engine

from features.domain import Employee
from features.params import MitigationParams
from features.protected import read_protected_attributes
from features.ranking import FEATURE_NAMES
from features.ranking_model import Ranker
from inference.fairness.groups import SEX, Grouping, group_of, protected_groupings
from inference.fairness.metrics import small_groups
from training.ranking.dataset import APPLIED, MOVED, RankingDataset
from training.ranking.ranker import (
    Boosting,
    EvaluationReport,
    RankerParams,
    fit_and_evaluate,
    time_split,
    train_lambdarank,
    train_ranker,
    training_split,
)

METHODS = ("none", "drop_features", "massage", "both")


@dataclass(frozen=True)
class MitigationSettings:
    enabled: bool = False
    method: str = "none"
    drop_features: tuple[str, ...] = ()
    dimension: str = SEX
    small_group_threshold: float = 0.02

    @classmethod
    def from_params(cls, values: MitigationParams,
                    small_group_threshold: float) -> MitigationSettings:
        """From ``fairness.mitigation`` (`features.params`) and the small-group threshold."""
        unknown = [n for n in values.drop_features if n not in FEATURE_NAMES]
        if unknown:
            raise ValueError(f"fairness.mitigation.drop_features: unknown features {unknown}")
        return cls(enabled=values.enabled, method=values.method,
                   drop_features=tuple(values.drop_features), dimension=values.dimension,
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
                              names: Sequence[str] | None = None) -> dict[str, float]:
    """Per feature: standardized mean difference (group minus everyone else), computed within
    each grade and averaged over grades weighted by rows: how much a feature tells the group
    apart among candidates with the same historical outcome (a proxy check)."""
    groups = np.array([group_of(grouping, e) for e in data.employee_ids])
    out: dict[str, float] = {}
    for j, name in enumerate(names or data.feature_names or FEATURE_NAMES):
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


# --------------------------------------------------------------------------- the naive ranker

HR_FIELDS: tuple[str, ...] = ("part_time",)
"""Non-protected HR fields a team without fairness work would add as features."""

PROXY_SMD = 0.5
"""`screen_proxies` flags a feature whose |standardized mean difference| reaches this."""


def hr_values(employees: Sequence[Employee]) -> dict[str, tuple[float, ...]]:
    """``{employee id: (value of each HR_FIELDS field)}`` from the store's employees."""
    return {e.id: tuple(float(getattr(e, f)) for f in HR_FIELDS) for e in employees}


def with_hr_fields(data: RankingDataset, values: Mapping[str, Sequence[float]]
                   ) -> RankingDataset:
    """``data`` with the HR_FIELDS columns appended (0 for an employee without a value)."""
    zero = (0.0,) * len(HR_FIELDS)
    extra = np.array([values.get(e, zero) for e in data.employee_ids], dtype=np.float64)
    extra = extra.reshape(len(data.employee_ids), len(HR_FIELDS))
    return dataclasses.replace(data, features=np.hstack([data.features, extra]),
                               feature_names=(*data.feature_names, *HR_FIELDS))


def without_hr_fields(data: RankingDataset) -> RankingDataset:
    """The shipped feature list again (the HR_FIELDS columns removed)."""
    keep = [j for j, n in enumerate(data.feature_names) if n not in HR_FIELDS]
    return dataclasses.replace(data, features=data.features[:, keep],
                               feature_names=tuple(data.feature_names[j] for j in keep))


@dataclass
class AugmentedRanker:
    """A LambdaRank model over ``FEATURE_NAMES`` + HR fields (the naive ranker; never shipped).

    ``score`` takes rows with every column of ``feature_names``."""

    booster: lgb.Booster
    feature_names: tuple[str, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def score(self, rows: np.ndarray) -> np.ndarray:
        x = np.asarray(rows, dtype=np.float64).reshape(-1, len(self.feature_names))
        return np.asarray(self.booster.predict(x, num_threads=1), dtype=np.float64)


def train_with_fields(train: RankingDataset, valid: RankingDataset, params: RankerParams,
                      boosting: Boosting | None = None) -> AugmentedRanker:
    """`training.ranking.ranker.train_lambdarank` (same LightGBM settings) on
    ``train.feature_names``."""
    names = list(train.feature_names)
    booster = train_lambdarank(train, valid, params, names, boosting)
    gain = booster.feature_importance("gain")
    return AugmentedRanker(booster=booster, feature_names=tuple(names), meta={
        "best_iteration": booster.best_iteration,
        "gain_share": {n: float(g / gain.sum()) if gain.sum() else 0.0
                       for n, g in zip(names, gain, strict=True)}})


def screen_proxies(data: RankingDataset, grouping: Grouping, group: str,
                   threshold: float = PROXY_SMD) -> tuple[list[str], dict[str, float]]:
    """Features whose within-grade |SMD| between ``group`` and the rest is >= ``threshold``,
    and every feature's SMD (`feature_group_association`)."""
    smd = feature_group_association(data, grouping, group)
    return [n for n, v in smd.items() if abs(v) >= threshold], smd


# --------------------------------------------------------------------------- transformations


def neutralize_features(data: RankingDataset, names: Sequence[str]) -> RankingDataset:
    """A copy of ``data`` with the named feature columns set to 0 (unusable for splits)."""
    features = data.features.copy()
    for name in names:
        features[:, list(data.feature_names).index(name)] = 0.0
    return dataclasses.replace(data, features=features)


MASSAGE_STEPS = ("considered", "chosen")


def massage_labels(data: RankingDataset, grouping: Grouping, scores: np.ndarray,
                   small_group_threshold: float = 0.02,
                   steps: Sequence[str] = MASSAGE_STEPS) -> tuple[RankingDataset, dict[str, int]]:
    """Massage the biased steps of the history (``steps``), per group, with a group-blind score.

    1. Being considered (grade >= applied) among everyone in the decisions' pools: for each
       non-small group considered less often than the best group, its best-scored pool members
       who were not considered are promoted to "applied" until the rates match.
    2. Being chosen (grade >= moved) among those considered: likewise, the best-scored
       considered-not-chosen members are promoted to "moved".

    A model trained on applicant slates (``ranker.labels: success``) massages the second step
    only: promoting retrieved non-applicants to "applied" would put the best skill matches back
    into the slates as people who were not chosen (docs/ranking.md).

    Returns the new dataset and ``{"<step>:<group>": rows promoted}``.
    """
    labels = data.labels.copy()
    groups = np.array([group_of(grouping, e) for e in data.employee_ids])
    promoted: dict[str, int] = {}
    everyone = np.ones(len(labels), dtype=bool)
    for step, base, level in (("considered", everyone, APPLIED), ("chosen", None, MOVED)):
        if step not in steps:
            continue
        among = base if base is not None else labels >= APPLIED
        for g, n in _promote(labels, among, level, groups, scores, small_group_threshold).items():
            promoted[f"{step}:{g}"] = n
    return dataclasses.replace(data, labels=labels), promoted


def _promote(labels: np.ndarray, among: np.ndarray, level: int, groups: np.ndarray,
             scores: np.ndarray, small_group_threshold: float) -> dict[str, int]:
    """In place: raise the best-scored rows of ``among`` below ``level`` to ``level`` in every
    non-small group whose rate of ``labels >= level`` trails the best group's."""
    sizes = {g: int(np.sum(among & (groups == g))) for g in set(groups.tolist())}
    small = small_groups(sizes, small_group_threshold)
    rates = {g: float(np.mean(labels[among & (groups == g)] >= level))
             for g, n in sizes.items() if n and g not in small}
    if not rates:
        return {}
    best = max(rates.values())
    promoted: dict[str, int] = {}
    for g, r in sorted(rates.items()):
        n_flip = round((best - r) * sizes[g])
        if n_flip <= 0:
            continue
        pool = np.flatnonzero(among & (groups == g) & (labels < level))
        top = pool[np.argsort(-scores[pool], kind="stable")[:n_flip]]
        labels[top] = level
        promoted[g] = len(top)
    return promoted


# --------------------------------------------------------------------------- training


@dataclass
class MitigationReport:
    settings: MitigationSettings
    chosen_rates_before: dict[str, dict[str, float]] = field(default_factory=dict)
    chosen_rates_after: dict[str, dict[str, float]] = field(default_factory=dict)
    promoted: dict[str, int] = field(default_factory=dict)
    association: dict[str, float] = field(default_factory=dict)
    hr_fields: tuple[str, ...] = ()
    """HR fields the model was offered besides FEATURE_NAMES (the naive ranker's)."""
    screened_out: tuple[str, ...] = ()
    """Fields proxy screening removed before training."""

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.settings.describe(), "hr_fields": list(self.hr_fields),
                "screened_out": list(self.screened_out),
                "dimension": self.settings.dimension,
                "chosen_rates_before": self.chosen_rates_before,
                "chosen_rates_after": self.chosen_rates_after,
                "promoted": self.promoted, "feature_group_association": self.association}


def mitigate_training_set(train: RankingDataset, grouping: Grouping,
                          settings: MitigationSettings, params: RankerParams,
                          valid: RankingDataset | None = None,
                          bias_group: str | None = None,
                          report: MitigationReport | None = None,
                          boosting: Boosting | None = None,
                          ) -> tuple[RankingDataset, RankingDataset | None, MitigationReport]:
    """The training (and validation) rows as the mitigated model learns from them
    (``boosting``: where the preliminary model of massaging boosts, `train_lambdarank`)."""
    report = report or MitigationReport(settings=settings)
    report.chosen_rates_before = chosen_rates(train, grouping)
    if bias_group is not None and not report.association:
        report.association = feature_group_association(train, grouping, bias_group)
    if settings.drops:
        train = neutralize_features(train, settings.drop_features)
        valid = None if valid is None else neutralize_features(valid, settings.drop_features)
    if settings.massages:
        empty = dataclasses.replace(train, features=train.features[:0], labels=train.labels[:0],
                                    group_sizes=train.group_sizes[:0], query_ids=[],
                                    query_dates=[], employee_ids=[])
        prelim_valid = valid if valid is not None else empty
        preliminary: Ranker | AugmentedRanker = (
            train_ranker(train, prelim_valid, params, boosting)
            if tuple(train.feature_names) == FEATURE_NAMES
            else train_with_fields(train, prelim_valid, params, boosting))
        train, report.promoted = massage_labels(
            train, grouping, preliminary.score(train.features), settings.small_group_threshold,
            steps=("chosen",) if params.labels == "success" else MASSAGE_STEPS)
    report.chosen_rates_after = chosen_rates(train, grouping)
    return train, valid, report


def train_mitigated(data: RankingDataset, params: RankerParams, grouping: Grouping | None,
                    settings: MitigationSettings, bias_group: str | None = None,
                    boosting: Boosting | None = None,
                    ) -> tuple[Ranker, EvaluationReport, MitigationReport]:
    """`training.ranking.ranker.train_and_evaluate` with the mitigation applied to train/valid rows.

    The test period is evaluated on its real rows and labels (what serving will see);
    ``boosting``: where every model's boosting runs (`train_lambdarank`)."""
    train, valid, test = training_split(data, params)
    if settings.active and grouping is not None:
        train, valid_m, report = mitigate_training_set(train, grouping, settings, params,
                                                       valid, bias_group, boosting=boosting)
        valid = valid_m if valid_m is not None else valid
    else:
        report = MitigationReport(settings=settings)
    if tuple(train.feature_names) != FEATURE_NAMES:
        raise ValueError("train_mitigated trains the shipped feature list; use "
                         "train_pipeline for a dataset with HR fields")
    ranker, evaluation = fit_and_evaluate(train, valid, test, params, boosting=boosting)
    ranker.meta = {**ranker.meta, "fairness_mitigation": report.to_dict()}
    return ranker, evaluation, report


def training_grouping(engine: Engine, employee_ids: Sequence[str], dimension: str) -> Grouping:
    """``{employee id: group}`` on ``dimension`` for the people of a training set.

    Read through `features.protected` (the only reader of the protected table) for the
    mitigation alone; the mapping is used to massage labels and is never stored with the model.
    """
    ids = sorted(set(employee_ids))
    return protected_groupings(read_protected_attributes(engine, ids), ids)[dimension]


def train_pipeline(data: RankingDataset, params: RankerParams, grouping: Grouping | None,
                   settings: MitigationSettings, *, screen: bool,
                   bias_group: str | None = "female", proxy_smd: float = PROXY_SMD,
                   ) -> tuple[Ranker | AugmentedRanker, MitigationReport]:
    """Train on ``data`` (which may carry HR fields), with or without the fairness pipeline.

    ``screen=False`` and mitigation off: the naive ranker, trained on every column of ``data``.
    ``screen=True``: proxy screening first (on the training period): HR fields flagged by
    `screen_proxies` are removed; then ``settings`` (massaging, neutralized features) applies.
    When no HR field is left the result is a shipped-format `Ranker`.
    """
    hr = tuple(n for n in data.feature_names if n in HR_FIELDS)
    report = MitigationReport(settings=settings, hr_fields=hr)
    if screen and grouping is not None and bias_group is not None:
        train, _, _ = time_split(data, params.valid_fraction, params.test_fraction)
        flagged, report.association = screen_proxies(train, grouping, bias_group, proxy_smd)
        report.screened_out = tuple(n for n in flagged if n in HR_FIELDS)
        if report.screened_out:
            keep = [j for j, n in enumerate(data.feature_names) if n not in report.screened_out]
            data = dataclasses.replace(data, features=data.features[:, keep],
                                       feature_names=tuple(data.feature_names[j] for j in keep))
    if tuple(data.feature_names) == FEATURE_NAMES:
        ranker, _evaluation, mreport = train_mitigated(data, params, grouping, settings,
                                                       bias_group)
        mreport.hr_fields, mreport.screened_out = report.hr_fields, report.screened_out
        mreport.association = report.association or mreport.association
        return ranker, mreport
    train, valid, _test = time_split(data, params.valid_fraction, params.test_fraction)
    if settings.active and grouping is not None:
        train, valid_m, report = mitigate_training_set(train, grouping, settings, params, valid,
                                                       bias_group, report)
        valid = valid_m if valid_m is not None else valid
    return train_with_fields(train, valid, params), report
