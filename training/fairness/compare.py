"""Before / after: the unmitigated ranker against the shipped pipeline, on the same test period.

*Unmitigated*: the ranker a team without fairness work would build: every non-protected HR field
it holds is a feature (``FEATURE_NAMES`` + ``HR_FIELDS``, i.e. ``part_time``), trained on the
historical labels as they are, served in model order. *Shipped*: proxy screening (HR fields that
`screen_proxies` flags are removed, which gives back the shipped feature list), the training
mitigation of ``fairness.mitigation`` (`training.fairness.mitigation`), and fair re-ranking at
serving when ``fairness.rerank.enabled``. Both are audited with the same settings and gate; the
table reports every gated figure's minimum per metric and dimension, the sex figures, NDCG@10 of
what is served and the relative NDCG cost against the unmitigated ranker.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from features.ranking_model import Ranker
from inference.fairness.groups import SEX, Grouping
from inference.fairness.metrics import EmployeeRecommendations
from inference.fairness.models import iter_impact_ratios
from inference.ranking.metrics import ndcg_at_k
from training.fairness.audit import (
    AuditResult,
    AuditSettings,
    build_audit,
    mean_ndcg,
    with_fitted_offsets,
)
from training.fairness.mitigation import (
    HR_FIELDS,
    AugmentedRanker,
    MitigationReport,
    MitigationSettings,
    chosen_rates,
    train_pipeline,
    with_hr_fields,
)
from training.fairness.report import markdown_cell
from training.ranking.dataset import RankingDataset
from training.ranking.ranker import RankerParams, time_split

AnyRanker = Ranker | AugmentedRanker
TARGET_RATIO = 0.9
"""The issue's target for the shipped pipeline: every impact ratio at least 0.9."""
TARGET_NDCG_LOSS = 0.02
"""... while losing at most 2% NDCG@10 (relative) against the unmitigated ranker."""
EmployeeLists = Callable[[AnyRanker, Mapping[str, Sequence[float]] | None],
                         Sequence[EmployeeRecommendations]]
"""(ranker, per-employee HR-field values or None) -> the employee-facing lists it produces."""


@dataclass(frozen=True)
class Arm:
    name: str
    ranker: AnyRanker
    result: AuditResult
    mitigation: MitigationReport
    ndcg_served: float
    ndcg_model: float
    settings: AuditSettings
    """The audit settings of this arm (re-ranking with its fitted offsets, or off)."""

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(self.ranker.feature_names)


@dataclass(frozen=True)
class Comparison:
    unmitigated: Arm
    shipped: Arm
    history_chosen_rates: dict[str, dict[str, float]]
    """Applicant -> chosen rates by sex in the test period's historical decisions."""

    @property
    def ndcg_relative_loss(self) -> float:
        before = self.unmitigated.ndcg_served
        return (before - self.shipped.ndcg_served) / before if before > 0 else 0.0

    def ndcg_loss_interval(self, k: int, resamples: int = 2000, seed: int = 0
                           ) -> tuple[float, float]:
        """95 % paired bootstrap interval of the relative NDCG@k loss over the test lists
        (the same lists resampled for both arms): how much of the loss is which lists the
        test period happens to hold."""
        return paired_loss_interval(list_ndcgs(self.unmitigated.result, k),
                                    list_ndcgs(self.shipped.result, k), resamples, seed)


def list_ndcgs(result: AuditResult, k: int) -> np.ndarray:
    """NDCG@k of every served list of an audit that has a relevant item, in list order
    (`inference.ranking.metrics`: the others have no NDCG; the relevance is the same in both
    arms)."""
    values = [ndcg_at_k(rl.ids, rel, k) for rl, rel in
              zip(result.lists.served, result.lists.relevance, strict=True)]
    return np.array([v for v in values if v is not None])


def paired_loss_interval(before: np.ndarray, after: np.ndarray, resamples: int = 2000,
                         seed: int = 0) -> tuple[float, float]:
    """2.5 and 97.5 percentiles of ``1 - mean(after) / mean(before)`` over paired resamples."""
    if len(before) != len(after) or len(before) == 0:
        raise ValueError("paired samples of equal, non-zero length are needed")
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(before), size=(resamples, len(before)))
    b, a = before[picks].mean(axis=1), after[picks].mean(axis=1)
    loss = np.where(b > 0, (b - a) / np.where(b > 0, b, 1.0), 0.0)
    low, high = np.quantile(loss, [0.025, 0.975])
    return float(low), float(high)


