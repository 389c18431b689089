"""The fairness audit of a ranker: assembly of the figures from a dataset, scores and groups.

Recruiter-facing candidate lists come from the ranking dataset's held-out (latest) period: each
query's rows are the qualified pool retrieval returned for that decision; the ranker scores them
and the list is ranked by score (`ranked_lists`). When ``fairness.rerank.enabled`` the served
order is the fair re-ranking (`served_order`: the model's group offsets, then
`rerank_with_floors` on ``fairness.rerank.dimension`` over the top ``fairness.rerank.k``),
exactly what serving ships; `fit_rerank_offsets` fits the offsets on the validation period.
On the served order the audit computes, per sex, race/ethnicity and their intersection:
selection rate in the top k, scoring rate (score above the list's median), impact ratios
against the best non-small group, counts, small groups (< 2 %) flagged, ``unknown`` counted;
exposure, skew@k and NDKL against each list's pool composition; NDCG@k before and after
re-ranking; and, when given, the employee-facing lists (`training.fairness.employee_lists`).
The gate (``fairness.gate``) turns it into pass / fail.

Every function here is pure: groups come in as ``{dimension: {id: group}}`` mappings built by
the caller from ``features.protected`` (the only reader of protected attributes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import Field

from features.params import FairnessParams, RerankPolicy, load_params
from inference.fairness.gate import GateResult, GateThresholds, evaluate_gate
from inference.fairness.groups import Grouping, group_of
from inference.fairness.metrics import (
    EmployeeRecommendations,
    RankedList,
    audit_candidate_lists,
    audit_employee_lists,
)
from inference.fairness.models import FairnessAudit, iter_impact_ratios
from inference.fairness.offsets import OffsetFit, fit_group_offsets
from inference.fairness.ranking_metrics import audit_rankings, ndcg_change
from inference.fairness.rerank import pool_shares
from inference.fairness.serving import fair_order
from inference.fairness.significance import (
    FigureKey,
    figure_values,
    lowest_per_permutation,
    max_t_p_values,
    permutation_family,
    permutation_samples,
)
from inference.ranking.metrics import mean_defined, ndcg_at_k
from training.ranking.dataset import RankingDataset


class AuditSettings(FairnessParams):
    """The ``fairness:`` policy an audit runs with (params.yaml's, or the one a bundle carries)
    and the audited model's fitted re-ranking offsets for ``rerank.dimension``."""

    fitted_offsets: dict[str, float] = Field(default_factory=dict)
    """Group offsets of the audited model (`inference.fairness.offsets`; fitted by `waypoint
    train`, saved in its bundle), added to list-standardized scores before the floors."""

    @classmethod
    def of(cls, fairness: FairnessParams,
           fitted_offsets: Mapping[str, float] | None = None) -> AuditSettings:
        return cls.model_validate({**fairness.model_dump(),
                                   "fitted_offsets": dict(fitted_offsets or {})})

    def without_rerank(self) -> AuditSettings:
        return self.model_copy(update={"rerank": self.rerank.model_copy(
            update={"enabled": False})})


def read_audit_settings(path: Path | None = None) -> AuditSettings:
    """``fairness:`` of params.yaml (`features.params.load_params`), no fitted offsets."""
    return AuditSettings.of(load_params(path).fairness)


# --------------------------------------------------------------------------- candidate lists


@dataclass(frozen=True)
class CandidateLists:
    """One ranked list per query, its relevance labels, and the served order."""

    ranked: list[RankedList]
    """By model score, best first."""
    served: list[RankedList]
    """What a recruiter sees: ``ranked`` after fair re-ranking (``ranked`` when it is off)."""
    relevance: list[dict[str, float]]
    """Per list: ``{candidate id: grade}`` from the dataset's labels."""


def ranked_lists(data: RankingDataset, scores: np.ndarray) -> tuple[list[RankedList],
                                                                    list[dict[str, float]]]:
    """Each query's rows ranked by descending score (ties keep row order), with the grades."""
    scores = np.asarray(scores, dtype=np.float64)
    if len(scores) != len(data.labels):
        raise ValueError(f"{len(scores)} scores for {len(data.labels)} rows")
    lists: list[RankedList] = []
    relevance: list[dict[str, float]] = []
    start = 0
    for qid, size in zip(data.query_ids, data.group_sizes.tolist(), strict=True):
        ids = data.employee_ids[start:start + size]
        pairs = list(zip(ids, scores[start:start + size].tolist(), strict=True))
        lists.append(RankedList.by_score(qid, pairs))
        relevance.append({i: float(y) for i, y in
                          zip(ids, data.labels[start:start + size].tolist(), strict=True)})
        start += size
    return lists, relevance


def served_order(rl: RankedList, grouping: Grouping, rerank: RerankPolicy,
                 offsets: Mapping[str, float]) -> list[str]:
    """One list as serving ships it (`inference.fairness.serving.fair_order`; with randomized
    rounding the list's id is its rounding key, as a role's is at serving)."""
    return fair_order(rl.ids, rl.scores, grouping, rerank, offsets, rl.list_id)


def rerank_lists(lists: Sequence[RankedList], grouping: Grouping, rerank: RerankPolicy,
                 offsets: Mapping[str, float]) -> list[RankedList]:
    """`served_order` of every list (floors: the list's own pool composition)."""
    out = []
    for rl in lists:
        score = dict(zip(rl.ids, rl.scores, strict=True))
        order = served_order(rl, grouping, rerank, offsets)
        out.append(RankedList.from_pairs(rl.list_id, [(i, score[i]) for i in order]))
    return out


def candidate_lists(data: RankingDataset, scores: np.ndarray,
                    groupings: Mapping[str, Grouping], rerank: RerankPolicy,
                    offsets: Mapping[str, float]) -> CandidateLists:
    ranked, relevance = ranked_lists(data, scores)
    served = rerank_lists(ranked, groupings[rerank.dimension], rerank, offsets) \
        if rerank.enabled else ranked
    return CandidateLists(ranked=ranked, served=served, relevance=relevance)


def fit_rerank_offsets(data: RankingDataset, scores: np.ndarray, grouping: Grouping,
                       settings: AuditSettings) -> OffsetFit:
    """Group offsets for ``settings.rerank`` fitted on ``data`` (the validation period) scored
    by the model (`fit_group_offsets`: selection and exposure ratios in the top ``k``)."""
    ranked, _ = ranked_lists(data, scores)
    r = settings.rerank
    return fit_group_offsets(
        ranked, grouping, lambda rl, offsets: served_order(rl, grouping, r, offsets),
        k=settings.k, target=r.offsets.target, step=r.offsets.step, max_offset=r.offsets.max,
        small_group_threshold=settings.small_group_threshold)


def with_fitted_offsets(settings: AuditSettings, valid: RankingDataset, valid_scores: np.ndarray,
                        grouping: Grouping) -> AuditSettings:
    """``settings`` with offsets fitted on ``valid`` when re-ranking is on and asks for them
    (``rerank.offsets.fit``), as `waypoint train` fits them for the shipped model; else as is."""
    if not (settings.rerank.enabled and settings.rerank.offsets.fit):
        return settings
    fit = fit_rerank_offsets(valid, valid_scores, grouping, settings)
    return settings.model_copy(update={"fitted_offsets": dict(fit.offsets)})


def pool_compositions(lists: Sequence[RankedList], groupings: Mapping[str, Grouping]
                      ) -> dict[str, dict[str, dict[str, float]]]:
    """``{dimension: {list id: {group: share of the list's pool}}}``."""
    return {dim: {rl.list_id: pool_shares(group_of(g, i) for i in rl.ids) for rl in lists}
            for dim, g in groupings.items()}


def mean_ndcg(lists: Sequence[RankedList], relevance: Sequence[Mapping[str, float]],
              k: int) -> float:
    """Mean NDCG@k over the lists with a relevant item (`inference.ranking.metrics`)."""
    mean, _ = mean_defined(ndcg_at_k(rl.ids, rel, k)
                           for rl, rel in zip(lists, relevance, strict=True))
    return mean


# --------------------------------------------------------------------------- the whole audit


@dataclass(frozen=True)
class AuditResult:
    audit: FairnessAudit
    gate: GateResult
    lists: CandidateLists
    p_values: Mapping[FigureKey, float] = field(default_factory=dict)
    """Permutation p-values of the figures under their threshold (`shortfall_p_values`)."""
    blind_lowest: tuple[float, ...] = ()
    """The lowest gated figure in each permutation (groups handed to people at random: a
    perfectly group-blind pipeline on this population); empty when no permutation ran."""

    def blind_chance(self, threshold: float) -> float | None:
        """Share of the permutations whose every gated figure is at least ``threshold``."""
        if not self.blind_lowest:
            return None
        return float(np.mean(np.asarray(self.blind_lowest) >= threshold - 1e-12))

    @property
    def passed(self) -> bool:
        return self.gate.passed

    def min_impact_ratio(self, *, include_small: bool = False,
                         include_unknown: bool = False) -> float | None:
        """The lowest impact ratio anywhere in the audit (gated groups only by default)."""
        values = [f.value for f in iter_impact_ratios(self.audit) if f.value is not None
                  and (include_small or not f.small_group)
                  and (include_unknown or not f.unknown)]
        return min(values) if values else None


def build_audit(
    data: RankingDataset,
    scores: np.ndarray,
    groupings: Mapping[str, Grouping],
    settings: AuditSettings,
    *,
    employees: Sequence[EmployeeRecommendations] | None = None,
    subject: str = "",
    test_below: float | None = None,
) -> AuditResult:
    """Every figure of the audit on ``data``'s queries scored by ``scores``, and the gate.

    ``test_below``: also compute permutation p-values of the figures under this value (besides
    those under their gate threshold), e.g. for a stricter target than the gate's."""
    lists = candidate_lists(data, scores, groupings, settings.rerank, settings.fitted_offsets)
    ndcg = ndcg_change([rl.ids for rl in lists.ranked], [rl.ids for rl in lists.served],
                       lists.relevance, settings.k)

    def figures(by: Mapping[str, Grouping]) -> FairnessAudit:
        return FairnessAudit(
            subject=subject,
            candidate_lists=audit_candidate_lists(
                lists.served, by, settings.k, median_scope=settings.median_scope,
                small_group_threshold=settings.small_group_threshold),
            rankings=audit_rankings(lists.served, by, k=settings.k,
                                    pools=pool_compositions(lists.ranked, by),
                                    small_group_threshold=settings.small_group_threshold),
            employee_lists=None if employees is None else audit_employee_lists(
                employees, by, n_bins=settings.employee_fit_bins,
                top_k=settings.employee_top_k,
                small_group_threshold=settings.small_group_threshold),
            ndcg=ndcg,
        )

    audit = figures(groupings)
    p_values, blind = shortfall_p_values(audit, figures, groupings, settings.gate, test_below)
    return AuditResult(audit=audit, gate=evaluate_gate(audit, settings.gate, p_values),
                       lists=lists, p_values=p_values, blind_lowest=blind)


def shortfall_p_values(audit: FairnessAudit,
                       figures: Callable[[Mapping[str, Grouping]], FairnessAudit],
                       groupings: Mapping[str, Grouping], gate: GateThresholds,
                       test_below: float | None = None,
                       ) -> tuple[dict[FigureKey, float], tuple[float, ...]]:
    """Permutation p-values of the gated figures under their threshold, or under
    ``test_below`` (none when the gate does not use significance, or no figure is that low),
    and the lowest gated figure of each permutation (`lowest_per_permutation`; empty when no
    permutation ran)."""
    if gate.significance is None:
        return {}, ()
    gated = {(f.section, f.dimension, f.group, f.metric): (f.value, limit)
             for f in iter_impact_ratios(audit)
             if f.value is not None and not f.small_group and not f.unknown
             and (limit := gate.threshold(f.metric)) is not None}
    low = [key for key, (value, limit) in gated.items()
           if value < max(limit, test_below or 0.0) - 1e-9]
    if not low or gate.permutations < 1:
        return {}, ()
    observed = figure_values(audit)
    family = permutation_family(observed, low, gated)
    samples = permutation_samples(figures, groupings, family, permutations=gate.permutations)
    p_values = max_t_p_values(samples, family, observed, [k for k in low if k in observed])
    gated_columns = [j for j, key in enumerate(family) if key in gated]
    return p_values, tuple(float(v) for v in lowest_per_permutation(samples[:, gated_columns]))


def audit_served_lists(lists: Sequence[RankedList], groupings: Mapping[str, Grouping],
                       settings: AuditSettings, subject: str = "served traffic") -> AuditResult:
    """Impact ratios over lists as they were served (ranks as logged; no relevance known)."""

    def figures(by: Mapping[str, Grouping]) -> FairnessAudit:
        return FairnessAudit(
            subject=subject,
            candidate_lists=audit_candidate_lists(
                lists, by, settings.k, median_scope=settings.median_scope,
                small_group_threshold=settings.small_group_threshold),
            rankings=audit_rankings(lists, by, k=settings.k, pools=pool_compositions(lists, by),
                                    small_group_threshold=settings.small_group_threshold))

    audit = figures(groupings)
    gate = settings.gate.model_copy(update={"max_ndcg_drop": None})
    empty = CandidateLists(ranked=list(lists), served=list(lists), relevance=[])
    p_values, _ = shortfall_p_values(audit, figures, groupings, gate)
    verdict = evaluate_gate(audit, gate, p_values)
    if len(lists) < gate.min_served_lists:
        verdict = verdict.model_copy(update={"passed": False, "violations": [
            f"inconclusive: {len(lists)} served candidate list(s), fewer than the "
            f"{gate.min_served_lists} a verdict needs (fairness.gate.min_served_lists)",
            *verdict.violations]})
    return AuditResult(audit=audit, gate=verdict, lists=empty, p_values=p_values)
