"""The employee-side request pipeline: retrieve -> features -> score -> order, defined once.

`OpportunityCatalog` holds the open opportunities serving ranks (their requirement profiles,
targets, vectors and the retrieval index); `rank_opportunities` runs one employee through it and
returns a `Slate`: every retrieved opportunity (not ones the person owns or mentors), its feature
row and score, in served order (score descending, ties by id).
`inference.ranking.recommender.Recommender` explains the top of it; the employee-side fairness
audit (`training.fairness.employee_lists`) and the latency benchmark
(`benchmarks/bench_recommend.py`) call the same function with the same settings, so what they
measure is what is served.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from features.domain import Opportunity, OpportunityKind, RequirementProfile
from features.params import IndexParams
from features.ranking import EmployeeContext, Target
from features.ranking_batch import TargetTable
from inference.retrieval.indexes import OpportunityIndex

Scorer = Callable[[np.ndarray], np.ndarray]
"""Feature rows -> scores (the bundle's ranker, or a model under audit)."""


class OpportunityCatalog:
    """The open opportunities one serving model ranks, indexed for retrieval."""

    def __init__(self, opportunities: Sequence[Opportunity],
                 requirements: Sequence[RequirementProfile], targets: Sequence[Target],
                 vectors: np.ndarray, index: IndexParams,
                 mentors: Mapping[str, tuple[int, str]] | None = None) -> None:
        if not len(opportunities) == len(requirements) == len(targets) == len(vectors):
            raise ValueError("one requirement profile, target and vector per opportunity")
        self.opportunities = list(opportunities)
        self.requirements = list(requirements)
        self.targets = list(targets)
        self.vectors = vectors
        self.mentors = dict(mentors or {})
        """Mentor id -> (level, role id), to keep mentoring from juniors and same-job peers out."""
        self.index = OpportunityIndex(self.opportunities, vectors,
                                      exact_threshold=index.exact_threshold,
                                      hnsw_m=index.hnsw_m,
                                      ef_construction=index.ef_construction,
                                      ef_search=index.ef_search)
        self.features = TargetTable(self.targets, self.requirements)
        """The targets laid out for vectorised feature rows (`features.ranking_batch`)."""


@dataclass(frozen=True)
class Slate:
    """One employee's scored opportunities, best first."""

    rows: list[int]
    """Catalog rows, in served order."""
    features: np.ndarray
    """Feature rows (`features.ranking.FEATURE_NAMES`), aligned with ``rows``."""
    scores: np.ndarray

    def top(self, limit: int) -> Slate:
        return Slate(self.rows[:limit], self.features[:limit], self.scores[:limit])


def rank_opportunities(catalog: OpportunityCatalog, ctx: EmployeeContext, score: Scorer,
                       depth: int, *, kinds: Collection[OpportunityKind] | None = None,
                       adjacency: Mapping[tuple[str, str], int] | None = None) -> Slate:
    """Retrieve ``depth`` open opportunities in the employee's level window (not their own role,
    not ones they own or mentor, no mentoring by someone junior or by a peer in the same job),
    compute their features as of ``ctx.as_of``, score and order; of several items with the same
    kind and title only the best-scored stays (two openings of one role read as one item)."""
    employee = ctx.employee
    vector = ctx.vector if ctx.vector is not None else np.zeros(catalog.index.index.dim)
    opportunities = catalog.opportunities

    def offered(opportunity: Opportunity) -> bool:
        if employee.id in (opportunity.owner_id, opportunity.mentor_id):
            return False
        mentor = catalog.mentors.get(opportunity.mentor_id or "")
        if mentor is None:
            return True
        level, role_id = mentor
        return level > employee.level or (level == employee.level
                                          and role_id != employee.role_id)

    found = [c for c in catalog.index.retrieve(employee, vector, depth, kinds=kinds)
             if offered(opportunities[c.row])]
    if not found:
        return Slate([], np.empty((0, 0)), np.empty(0))
    rows = [c.row for c in found]
    x = catalog.features.matrix(ctx, rows, catalog.vectors[rows], adjacency)
    scores = np.asarray(score(x), dtype=np.float64)
    ranked = sorted(range(len(rows)), key=lambda i: (-scores[i], found[i].id))
    seen: set[tuple[str, str]] = set()
    order = []
    for i in ranked:
        item = opportunities[rows[i]]
        key = (item.kind.value, item.title.casefold())
        if key not in seen:
            seen.add(key)
            order.append(i)
    return Slate([rows[i] for i in order], x[order], scores[order])