def columns_for(names: Sequence[str], data: RankingDataset) -> np.ndarray:
    """``data``'s feature columns in the order of ``names``."""
    have = list(data.feature_names)
    return data.features[:, [have.index(n) for n in names]]


def run_arm(name: str, data: RankingDataset, groupings: Mapping[str, Grouping],
            params: RankerParams, settings: AuditSettings, mitigation: MitigationSettings,
            rerank: bool, employee_lists: EmployeeLists | None = None,
            bias_group: str | None = "female", *, screen: bool = False,
            hr: Mapping[str, Sequence[float]] | None = None) -> Arm:
    """Train one arm on ``data`` (with or without HR-field columns) and audit it."""
    grouping = groupings.get(mitigation.dimension) or groupings.get(SEX)
    ranker, report = train_pipeline(data, params, grouping, mitigation, screen=screen,
                                    bias_group=bias_group)
    _, valid, test = time_split(data, params.valid_fraction, params.test_fraction)
    arm_settings = settings if rerank else settings.without_rerank()
    arm_settings = with_fitted_offsets(
        arm_settings, valid, ranker.score(columns_for(ranker.feature_names, valid)),
        groupings[settings.rerank.dimension])
    scores = ranker.score(columns_for(ranker.feature_names, test))
    uses_hr = any(n in HR_FIELDS for n in ranker.feature_names)
    employees = (employee_lists(ranker, hr if uses_hr else None)
                 if employee_lists is not None else None)
    result = build_audit(test, scores, groupings, arm_settings, employees=employees,
                         subject=name, test_below=TARGET_RATIO)
    return Arm(name=name, ranker=ranker, result=result, mitigation=report,
               ndcg_served=mean_ndcg(result.lists.served, result.lists.relevance, settings.k),
               ndcg_model=mean_ndcg(result.lists.ranked, result.lists.relevance, settings.k),
               settings=arm_settings)


def compare(data: RankingDataset, groupings: Mapping[str, Grouping], params: RankerParams,
            settings: AuditSettings, mitigation: MitigationSettings,
            employee_lists: EmployeeLists | None = None,
            hr: Mapping[str, Sequence[float]] | None = None,
            bias_group: str | None = "female") -> Comparison:
    """Train and audit both arms on ``data`` (same split, same seed).

    With ``hr`` (`hr_values`), the unmitigated ranker also gets the HR fields and the shipped
    pipeline starts with proxy screening; without it both arms use the shipped feature list.
    """
    wide = with_hr_fields(data, hr) if hr is not None else data
    off = MitigationSettings(small_group_threshold=settings.small_group_threshold)
    before = run_arm("unmitigated", wide, groupings, params, settings, off, rerank=False,
                     employee_lists=employee_lists, bias_group=bias_group, screen=False, hr=hr)
    after = run_arm("shipped", wide, groupings, params, settings, mitigation,
                    rerank=settings.rerank.enabled, employee_lists=employee_lists,
                    bias_group=bias_group, screen=True, hr=hr)
    _, _, test = time_split(data, params.valid_fraction, params.test_fraction)
    return Comparison(unmitigated=before, shipped=after,
                      history_chosen_rates=chosen_rates(test, groupings[SEX]))


# --------------------------------------------------------------------------- the table


def minima(result: AuditResult) -> dict[tuple[str, str], float | None]:
    """``{(metric, dimension): lowest gated impact ratio}``."""
    out: dict[tuple[str, str], float | None] = defaultdict(lambda: None)
    for f in iter_impact_ratios(result.audit):
        if f.small_group or f.unknown or f.value is None:
            continue
        key = (f.metric, f.dimension)
        current = out[key]
        out[key] = f.value if current is None else min(current, f.value)
    return dict(out)


def _group_ratio(result: AuditResult, dimension: str, group: str, metric: str) -> float | None:
    for f in iter_impact_ratios(result.audit):
        if f.dimension == dimension and f.group == group and f.metric == metric:
            return f.value
    return None


