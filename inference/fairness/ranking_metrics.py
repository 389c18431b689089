"""Ranking-aware fairness measures: exposure, skew@k, NDKL; and NDCG for the cost of re-ranking.

- position weight ``w(rank) = 1 / log2(1 + rank)``, rank 1-based;
- exposure of a group = sum of its members' weights; mean exposure = exposure per member;
- ``skew_i@k = log(p_{i,k} / p_i)`` with ``p_{i,k}`` the group's share of the top k and ``p_i``
  its share of the qualified pool (Geyik et al., KDD 2019);
- ``NDKL = (1/Z) sum_{k=1..K} w(k) KL(D_k || D)``, ``Z = sum_{k=1..K} w(k)``;
- ``NDCG@k`` with gain ``2^rel - 1`` and the same discount.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from inference.fairness.groups import Grouping, group_of, is_unknown
from inference.fairness.metrics import (
    SMALL_GROUP_THRESHOLD,
    RankedList,
    _min_over_non_small,
    group_sizes,
    impact_ratios,
    people_sizes,
    small_groups,
)
from inference.fairness.models import DimensionRanking, GroupExposure, NdcgChange, RankingAudit
from inference.ranking.metrics import mean_defined, ndcg_at_k, position_weight

SKEW_FLOOR = 1e-4
"""``p_{i,k}`` is floored at this value so a group absent from the top k has a finite skew."""


def composition(groups: Sequence[str]) -> dict[str, float]:
    """``{group: share}`` of a sequence of group labels."""
    n = len(groups)
    return {g: c / n for g, c in Counter(groups).items()} if n else {}


def exposure_by_group(ranked_groups: Sequence[str], k: int | None = None) -> dict[str, float]:
    """Sum of position weights per group over the first ``k`` positions (all when ``None``).

    Groups present only beyond ``k`` appear with exposure 0.
    """
    out = dict.fromkeys(ranked_groups, 0.0)
    limit = len(ranked_groups) if k is None else min(k, len(ranked_groups))
    for rank, g in enumerate(ranked_groups[:limit], 1):
        out[g] += position_weight(rank)
    return out


def skew_at_k(
    ranked_groups: Sequence[str], k: int, target: Mapping[str, float] | None = None
) -> dict[str, float]:
    """``{group: log(p_{i,k} / p_i)}`` for every group with ``p_i > 0``.

    ``target`` is the qualified pool's composition (default: that of ``ranked_groups``);
    ``p_{i,k}`` is floored at `SKEW_FLOOR`.
    """
    if k < 1:
        raise ValueError("k must be >= 1")
    target = composition(ranked_groups) if target is None else target
    top = composition(ranked_groups[:k])
    return {g: math.log(max(top.get(g, 0.0), SKEW_FLOOR) / p)
            for g, p in target.items() if p > 0}


def kl_divergence(p: Mapping[str, float], q: Mapping[str, float]) -> float:
    """``KL(p || q) = sum_i p_i log(p_i / q_i)`` with ``0 log 0 = 0``."""
    total = 0.0
    for g, pi in p.items():
        if pi <= 0:
            continue
        qi = q.get(g, 0.0)
        if qi <= 0:
            raise ValueError(f"group {g!r} is ranked but has no share in the target composition")
        total += pi * math.log(pi / qi)
    return total


def ndkl(
    ranked_groups: Sequence[str], target: Mapping[str, float] | None = None,
    max_k: int | None = None,
) -> float:
    """Normalized discounted KL divergence of every prefix from ``target`` (0 = ideal)."""
    target = composition(ranked_groups) if target is None else target
    n = len(ranked_groups) if max_k is None else min(max_k, len(ranked_groups))
    if n == 0:
        return 0.0
    counts: Counter[str] = Counter()
    num = z = 0.0
    for k in range(1, n + 1):
        counts[ranked_groups[k - 1]] += 1
        w = position_weight(k)
        num += w * kl_divergence({g: c / k for g, c in counts.items()}, target)
        z += w
    return num / z


def ndcg_change(
    before: Sequence[Sequence[str]],
    after: Sequence[Sequence[str]],
    relevance: Sequence[Mapping[str, float]],
    k: int,
) -> NdcgChange:
    """Mean NDCG@k over lists before and after re-ranking (lists aligned by position)."""
    if not len(before) == len(after) == len(relevance):
        raise ValueError("before, after and relevance must have one entry per list")
    mb, n = mean_defined(ndcg_at_k(x, rel, k) for x, rel in zip(before, relevance, strict=True))
    ma, _ = mean_defined(ndcg_at_k(x, rel, k) for x, rel in zip(after, relevance, strict=True))
    return NdcgChange(k=k, n_lists=n, before=mb, after=ma, delta=ma - mb)


# --------------------------------------------------------------------------- audit over lists


def audit_ranking_dimension(
    lists: Sequence[RankedList],
    grouping: Grouping,
    dimension: str,
    *,
    k: int | None,
    pool: Mapping[str, Mapping[str, float]] | None,
    small_group_threshold: float,
) -> DimensionRanking:
    exposure: dict[str, float] = {}
    skews: dict[str, list[float]] = {}
    ndkls: list[float] = []
    all_groups: list[str] = []
    all_ids: list[str] = []
    for rl in lists:
        ranked = [group_of(grouping, i) for i in rl.ids]
        all_groups.extend(ranked)
        all_ids.extend(rl.ids)
        for g, e in exposure_by_group(ranked, k).items():
            exposure[g] = exposure.get(g, 0.0) + e
        if not ranked:
            continue
        target = dict(pool[rl.list_id]) if pool is not None and rl.list_id in pool else None
        for g, s in skew_at_k(ranked, k or len(ranked), target).items():
            skews.setdefault(g, []).append(s)
        ndkls.append(ndkl(ranked, target))
    sizes = group_sizes(all_groups)
    people = people_sizes(all_ids, all_groups)
    small = small_groups(people, small_group_threshold)
    mean_exp: dict[str, float | None] = {g: exposure.get(g, 0.0) / n for g, n in sizes.items()}
    ref, ratios = impact_ratios(mean_exp, small)
    total_n = sum(people.values())
    total_exp = sum(exposure.values())
    groups = [
        GroupExposure(
            group=g, share_of_sample=people[g] / total_n, small_group=g in small,
            unknown=is_unknown(g), n_candidates=n, n_people=people[g],
            exposure=exposure.get(g, 0.0),
            share_of_exposure=exposure.get(g, 0.0) / total_exp if total_exp else 0.0,
            mean_exposure=exposure.get(g, 0.0) / n, exposure_impact_ratio=ratios[g],
            mean_skew_at_k=float(np.mean(skews[g])) if skews.get(g) else None,
            min_skew_at_k=float(np.min(skews[g])) if skews.get(g) else None,
        )
        for g, n in sizes.items()
    ]
    return DimensionRanking(
        dimension=dimension, groups=groups, exposure_reference_group=ref,
        min_exposure_impact_ratio=_min_over_non_small(ratios, small),
        mean_ndkl=float(np.mean(ndkls)) if ndkls else None,
        max_ndkl=float(np.max(ndkls)) if ndkls else None,
    )


def audit_rankings(
    lists: Sequence[RankedList],
    groupings: Mapping[str, Grouping],
    *,
    k: int | None = None,
    pools: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None,
    small_group_threshold: float = SMALL_GROUP_THRESHOLD,
) -> RankingAudit:
    """Exposure, skew@k and NDKL per dimension over ranked lists.

    ``pools`` optionally gives, per dimension and list id, the qualified pool's composition
    (``{group: share}``); by default each list's own composition is the pool.
    """
    return RankingAudit(
        k=k, n_lists=len(lists), small_group_threshold=small_group_threshold,
        dimensions=[
            audit_ranking_dimension(
                lists, grouping, dim, k=k,
                pool=pools.get(dim) if pools is not None else None,
                small_group_threshold=small_group_threshold,
            )
            for dim, grouping in groupings.items()
        ],
    )
