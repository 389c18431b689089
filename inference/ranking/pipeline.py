"""The employee-side request pipeline: retrieve -> features -> score -> order, defined once.

`OpportunityCatalog` holds the open opportunities serving ranks (their requirement profiles,
targets, vectors and the retrieval index); `rank_opportunities` runs one employee through it and
returns a `Slate`: every retrieved opportunity (not ones the person owns or mentors, dismissed
or filtered out), its feature row and score, in served order: score descending (ties by id),
then the default mix by kind (`mixed_order`, ``serving.mix`` in params.yaml) when the list is
not restricted to one kind. Filters (`ListFilter`: kind, location, level, department) and
dismissals are applied at retrieval, before the depth is cut, so a filtered list is as deep
as an unfiltered one; paging cuts the served order, so page 2 continues page 1.
`inference.ranking.recommender.Recommender` explains the top of it; the employee-side fairness
audit (`training.fairness.employee_lists`) and the latency benchmark
(`benchmarks/bench_recommend.py`) call the same function with the same settings, so what they
measure is what is served.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from features.domain import Opportunity, OpportunityKind, RequirementProfile
from features.params import IndexParams, ListMixParams
from features.ranking import ASPIRATION_RELEVANT, FEATURE_NAMES, EmployeeContext, Target
from features.ranking_batch import TargetTable
from inference.ranking.explain import held_at_level
from inference.retrieval.indexes import OpportunityIndex

Scorer = Callable[[np.ndarray], np.ndarray]
"""Feature rows -> scores (the bundle's ranker, or a model under audit)."""

_SKILL_COVERAGE = FEATURE_NAMES.index("skill_coverage")
_ASPIRATION_MATCH = FEATURE_NAMES.index("aspiration_match")
_CAREER_CHANGER_ADJACENCY = FEATURE_NAMES.index("career_changer_adjacency")


def requirements_met(skills: Mapping[str, tuple[float, float]],
                     requirements: RequirementProfile) -> int:
    """How many of the required skills the person (``skills``: uri -> (proficiency,
    confidence), as `features.ranking.EmployeeContext.skills`) holds at the required level:
    the skills a card names as matched (the rule of `inference.ranking.explain.skill_match`)."""
    count = 0
    for req in requirements.requirements:
        found = skills.get(req.skill_uri)
        count += found is not None and held_at_level(found[0], req.level)
    return count


def meets_a_requirement(skills: Mapping[str, tuple[float, float]],
                        requirements: RequirementProfile) -> bool:
    """Whether the person holds one of the required skills at its required level
    (`requirements_met`): what lets a card name a skill they already have."""
    return requirements_met(skills, requirements) > 0


def common_skills(profiles: Iterable[RequirementProfile], share: float,
                  min_profiles: int = 1) -> frozenset[str]:
    """Skills that at least ``share`` of these requirement profiles, and at least
    ``min_profiles`` of them, require (the company's roles, each counted once): *office
    software* (45% of the demo's roles), *troubleshoot*, *work ergonomically*, *listen
    actively*. Meeting one of them alone says little about an item
    (`meets_a_telling_requirement`)."""
    counts: Counter[str] = Counter()
    total = 0
    for profile in profiles:
        total += 1
        counts.update({req.skill_uri for req in profile.requirements})
    if total == 0:
        return frozenset()
    return frozenset(uri for uri, n in counts.items()
                     if n >= share * total and n >= min_profiles)


def meets_a_telling_requirement(skills: Mapping[str, tuple[float, float]],
                                requirements: RequirementProfile,
                                common: frozenset[str]) -> bool:
    """Whether what the person meets of the requirements says something about the item: two
    or more skills, or one that is not `common_skills` (a rotary drill operator's one shared
    skill with a customer-service gig, *work ergonomically*, does not)."""
    met = [req.skill_uri for req in requirements.requirements
           if (found := skills.get(req.skill_uri)) is not None
           and held_at_level(found[0], req.level)]
    return len(met) >= 2 or any(uri not in common for uri in met)


def near_occupation(ctx: EmployeeContext, target: Target, adjacency: float) -> bool:
    """Whether the item's occupation is close to the person's: the same SOC minor group
    (``25-2022`` middle-school and ``25-2057`` special-education teachers: ``25-2``), or one
    O*NET lists as a career move from theirs (``career_changer_adjacency > 0``). The job
    family (the SOC major group) is too broad for it: a courier and a data-entry keyer share
    *Office and Administrative Support*."""
    if adjacency > 0.0:
        return True
    role = ctx.current_role
    mine, theirs = (role.onet_code if role else None), target.onet_code
    return bool(mine and theirs and mine[:4] == theirs[:4])


def shares_enough(skills: Mapping[str, tuple[float, float]],
                  requirements: RequirementProfile, min_shared: int) -> bool:
    """Whether a candidate meets ``min_shared`` of the required skills, or every one where
    fewer are required (`features.params.ServingParams.candidate_min_shared_skills`)."""
    need = min(min_shared, len(requirements.requirements))
    return requirements_met(skills, requirements) >= need


def relevant_rows(x: np.ndarray, *, aspirations: bool, meets: np.ndarray | None = None
                  ) -> np.ndarray:
    """Mask of the feature rows worth showing: the person meets at least one of the item's
    required skills at its level (``meets``, by `meets_a_requirement`: a matched skill the
    card names; on the employee side, by `meets_a_telling_requirement` unless the item is
    `near_occupation`; without ``meets``, any share of a required skill,
    ``skill_coverage > 0``),
    or, with ``aspirations`` (the employee side), the item matches one of their stated
    aspirations (``aspiration_match >= ASPIRATION_RELEVANT``: where they want to go, even
    with nothing in common yet).
    An item with neither is noise however the ranker scores it (docs/live.md, "Relevance")."""
    if x.size == 0:
        return np.zeros(len(x), dtype=bool)
    keep = (np.asarray(meets, dtype=bool).copy() if meets is not None
            else x[:, _SKILL_COVERAGE] > 0.0)
    if aspirations:
        keep |= x[:, _ASPIRATION_MATCH] >= ASPIRATION_RELEVANT
    return np.asarray(keep, dtype=bool)


class OpportunityCatalog:
    """The open opportunities one serving model ranks, indexed for retrieval."""

    def __init__(self, opportunities: Sequence[Opportunity],
                 requirements: Sequence[RequirementProfile], targets: Sequence[Target],
                 vectors: np.ndarray, index: IndexParams,
                 mentors: Mapping[str, tuple[int, str]] | None = None,
                 common_skills: frozenset[str] = frozenset()) -> None:
        if not len(opportunities) == len(requirements) == len(targets) == len(vectors):
            raise ValueError("one requirement profile, target and vector per opportunity")
        self.opportunities = list(opportunities)
        self.requirements = list(requirements)
        self.targets = list(targets)
        self.vectors = vectors
        self.mentors = dict(mentors or {})
        """Mentor id -> (level, role id), to keep mentoring from juniors and same-job peers out."""
        self.common_skills = common_skills
        """Skills so many roles require that meeting one alone does not make an item relevant
        outside the person's own occupation group (`common_skills`)."""
        self.index = OpportunityIndex(self.opportunities, vectors,
                                      exact_threshold=index.exact_threshold,
                                      hnsw_m=index.hnsw_m,
                                      ef_construction=index.ef_construction,
                                      ef_search=index.ef_search)
        self.row_of = {o.id: row for row, o in enumerate(self.opportunities)}
        self.levels = np.array([o.level for o in self.opportunities], dtype=np.int16)
        self.departments = np.array([o.department_id for o in self.opportunities], dtype=object)
        self.kinds = [o.kind for o in self.opportunities]
        self.features = TargetTable(self.targets, self.requirements)
        """The targets laid out for vectorised feature rows (`features.ranking_batch`)."""

    def mask(self, wanted: ListFilter, dismissed: Collection[str] = ()) -> np.ndarray | None:
        """Rows passing the person's level and department filters, less what they dismissed
        (None: no restriction). Kinds and locations go to the index's own filters."""
        if not (wanted.levels or wanted.departments or dismissed):
            return None
        keep = np.ones(len(self.opportunities), dtype=bool)
        if wanted.levels:
            keep &= np.isin(self.levels, np.asarray(sorted(wanted.levels), dtype=np.int16))
        if wanted.departments:
            keep &= np.isin(self.departments, np.asarray(sorted(wanted.departments),
                                                         dtype=object))
        for oid in dismissed:
            row = self.row_of.get(oid)
            if row is not None:
                keep[row] = False
        return keep


@dataclass(frozen=True)
class ListFilter:
    """What a person narrowed their list to (empty: everything); values are ORed within a
    field, fields ANDed. Levels narrow the usual level window, they never widen it."""

    kinds: frozenset[OpportunityKind] = field(default_factory=frozenset)
    locations: frozenset[str] = field(default_factory=frozenset)
    levels: frozenset[int] = field(default_factory=frozenset)
    departments: frozenset[str] = field(default_factory=frozenset)

    @property
    def one_kind(self) -> bool:
        return len(self.kinds) == 1


NO_FILTER = ListFilter()


def mixed_order(kinds: Sequence[OpportunityKind], mix: ListMixParams,
                aspiration_only: Sequence[bool] | None = None, by_kind: bool = True
                ) -> list[int]:
    """Positions of a best-first list reordered so that its first ``mix.top`` hold at most
    ``mix.max_per_kind`` items of one kind (with ``by_kind``) and at most
    ``mix.max_aspiration_only`` items that share no required skill with the person (flagged
    in ``aspiration_only``: shown for an aspiration alone), when other items are there to
    take the place; the deferred items come right after, in their original order. Stable and
    deterministic."""
    taken: dict[OpportunityKind, int] = {}
    only = list(aspiration_only) if aspiration_only is not None else [False] * len(kinds)
    aspirations = 0
    head: list[int] = []
    deferred: list[int] = []
    rest: list[int] = []
    for i, kind in enumerate(kinds):
        if len(head) >= mix.top:
            rest.append(i)
        elif ((not by_kind or taken.get(kind, 0) < mix.max_per_kind)
              and (not only[i] or aspirations < mix.max_aspiration_only)):
            taken[kind] = taken.get(kind, 0) + 1
            aspirations += only[i]
            head.append(i)
        else:
            deferred.append(i)
    if len(head) < mix.top:  # not enough other items: the deferred fill the head after all
        fill = mix.top - len(head)
        head = sorted(head + deferred[:fill])
        deferred = deferred[fill:]
    return head + sorted(deferred + rest)


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
                       adjacency: Mapping[tuple[str, str], int] | None = None,
                       wanted: ListFilter = NO_FILTER, dismissed: Collection[str] = (),
                       mix: ListMixParams | None = None) -> Slate:
    """Retrieve ``depth`` open opportunities in the employee's level window (not their own role,
    not ones they own or mentor, not ones they dismissed, only what ``wanted`` lets through, no
    mentoring by someone junior or by a peer in the same job), compute their features as of
    ``ctx.as_of``, keep the relevant ones (`relevant_rows`: an item not `near_occupation`
    needs two met skills or one that is not among the catalog's `common_skills`), score and
    order; of several items
    with the same kind and title only the best-scored stays (two openings of one role read as
    one item); then, with ``mix`` and unless the list is of one kind, the default mix by kind
    (`mixed_order`)."""
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

    wanted_kinds = set(kinds or ()) | set(wanted.kinds)
    if kinds and wanted.kinds:
        wanted_kinds = set(kinds) & set(wanted.kinds)
        if not wanted_kinds:
            return Slate([], np.empty((0, 0)), np.empty(0))
    found = [c for c in catalog.index.retrieve(
                 employee, vector, depth, kinds=wanted_kinds or None,
                 locations=wanted.locations or None, also=catalog.mask(wanted, dismissed))
             if offered(opportunities[c.row])]
    if not found:
        return Slate([], np.empty((0, 0)), np.empty(0))
    rows = [c.row for c in found]
    x = catalog.features.matrix(ctx, rows, catalog.vectors[rows], adjacency)
    keep = relevant_rows(x, aspirations=True, meets=np.array(
        [meets_a_telling_requirement(ctx.skills, catalog.requirements[r], catalog.common_skills)
         or (near_occupation(ctx, catalog.targets[r], float(x[i, _CAREER_CHANGER_ADJACENCY]))
             and meets_a_requirement(ctx.skills, catalog.requirements[r]))
         for i, r in enumerate(rows)], dtype=bool))
    if not keep.any():
        return Slate([], np.empty((0, 0)), np.empty(0))
    found = [c for c, k in zip(found, keep.tolist(), strict=True) if k]
    rows = [c.row for c in found]
    x = x[keep]
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
    if mix is not None:
        order = [order[j] for j in mixed_order(
            [opportunities[rows[i]].kind for i in order], mix,
            aspiration_only=[bool(x[i, _SKILL_COVERAGE] <= 0.0) for i in order],
            by_kind=len(wanted_kinds) != 1)]
    return Slate([rows[i] for i in order], x[order], scores[order])