def _fmt(x: float | None, digits: int = 3) -> str:
    return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.{digits}f}"


def comparison_rows(c: Comparison, settings: AuditSettings) -> list[tuple[str, str, str]]:
    u, s = c.unmitigated, c.shipped
    def extra(arm: Arm) -> str:
        fields = [n for n in arm.features if n in HR_FIELDS]
        return "shipped list + " + ", ".join(fields) if fields else "shipped list"

    def screened(arm: Arm) -> str:
        out = arm.mitigation.screened_out
        smd = arm.mitigation.association
        return ("–" if not smd else ", ".join(f"{n} (SMD {smd.get(n, 0):+.2f})" for n in out)
                or "nothing flagged")

    rows: list[tuple[str, str, str]] = [
        ("features", extra(u), extra(s)),
        ("proxy screening (removed)", screened(u), screened(s)),
        ("training mitigation", u.mitigation.settings.describe(),
         s.mitigation.settings.describe()),
        ("fair re-ranking at serving", "off", _rerank_words(s, settings)),
        ("NDCG@10, model order (test period)", _fmt(u.ndcg_model), _fmt(s.ndcg_model)),
        ("NDCG@10, served order", _fmt(u.ndcg_served), _fmt(s.ndcg_served)),
        ("NDCG@10 loss vs unmitigated (relative)", "–", f"{100 * c.ndcg_relative_loss:.2f}%"),
        ("... 95% paired bootstrap interval over the test lists", "–",
         "{:.2f}% to {:.2f}%".format(*(100 * v for v in c.ndcg_loss_interval(settings.k)))),
    ]
    for metric in ("selection_impact_ratio", "scoring_impact_ratio", "exposure_impact_ratio",
                   "level_impact_ratio", "quality_impact_ratio"):
        rows.append((f"female {metric.replace('_', ' ')}",
                     _fmt(_group_ratio(u.result, SEX, "female", metric)),
                     _fmt(_group_ratio(s.result, SEX, "female", metric))))
    mu, ms = minima(u.result), minima(s.result)
    for key in sorted(set(mu) | set(ms)):
        metric, dim = key
        rows.append((f"min {metric.replace('_', ' ')}, {dim}", _fmt(mu.get(key)),
                     _fmt(ms.get(key))))
    rows.append(("lowest gated impact ratio anywhere", _fmt(u.result.min_impact_ratio()),
                 _fmt(s.result.min_impact_ratio())))
    rows.append(("gate violations", str(len(u.result.gate.violations)),
                 str(len(s.result.gate.violations))))
    rows.append(("gate", "PASS" if u.result.passed else "FAIL",
                 "PASS" if s.result.passed else "FAIL"))
    rows.append((f"gated figures under {TARGET_RATIO}", str(len(below_target(u.result))),
                 str(len(below_target(s.result)))))
    rows.append(("lowest gated ratio of a group-blind pipeline on this population (median "
                 "[5%, 95%] over the permutations)", _spread(u.result), _spread(s.result)))
    rows.append((f"share of those permutations with every gated ratio >= {TARGET_RATIO}",
                 _share(u.result.blind_chance(TARGET_RATIO)),
                 _share(s.result.blind_chance(TARGET_RATIO))))
    return rows


