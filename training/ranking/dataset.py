"""Point-in-time learning-to-rank sets from historical moves and applications.

One query per past decision: a filled historical opportunity (applicants, the mover) or a move
without an opportunity (to its role). Its candidates are the people who applied or moved plus
the negatives retrieval would have returned on that date, searched among the employees *as
they were then* (role and level rebuilt from the move history, opted-in, hired before).
Features are computed by ``features.ranking`` from what was known strictly before the
decision date: each candidate's history is cut with ``history_before`` *before* the profile
builder sees it, so no builder can read the future. Grades: 3 moved and thrived, 2 moved,
1 applied, 0 retrieved but not chosen.

Applications are the store's ``application`` events, the simulated history's and those made
through the API alike (``POST /v1/events`` guards them: open opportunities only, never one's
own, never an ``accepted_move`` from an employee; ingest brings HR's records). One withdrawn by
a later "not interested" is not counted (`features.choices`). People's dismissals ("not
interested", their latest word) are kept per decision (``Query.dismissed``,
``RankingDataset.dismissed``): a weak pursue-side negative for a future pursue model; the shipped
objective does not train on them (docs/ranking.md).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from pathlib import Path

import numpy as np

from features.choices import dismissed_pairs
from features.domain import (
    Course,
    Employee,
    EmployeeProfile,
    EventKind,
    Evidence,
    Move,
    Opportunity,
    Organization,
    RequirementProfile,
    Role,
)
from features.ranking import (
    FEATURE_NAMES,
    Target,
    employee_context,
    feature_row,
    target_from_opportunity,
    target_from_role,
)
from features.ranking_history import (
    EmployeeHistory,
    basic_profile,
    basic_requirements,
    employee_as_of,
    history_before,
    records_begin,
)
from inference.retrieval.indexes import DEFAULT_LEVEL_WINDOW, EmployeeIndex, SkillProfileVectorizer
from training.batch import IN_PROCESS, BatchRunner, same

THRIVED, MOVED, APPLIED, NOT_CHOSEN = 3, 2, 1, 0

ProfileBuilder = Callable[[Employee, EmployeeHistory], EmployeeProfile]
"""(employee as of the date, their history strictly before it) -> profile as of the day before."""


Outcome = tuple[int | None, bool | None]
"""(outcome rating 1-5, retained one year) of a move as the history records it; None = unknown
(the move is less than a year old, or the opportunity was not a role change)."""


def outcome_key(query_id: str, employee_id: str) -> str:
    return f"{query_id}\t{employee_id}"


@dataclass(frozen=True)
class Query:
    """One historical decision."""

    id: str
    as_of: date
    target: Target
    requirements: RequirementProfile
    grades: Mapping[str, int]
    """employee id -> grade for the people who applied or moved."""
    outcomes: Mapping[str, Outcome] = field(default_factory=dict)
    """employee id -> the recorded one-year outcome of their move (movers only)."""
    dismissed: frozenset[str] = frozenset()
    """People whose latest word on the opportunity is "not interested" (never graded)."""


@dataclass
class RankingDataset:
    features: np.ndarray
    labels: np.ndarray
    group_sizes: np.ndarray
    query_ids: list[str]
    query_dates: list[date]
    employee_ids: list[str]
    feature_names: tuple[str, ...] = FEATURE_NAMES
    stats: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    """``outcome_key(query id, employee id)`` -> the mover's recorded outcome. Keyed by
    (query, person) rather than by row, so row subsets and relabelled copies keep it valid."""
    dismissed: dict[str, list[str]] = field(default_factory=dict)
    """query id -> the people who said "not interested" (`Query.dismissed`): recorded for a
    pursue-side model, not trained on by the shipped objective."""

    def row_query_ids(self) -> list[str]:
        """The query id of every row."""
        return [q for q, n in zip(self.query_ids, self.group_sizes.tolist(), strict=True)
                for _ in range(int(n))]

    def subset(self, query_mask: Sequence[bool] | np.ndarray) -> RankingDataset:
        """The queries where ``query_mask`` is true (rows follow)."""
        qmask = np.asarray(query_mask, dtype=bool)
        row_mask = np.repeat(qmask, self.group_sizes)
        kept = {q for q, keep in zip(self.query_ids, qmask, strict=True) if keep}
        return RankingDataset(
            features=self.features[row_mask], labels=self.labels[row_mask],
            group_sizes=self.group_sizes[qmask],
            query_ids=[q for q, keep in zip(self.query_ids, qmask, strict=True) if keep],
            query_dates=[d for d, keep in zip(self.query_dates, qmask, strict=True) if keep],
            employee_ids=[e for e, keep in zip(self.employee_ids, row_mask, strict=True) if keep],
            feature_names=self.feature_names, outcomes=self.outcomes,
            dismissed={q: v for q, v in self.dismissed.items() if q in kept})

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, features=self.features, labels=self.labels,
                            group_sizes=self.group_sizes)
        path.with_suffix(".json").write_text(json.dumps({
            "feature_names": list(self.feature_names), "query_ids": self.query_ids,
            "query_dates": [d.isoformat() for d in self.query_dates],
            "employee_ids": self.employee_ids, "stats": self.stats,
            "outcomes": {k: list(v) for k, v in self.outcomes.items()},
            "dismissed": self.dismissed}))

    @classmethod
    def load(cls, path: Path) -> RankingDataset:
        arrays = np.load(path)
        meta = json.loads(path.with_suffix(".json").read_text())
        return cls(features=arrays["features"], labels=arrays["labels"],
                   group_sizes=arrays["group_sizes"], query_ids=meta["query_ids"],
                   query_dates=[date.fromisoformat(d) for d in meta["query_dates"]],
                   employee_ids=meta["employee_ids"],
                   feature_names=tuple(meta["feature_names"]), stats=meta["stats"],
                   outcomes={k: (v[0], v[1]) for k, v in meta.get("outcomes", {}).items()},
                   dismissed=meta.get("dismissed", {}))


def historical_queries(
    org: Organization,
    opportunity_requirements: Callable[[Opportunity], RequirementProfile] = basic_requirements,
    role_requirements: Mapping[str, RequirementProfile] | None = None,
) -> list[Query]:
    """One query per historical opportunity with applications or a move, and per move without
    an opportunity whose target role has a requirement profile; oldest first."""
    roles = {r.id: r for r in org.roles}
    opportunities = {o.id: o for o in org.opportunities}
    grades: dict[str, dict[str, int]] = defaultdict(dict)
    outcomes: dict[str, dict[str, Outcome]] = defaultdict(dict)
    decided: dict[str, date] = {}
    applied_on: dict[str, date] = {}
    dismissed: dict[str, set[str]] = defaultdict(set)
    for person, opp_id in dismissed_pairs(org.events):
        dismissed[opp_id].add(person)
    for ev in org.events:
        if ev.opportunity_id is None or ev.opportunity_id not in opportunities:
            continue
        g = grades[ev.opportunity_id]
        day = ev.occurred_at.date()
        if ev.kind is EventKind.APPLICATION and ev.employee_id in dismissed[ev.opportunity_id]:
            continue  # withdrawn by a later "not interested"
        if ev.kind is EventKind.APPLICATION:
            g[ev.employee_id] = max(g.get(ev.employee_id, 0), APPLIED)
            applied_on[ev.opportunity_id] = max(applied_on.get(ev.opportunity_id, day), day)
        elif ev.kind is EventKind.ACCEPTED_MOVE:
            g[ev.employee_id] = max(g.get(ev.employee_id, 0), MOVED)
            decided[ev.opportunity_id] = min(decided.get(ev.opportunity_id, day), day)
    queries: list[Query] = []
    for move in org.moves:
        grade = THRIVED if move.thrived else MOVED
        if move.opportunity_id and move.opportunity_id in opportunities:
            g = grades[move.opportunity_id]
            g[move.employee_id] = max(g.get(move.employee_id, 0), grade)
            outcomes[move.opportunity_id][move.employee_id] = (move.outcome_rating,
                                                               move.retained_one_year)
            decided[move.opportunity_id] = min(decided.get(move.opportunity_id, move.moved_on),
                                               move.moved_on)
        elif role_requirements and move.to_role_id in role_requirements \
                and move.to_role_id in roles:
            queries.append(Query(id=f"move:{move.id}", as_of=move.moved_on,
                                 target=target_from_role(roles[move.to_role_id]),
                                 requirements=role_requirements[move.to_role_id],
                                 grades={move.employee_id: grade},
                                 outcomes={move.employee_id: (move.outcome_rating,
                                                              move.retained_one_year)}))
    for opp_id, g in grades.items():
        opp = opportunities[opp_id]
        applied = applied_on.get(opp_id)
        as_of = decided.get(opp_id) or opp.closes_on or (
            applied + timedelta(days=1) if applied else None)
        if as_of is None:  # only impressions, saves or dismissals: nobody was considered
            continue
        queries.append(Query(id=f"opp:{opp_id}", as_of=as_of,
                             target=target_from_opportunity(opp, roles),
                             requirements=opportunity_requirements(opp), grades=dict(g),
                             outcomes=dict(outcomes.get(opp_id, {})),
                             dismissed=frozenset(dismissed.get(opp_id, set()) - set(g))))
    queries.sort(key=lambda q: (q.as_of, q.id))
    return queries


def _unit_hash(key: str) -> float:
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2.0 ** 64


class OrgIndex:
    """Per-employee indexes over the organization, built once."""

    def __init__(self, org: Organization) -> None:
        self.roles: dict[str, Role] = {r.id: r for r in org.roles}
        self.employees = {e.id: e for e in org.employees}
        self.evidence: dict[str, list[Evidence]] = defaultdict(list)
        for ev in org.evidence:
            self.evidence[ev.employee_id].append(ev)
        self.moves: dict[str, list[Move]] = defaultdict(list)
        for mv in org.moves:
            self.moves[mv.employee_id].append(mv)
        self.courses: dict[str, Course] = {c.id: c for c in org.courses}
        self.records_begin = records_begin(org.moves, org.opportunities)

    def as_of(self, employee_id: str, day: date) -> Employee | None:
        emp = self.employees.get(employee_id)
        return None if emp is None else employee_as_of(emp, self.moves[employee_id], self.roles,
                                                       day, self.records_begin)

    def history(self, employee_id: str, day: date) -> EmployeeHistory:
        return history_before(day, self.evidence[employee_id], self.moves[employee_id])


def quarter_start(day: date) -> date:
    """The first day of ``day``'s quarter (negatives are searched among profiles as of it)."""
    return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)


