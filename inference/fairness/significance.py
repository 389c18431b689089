"""Is a low impact ratio more than chance? Person-level label permutations.

An impact ratio of a group of a hundred people moves by tens of points with who happens to be in
the group (docs/fairness.md): on the simulated organization, whose race/ethnicity is assigned at
random, the lowest race ratio of a *group-blind* model falls under 0.8 in about one audit in
eight. The four-fifths rule itself is a rule of thumb that the US Uniform Guidelines
(29 CFR 1607.4 D) pair with statistical significance for exactly this reason.

`permutation_p_values` re-computes the audit's figures with the people's protected attributes
shuffled across people (all dimensions together, so every person keeps a coherent profile) while
everything else - the lists, their order, the scores, the employee-facing recommendations - stays
as served. The gate looks at the *lowest* of many ratios (every group of every dimension), and
the lowest of many noisy ratios is low by construction; so the p-value of a figure is taken
against the lowest ratio of its family - the same section, dimension and metric, over the gated
groups (not small, not unknown) - in each permutation (a single-step Westfall-Young min-statistic
adjustment, which holds the family-wise error rate): the share of permutations whose family
minimum is at most the observed ratio, with the usual +1 correction. A small p-value says that
handing the groups to people at random would rarely produce a ratio that low anywhere in the
family, so the shortfall is not chance.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

import numpy as np

from inference.fairness.groups import Grouping
from inference.fairness.models import FairnessAudit, iter_impact_ratios

FigureKey = tuple[str, str, str, str]
"""(section, dimension, group, metric) of one impact ratio."""


FamilyKey = tuple[str, str, str]
"""(section, dimension, metric): the figures compared with each other."""


def figure_values(audit: FairnessAudit) -> dict[FigureKey, float]:
    return {(f.section, f.dimension, f.group, f.metric): f.value
            for f in iter_impact_ratios(audit) if f.value is not None}


def family_minima(audit: FairnessAudit) -> dict[FamilyKey, float]:
    """Lowest ratio of every family over its gated groups (not small, not unknown)."""
    out: dict[FamilyKey, float] = {}
    for f in iter_impact_ratios(audit):
        if f.value is None or f.small_group or f.unknown:
            continue
        key = (f.section, f.dimension, f.metric)
        out[key] = min(out.get(key, f.value), f.value)
    return out


def permuted_groupings(groupings: Mapping[str, Grouping], rng: np.random.Generator
                       ) -> dict[str, Grouping]:
    """The same groups, handed to other people: person ``i`` gets person ``pi(i)``'s groups."""
    ids = sorted({i for grouping in groupings.values() for i in grouping})
    donors = [ids[j] for j in rng.permutation(len(ids))]
    return {dim: {i: grouping.get(d, "unknown") for i, d in zip(ids, donors, strict=True)}
            for dim, grouping in groupings.items()}


def permutation_p_values(
    compute: Callable[[Mapping[str, Grouping]], FairnessAudit],
    groupings: Mapping[str, Grouping],
    observed: Mapping[FigureKey, float],
    wanted: Collection[FigureKey],
    *,
    permutations: int = 200,
    seed: int = 0,
) -> dict[FigureKey, float]:
    """``{figure: p-value}`` for the ``wanted`` figures (see the module docstring).

    ``compute`` maps groupings to the audit's figures; it is called ``permutations`` times.
    """
    keys = [k for k in wanted if k in observed]
    if not keys or permutations < 1:
        return {}
    rng = np.random.default_rng(seed)
    at_most = dict.fromkeys(keys, 0)
    for _ in range(permutations):
        minima = family_minima(compute(permuted_groupings(groupings, rng)))
        for key in keys:
            lowest = minima.get((key[0], key[1], key[3]))
            if lowest is not None and lowest <= observed[key] + 1e-12:
                at_most[key] += 1
    return {key: (1 + n) / (1 + permutations) for key, n in at_most.items()}
