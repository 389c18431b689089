"""Is a low impact ratio more than chance? Person-level label permutations.

An impact ratio of a group of a hundred people moves by tens of points with who happens to be in
the group (docs/fairness.md): on the simulated organization, whose race/ethnicity is assigned at
random, the lowest race ratio of a *group-blind* model falls under 0.8 in about one audit in
eight. The four-fifths rule itself is a rule of thumb that the US Uniform Guidelines
(29 CFR 1607.4 D) pair with statistical significance for exactly this reason.

`permutation_p_values` re-computes the audit's figures with the people's protected attributes
shuffled across people (all dimensions together, so every person keeps a coherent profile) while
everything else - the lists, their order, the scores, the employee-facing recommendations - stays
as served. The gate looks at the *lowest* of many ratios (every group of every dimension, every
metric), and the lowest of many noisy ratios is low by construction; a group of a hundred people
swings far more than one of two thousand. So the test is studentized and family-wise over the
whole gate (Westfall & Young's single-step max-T): every gated figure is turned into a z-score
against its own permutation distribution, and the p-value of a low figure is the share of
permutations whose *lowest* z-score anywhere in the gate is at most the figure's observed
z-score (with the usual +1 correction). A small p-value says that handing the groups to people at
random would rarely produce a shortfall that extreme anywhere in the audit, so it is not chance;
the family-wise error rate of the gate as a whole is held at the chosen level.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

import numpy as np

from inference.fairness.groups import Grouping
from inference.fairness.models import FairnessAudit, iter_impact_ratios

FigureKey = tuple[str, str, str, str]
"""(section, dimension, group, metric) of one impact ratio."""


def figure_values(audit: FairnessAudit) -> dict[FigureKey, float]:
    return {(f.section, f.dimension, f.group, f.metric): f.value
            for f in iter_impact_ratios(audit) if f.value is not None}


def permuted_groupings(groupings: Mapping[str, Grouping], rng: np.random.Generator
                       ) -> dict[str, Grouping]:
    """The same groups, handed to other people: person ``i`` gets person ``pi(i)``'s groups."""
    ids = sorted({i for grouping in groupings.values() for i in grouping})
    donors = [ids[j] for j in rng.permutation(len(ids))]
    return {dim: {i: grouping.get(d, "unknown") for i, d in zip(ids, donors, strict=True)}
            for dim, grouping in groupings.items()}


def permutation_samples(
    compute: Callable[[Mapping[str, Grouping]], FairnessAudit],
    groupings: Mapping[str, Grouping],
    family: Sequence[FigureKey],
    *,
    permutations: int = 200,
    seed: int = 0,
) -> np.ndarray:
    """``samples[b, j]``: figure ``family[j]`` recomputed under the ``b``-th permutation of the
    groups across people (NaN where a permutation leaves it undefined)."""
    rng = np.random.default_rng(seed)
    samples = np.full((permutations, len(family)), np.nan)
    for b in range(permutations):
        values = figure_values(compute(permuted_groupings(groupings, rng)))
        samples[b] = [values.get(key, np.nan) for key in family]
    return samples


def max_t_p_values(samples: np.ndarray, family: Sequence[FigureKey],
                   observed: Mapping[FigureKey, float], wanted: Collection[FigureKey],
                   ) -> dict[FigureKey, float]:
    """Studentized single-step max-T p-values of ``wanted`` against ``samples`` of ``family``."""
    permutations = samples.shape[0]
    with np.errstate(invalid="ignore"):
        mean = np.nanmean(samples, axis=0)
        sd = np.nanstd(samples, axis=0)
    sd[~(sd > 1e-9)] = np.nan  # a figure that never moves carries no evidence
    z = (samples - mean) / sd
    lowest = np.array([np.nanmin(row) if np.any(~np.isnan(row)) else np.inf for row in z])
    out: dict[FigureKey, float] = {}
    for key in wanted:
        j = list(family).index(key)
        if np.isnan(sd[j]):
            out[key] = 1.0
            continue
        z_observed = (observed[key] - mean[j]) / sd[j]
        out[key] = float((1 + np.sum(lowest <= z_observed + 1e-12)) / (1 + permutations))
    return out


def permutation_family(observed: Mapping[FigureKey, float], wanted: Collection[FigureKey],
                       gated: Collection[FigureKey] | None = None) -> list[FigureKey]:
    """The max-T family: the gated figures that were observed, plus any wanted one."""
    family = sorted(set(observed if gated is None else gated) & set(observed))
    family += [k for k in wanted if k in observed and k not in family]
    return family


def permutation_p_values(
    compute: Callable[[Mapping[str, Grouping]], FairnessAudit],
    groupings: Mapping[str, Grouping],
    observed: Mapping[FigureKey, float],
    wanted: Collection[FigureKey],
    *,
    gated: Collection[FigureKey] | None = None,
    permutations: int = 200,
    seed: int = 0,
) -> dict[FigureKey, float]:
    """``{figure: p-value}`` for the ``wanted`` figures (see the module docstring).

    ``gated``: the figures the gate compares (default: every observed figure); the max-T
    family. ``compute`` maps groupings to the audit's figures; it is called ``permutations``
    times.
    """
    keys = [k for k in wanted if k in observed]
    if not keys or permutations < 1:
        return {}
    family = permutation_family(observed, keys, gated)
    samples = permutation_samples(compute, groupings, family, permutations=permutations,
                                  seed=seed)
    return max_t_p_values(samples, family, observed, keys)


def lowest_per_permutation(samples: np.ndarray) -> np.ndarray:
    """The lowest figure of the family in each permutation: what an audit of this population
    finds as its lowest ratio when the groups carry no information about the lists at all (a
    perfectly group-blind pipeline). NaN-only rows give +inf."""
    with np.errstate(invalid="ignore"):
        return np.array([np.nanmin(row) if np.any(~np.isnan(row)) else np.inf
                         for row in samples])