@dataclass(frozen=True)
class DatasetContext:
    """What every part of the dataset build reads: the organization and the recipe."""

    world: OrgIndex
    build: ProfileBuilder
    vectorizer: SkillProfileVectorizer
    adjacency: Mapping[tuple[str, str], int] | None
    negatives: int
    random_negatives: int
    level_window: tuple[int, int]
    seed: int
    pool: tuple[str, ...]


@dataclass
class DatasetPart:
    """The rows of some consecutive queries (`dataset_part`); `merge_parts` joins them."""

    rows: list[np.ndarray] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    qids: list[str] = field(default_factory=list)
    qdates: list[date] = field(default_factory=list)
    eids: list[str] = field(default_factory=list)
    recorded: dict[str, Outcome] = field(default_factory=dict)
    dismissals: dict[str, list[str]] = field(default_factory=dict)
    skipped: int = 0


def query_parts(queries: Sequence[Query]) -> list[tuple[Query, ...]]:
    """Consecutive queries of the same quarter: each part searches one snapshot."""
    parts: list[list[Query]] = []
    current: date | None = None
    for q in queries:
        quarter = quarter_start(q.as_of)
        if quarter != current or not parts:
            parts.append([])
            current = quarter
        parts[-1].append(q)
    return [tuple(part) for part in parts]