def _share(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def _spread(result: AuditResult) -> str:
    if not result.blind_lowest:
        return "–"
    q5, q50, q95 = np.quantile(np.asarray(result.blind_lowest), [0.05, 0.5, 0.95])
    return f"{q50:.3f} [{q5:.3f}, {q95:.3f}]"


def below_target(result: AuditResult, target: float = TARGET_RATIO
                 ) -> list[tuple[tuple[str, str, str, str], float, float | None]]:
    """Gated figures (non-small, known groups) under ``target``, with their p-values."""
    out = []
    for f in iter_impact_ratios(result.audit):
        if f.small_group or f.unknown or f.value is None or f.value >= target - 1e-9:
            continue
        key = (f.section, f.dimension, f.group, f.metric)
        out.append((key, f.value, result.p_values.get(key)))
    return sorted(out, key=lambda t: t[1])


def _rerank_words(arm: Arm, settings: AuditSettings) -> str:
    lists = arm.result.lists
    if lists.served is lists.ranked:
        return "off"
    r = settings.rerank
    floors = "prefix floors" if r.floor_ratio >= 1.0 else f"prefix floors at {r.floor_ratio:g}"
    offsets = arm.settings.fitted_offsets
    fitted = f", offsets {offsets_words(offsets)}" if offsets else ""
    return (f"on: {r.dimension}, top {r.k}, {floors}{fitted}"
            + (", randomized rounding" if r.rounding == "randomized" else "")
            + (" + ceilings" if r.ceilings else ""))


def offsets_words(offsets: Mapping[str, float]) -> str:
    """``female +0.05, male +0.025`` (``–`` for none)."""
    return ", ".join(f"{g} +{v:g}" for g, v in sorted(offsets.items())) or "–"


def before_after_markdown(c: Comparison, command: str, settings: AuditSettings) -> str:
    rows = comparison_rows(c, settings)
    table = ["| figure | unmitigated ranker | shipped pipeline |", "|---|---|---|"]
    table += ["| " + " | ".join(markdown_cell(c) for c in row) + " |" for row in rows]
    rates = ", ".join(f"{g} {_fmt(v['chosen_rate'])} ({int(v['chosen'])}/{int(v['applicants'])})"
                      for g, v in c.history_chosen_rates.items())
    target = TARGET_RATIO
    ndcg = c.unmitigated.result.audit.ndcg
    n_lists = ndcg.n_lists if ndcg is not None else 0
    under = below_target(c.shipped.result, target)
    alpha = settings.gate.significance
    significant = [u for u in under if alpha is None or u[2] is None or u[2] < alpha]
    cheap = c.ndcg_relative_loss <= TARGET_NDCG_LOSS
    if not under and cheap:
        verdict = "meets it: every gated impact ratio is at least 0.9"
    elif not significant and cheap:
        verdict = (f"meets it up to chance: {len(under)} gated figure(s) under {target}, none "
                   f"of them significant (permutation p >= {alpha}; listed below)")
    else:
        verdict = (f"does NOT meet it: NDCG@10 loss {100 * c.ndcg_relative_loss:.2f}%, "
                   f"{len(significant)} figure(s) significantly under {target}")
    under_lines = [f"- {key[0]}, {key[1]} = {key[2]!r}, {key[3].replace('_', ' ')}: "
                   f"{value:.3f} (p = {'n/a' if p is None else f'{p:.3f}'})"
                   for key, value, p in under]
    return "\n".join([
        "# Fairness before / after mitigation",
        "",
        f"Produced by `{command}` (figures computed by the command, nothing typed by hand).",
        "",
        f"Test period: {n_lists} "
        f"recruiter candidate lists (held-out latest queries of the ranking dataset); "
        f"k = {settings.k}; gate: every impact ratio of every non-small, non-unknown group "
        f">= {settings.gate.min_impact_ratio} (fairness.gate); re-ranking "
        f"{settings.rerank.dimension}, k = {settings.rerank.k}.",
        "",
        *table,
        "",
        f"Historical decisions in the test period (applicants -> chosen, by sex): {rates}. "
        "This is the injected bias, visible in the labels.",
        "",
        f"Target of the issue (every impact ratio >= {target}, NDCG@10 loss <= 2%): the shipped "
        f"pipeline {verdict}.",
        "",
        f"Shipped figures under {target} (gated groups; p = family-wise permutation p-value: "
        f"studentized max-T over the whole gate, {settings.gate.permutations} person-level "
        "permutations of the protected attributes):",
        "",
        *(under_lines or ["- none"]),
        "",
        "Promotion: `waypoint promote` refuses a version whose audit failed the gate, so the "
        f"unmitigated ranker would be {'refused' if not c.unmitigated.result.passed else 'allowed'}"
        f" and the shipped one {'refused' if not c.shipped.result.passed else 'allowed'}.",
        "",
        "Unmitigated gate violations (first 10):",
        "",
        *[f"- {v}" for v in c.unmitigated.result.gate.violations[:10]],
        "",
        "Shipped gate violations (first 10):",
        "",
        *[f"- {v}" for v in c.shipped.result.gate.violations[:10]],
        "",
    ])
