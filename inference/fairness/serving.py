"""Fair re-ranking of one served candidate list, and its aggregate fairness figures.

`fair_candidate_order` is the one serving-time entry point: given the model-ranked qualified pool
for a role (every retrieved, filtered and scored candidate), it reads the pool's protected
attributes through `features.protected` (the only reader), applies the model bundle's group
offsets to the list-standardized scores (`rerank.offset_order`; fitted with the model by
`waypoint train`, `inference.fairness.offsets`), re-ranks with `rerank_with_floors` so every
prefix of the top ``k`` keeps each group's share close to its share of the pool, and
returns the new order plus `ListFairness`: group shares of the shown list against the pool,
per-group counts and impact ratios. Nothing per person leaves this module: the caller gets ids
(in order) and aggregates.

Small cells: groups with fewer than ``min_cell`` members in the pool are reported together as
``OTHER_GROUPS`` (their counts would point at individuals); re-ranking still uses the real groups.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine

from features.params import RerankPolicy
from features.protected import read_protected_attributes
from inference.fairness.groups import protected_groupings
from inference.fairness.rerank import (
    offset_order,
    pool_shares,
    prefix_violations,
    rerank_with_floors,
)

OTHER_GROUPS = "other (small groups)"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GroupListFigures(_Model):
    """One group's place in one served list (aggregates only)."""

    group: str
    pool_count: int = Field(ge=0)
    pool_share: float = Field(ge=0.0, le=1.0)
    list_count: int = Field(ge=0)
    """Members among the shown candidates after fair re-ranking."""
    list_share: float = Field(ge=0.0, le=1.0)
    list_count_before_rerank: int = Field(ge=0)
    selection_rate: float
    """list_count / pool_count."""
    impact_ratio: float | None
    """selection_rate / the highest selection rate among non-small groups."""
    small_group: bool
    """Under the small-group threshold share of the pool: reported, not the reference."""


class ListFairness(_Model):
    """Aggregate fairness figures of one served candidate list."""

    dimension: str
    rerank_enabled: bool
    rerank_k: int
    pool_size: int
    list_size: int
    reordered: bool
    """Whether fair re-ranking changed the shown order."""
    moved_positions: int
    """Shown positions whose candidate differs from the model-only order."""
    prefix_floor_violations: int
    """Floor misses over the prefixes of the top ``rerank_k`` (0 when re-ranking is on)."""
    min_cell: int
    groups: list[GroupListFigures]
    min_impact_ratio: float | None
    """Minimum over non-small groups."""


def _merge_small(grouping: Mapping[str, str], min_cell: int) -> dict[str, str]:
    sizes = Counter(grouping.values())
    return {i: (g if sizes[g] >= min_cell else OTHER_GROUPS) for i, g in grouping.items()}


def list_figures(pool_order: Sequence[str], model_order: Sequence[str], list_size: int,
                 grouping: Mapping[str, str], config: RerankPolicy,
                 small_group_threshold: float, list_key: str | None = None) -> ListFairness:
    """Figures for the first ``list_size`` of ``pool_order`` (the shown list) against the pool.

    ``grouping`` maps every pool id to its group; ``model_order`` is the order before re-ranking;
    ``list_key`` is the rounding key the re-ranking used (randomized rounding).
    """
    shown, before = list(pool_order[:list_size]), list(model_order[:list_size])
    reported = _merge_small(grouping, config.min_cell)
    pool = Counter(reported[i] for i in pool_order)
    in_list = Counter(reported[i] for i in shown)
    in_before = Counter(reported[i] for i in before)
    n_pool, n_list = len(pool_order), len(shown)
    rates = {g: in_list[g] / n for g, n in pool.items()}
    small = {g for g, n in pool.items() if n_pool and n / n_pool < small_group_threshold}
    reference = [r for g, r in rates.items() if g not in small] or list(rates.values())
    best = max(reference, default=0.0)
    ratios = {g: (r / best if best > 0 else None) for g, r in rates.items()}
    groups = [
        GroupListFigures(group=g, pool_count=n, pool_share=n / n_pool, list_count=in_list[g],
                         list_share=in_list[g] / n_list if n_list else 0.0,
                         list_count_before_rerank=in_before[g], selection_rate=rates[g],
                         impact_ratio=ratios[g], small_group=g in small)
        for g, n in sorted(pool.items(), key=lambda kv: (-kv[1], kv[0]))]
    defined = [v for g, v in ratios.items() if g not in small and v is not None]
    shares = pool_shares(grouping[i] for i in pool_order)
    violations = prefix_violations(list(pool_order), grouping, shares,
                                   min(config.k, len(pool_order)), config.floor_ratio,
                                   rounding_key=list_key)
    return ListFairness(
        dimension=config.dimension, rerank_enabled=config.enabled, rerank_k=config.k,
        pool_size=n_pool, list_size=n_list, reordered=shown != before,
        moved_positions=sum(1 for a, b in zip(shown, before, strict=True) if a != b),
        prefix_floor_violations=len(violations), min_cell=config.min_cell, groups=groups,
        min_impact_ratio=min(defined) if defined else None)


def fair_order(ranked_ids: Sequence[str], scores: Sequence[float] | None,
               grouping: Mapping[str, str], policy: RerankPolicy, offsets: Mapping[str, float],
               rounding_key: str | None = None) -> list[str]:
    """The one fair re-ranking of a model-ordered pool (best first), for serving and audits.

    Group ``offsets`` are added to the list-standardized ``scores`` (`rerank.offset_order`; no
    scores: the model order as is), then every prefix of the top ``policy.k`` keeps each group
    at ``policy.floor_ratio`` of its share of this pool, ``ranked_ids``
    (`rerank.rerank_with_floors`).
    ``rounding_key`` is used with ``policy.rounding == "randomized"`` only.
    """
    ids = list(ranked_ids)
    if not ids:
        return ids
    start = ids if scores is None else offset_order(ids, scores, grouping, offsets)
    key = rounding_key if policy.rounding == "randomized" else None
    return rerank_with_floors(start, grouping, k=policy.k, ceilings=policy.ceilings,
                              floor_ratio=policy.floor_ratio, rounding_key=key)


def fair_candidate_order(engine: Engine, ranked_ids: Sequence[str], list_size: int,
                         config: RerankPolicy, small_group_threshold: float, *,
                         list_key: str = "",
                         scores: Sequence[float] | None = None,
                         offsets: Mapping[str, float] | None = None,
                         ) -> tuple[list[str], ListFairness]:
    """Re-rank the model-ordered qualified pool ``ranked_ids`` (best first) fairly.

    Returns the whole pool in its new order (show the first ``list_size``) and the aggregate
    figures of the shown list. Protected attributes are read here and go no further.
    ``list_key`` names the list (role and date) for randomized rounding: the same key gives the
    same order. ``offsets`` (the model bundle's, `inference.fairness.offsets`) are added to the
    list-standardized ``scores`` before the floors; both or neither must be given.
    """
    if (scores is None) != (offsets is None):
        raise ValueError("fair_candidate_order needs scores and offsets together")
    key = (list_key or "|".join(ranked_ids)) if config.rounding == "randomized" else None
    ids = list(ranked_ids)
    attributes = read_protected_attributes(engine, ids)
    grouping = protected_groupings(attributes, ids)[config.dimension]
    del attributes
    order = fair_order(ids, scores, grouping, config, offsets or {}, key) if config.enabled \
        else ids
    return order, list_figures(order, ids, list_size, grouping, config,
                               small_group_threshold, key)