def dataset_part(ctx: DatasetContext, queries: Sequence[Query]) -> DatasetPart:
    """The rows of ``queries`` (the per-part work of both runners, `training.batch`)."""
    world, vectorizer, build = ctx.world, ctx.vectorizer, ctx.build
    courses = world.courses
    snapshots: dict[date, tuple[EmployeeIndex, list[str]] | None] = {}

    def snapshot(day: date) -> tuple[EmployeeIndex, list[str]] | None:
        month = quarter_start(day)
        if month not in snapshots:
            emps = [e for i in ctx.pool if (e := world.as_of(i, month)) is not None]
            if not emps:
                snapshots[month] = None
            else:
                vecs = np.stack([vectorizer.employee(build(e, world.history(e.id, month)))
                                 for e in emps])
                snapshots[month] = (EmployeeIndex(emps, vecs), [e.id for e in emps])
        return snapshots[month]

    out = DatasetPart()
    for q in queries:
        target_vec = vectorizer.requirements(q.requirements)
        graded = {e: g for e, g in q.grades.items() if world.as_of(e, q.as_of) is not None}
        if not any(g > 0 for g in graded.values()):
            out.skipped += 1
            continue
        candidates = dict(graded)
        snap = snapshot(q.as_of)
        if snap is not None and ctx.negatives > 0:
            index, ids = snap
            for c in index.retrieve(q.target.level, q.target.role_id, target_vec, ctx.negatives,
                                    level_window=ctx.level_window, exclude_ids=set(graded)):
                candidates[c.id] = NOT_CHOSEN
            mask = index.allowed(q.target.level, q.target.role_id,
                                 level_window=ctx.level_window, exclude_ids=set(candidates))
            eligible = [ids[i] for i in np.flatnonzero(mask)]
            qrng = random.Random(f"{ctx.seed}:neg:{q.id}")
            for emp_id in qrng.sample(eligible, min(ctx.random_negatives, len(eligible))):
                candidates[emp_id] = NOT_CHOSEN
        order = sorted(candidates)
        random.Random(f"{ctx.seed}:{q.id}").shuffle(order)
        for emp_id in order:
            emp = world.as_of(emp_id, q.as_of)
            assert emp is not None
            hist = world.history(emp_id, q.as_of)
            profile = build(emp, hist)
            context = employee_context(emp, profile, hist, q.as_of,
                                       current_role=world.roles.get(emp.role_id),
                                       courses=courses, vector=vectorizer.employee(profile))
            out.rows.append(feature_row(context, q.target, q.requirements, target_vec,
                                        ctx.adjacency))
            out.labels.append(candidates[emp_id])
            out.eids.append(emp_id)
        out.recorded.update({outcome_key(q.id, e): o for e, o in q.outcomes.items()
                             if e in candidates})
        if q.dismissed:
            out.dismissals[q.id] = sorted(q.dismissed)
        out.sizes.append(len(order))
        out.qids.append(q.id)
        out.qdates.append(q.as_of)
    return out


def merge_parts(parts: Sequence[DatasetPart]) -> RankingDataset:
    """The dataset of the parts, in part order."""
    rows = [r for p in parts for r in p.rows]
    labels = [v for p in parts for v in p.labels]
    sizes = [v for p in parts for v in p.sizes]
    recorded = {k: v for p in parts for k, v in p.recorded.items()}
    dismissals = {k: v for p in parts for k, v in p.dismissals.items()}
    width = len(FEATURE_NAMES)
    return RankingDataset(
        features=np.vstack(rows) if rows else np.zeros((0, width)),
        labels=np.asarray(labels, dtype=np.int32), group_sizes=np.asarray(sizes, dtype=np.int32),
        query_ids=[v for p in parts for v in p.qids],
        query_dates=[v for p in parts for v in p.qdates],
        employee_ids=[v for p in parts for v in p.eids],
        stats={"queries": len(sizes), "rows": len(labels),
               "skipped_queries": sum(p.skipped for p in parts),
               "dismissals": sum(len(v) for v in dismissals.values())},
        outcomes=recorded, dismissed=dismissals)


def build_dataset(
    org: Organization,
    *,
    queries: Sequence[Query] | None = None,
    profile_builder: ProfileBuilder | None = None,
    vectorizer: SkillProfileVectorizer | None = None,
    adjacency: Mapping[tuple[str, str], int] | None = None,
    negatives: int = 20,
    random_negatives: int = 5,
    pool_fraction: float = 1.0,
    level_window: tuple[int, int] = DEFAULT_LEVEL_WINDOW,
    seed: int = 0,
    runner: BatchRunner = IN_PROCESS,
) -> RankingDataset:
    """Rows for every query: the graded people plus up to ``negatives`` retrieved others.

    ``random_negatives`` more are drawn uniformly from the eligible pool, so the model does not
    learn only the difference between how applicants and retrieved negatives were selected.
    Negatives are searched among a pool of employees (each kept with probability
    ``pool_fraction`` by a hash of their id, so the pool never depends on who else exists), using
    their profiles as of the first day of the decision's quarter (strictly past data, built once
    per quarter: rebuilding every employee's profile is the costly part of this function);
    the features of every chosen candidate are then computed exactly as of the decision date.
    The queries are cut by quarter (`query_parts`) and built by ``runner`` (in this process,
    or on Ray: `training.batch`), then joined in order: the same rows either way.
    """
    world = OrgIndex(org)
    queries = historical_queries(org) if queries is None else queries
    courses = world.courses

    def default_builder(emp: Employee, hist: EmployeeHistory) -> EmployeeProfile:
        return basic_profile(emp.id, hist, courses, as_of=hist.as_of - timedelta(days=1))

    ctx = DatasetContext(
        world=world, build=profile_builder or default_builder,
        vectorizer=vectorizer or SkillProfileVectorizer(), adjacency=adjacency,
        negatives=negatives, random_negatives=random_negatives, level_window=level_window,
        seed=seed,
        pool=tuple(sorted(i for i in world.employees
                          if _unit_hash(f"{seed}:{i}") < pool_fraction)))
    parts = runner.map(dataset_part, query_parts(queries), setup=partial(same, ctx), state=ctx)
    return merge_parts(parts)
