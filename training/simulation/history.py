"""Five years of internal moves: openings, applicants, biased selection, outcomes, events.

Openings arrive uniformly over the window. Each goes to a role (preferring roles left short by
earlier moves, so vacancy chains form), draws applicants from the roles that feed it (the O*NET
Career Changers Matrix, skill overlap, the same job family, and a few wildcards), and picks one
with the logit in `training.simulation.bias` - or an external hire. A move's outcome a year later
depends on the mover's skill fit plus noise, never on their group.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
from scipy import sparse

from features.domain import Event, EventKind, Move, OpportunityKind, OpportunityStatus
from training.simulation.bias import choose, sourcing_keep_probability
from training.simulation.params import SimulationParams
from training.simulation.people import Person, day
from training.simulation.postings import (
    Draft,
    Posting,
    gig_posting,
    project_posting,
    role_posting,
    rotation_posting,
    time_commitment,
)
from training.simulation.roles import Catalog
from training.simulation.skillsets import fit_score
from training.simulation.text import below, between

SIDE_KINDS = (OpportunityKind.PROJECT, OpportunityKind.GIG, OpportunityKind.ROTATION)
MIN_DAYS_IN_ROLE = 365


@dataclass(frozen=True, slots=True)
class Application:
    """One applicant to one historical opening: the ground truth the bias tests measure."""

    opportunity_id: str
    person: int
    fit: float
    chosen: bool
    day: int


@dataclass
class History:
    drafts: list[Draft] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    applications: list[Application] = field(default_factory=list)


def feeder_roles(catalog: Catalog, rng: np.random.Generator,
                 similar: int = 8, family: int = 10) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per role: the roles whose people apply to it, and how strongly (CC 3, skills 2, family 1)."""
    n_roles, n_skills = len(catalog.roles), len(catalog.skills)
    rows = np.concatenate([np.full(len(s.skill_idx), s.index) for s in catalog.roles])
    cols = np.concatenate([s.skill_idx for s in catalog.roles])
    vals = np.concatenate([s.skill_weight for s in catalog.roles]).astype(np.float64)
    matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(n_roles, n_skills))
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel()) + 1e-9
    cosine = np.asarray((matrix @ matrix.T).todense()) / np.outer(norms, norms)
    np.fill_diagonal(cosine, -1.0)
    weights: list[dict[int, float]] = [{} for _ in range(n_roles)]
    for src, targets in catalog.cc_targets.items():
        for target in targets:
            weights[target][src] = 3.0
    families = catalog.family_roles()
    for spec in catalog.roles:
        for other in np.argsort(-cosine[spec.index], kind="stable")[:similar]:
            weights[spec.index].setdefault(int(other), 2.0)
        peers = [r for r in families[spec.family] if r != spec.index]
        for other in rng.permutation(peers)[:family] if peers else []:
            weights[spec.index].setdefault(int(other), 1.0)
    return [(np.array(list(w), dtype=np.int64), np.array(list(w.values()))) for w in weights]


@dataclass(frozen=True, slots=True)
class FirstIds:
    """Where a division's numbered history ids start (all 0 for the first): openings ``H``,
    moves ``M`` and events ``EV`` continue the previous divisions' numbering."""

    openings: int = 0
    moves: int = 0
    events: int = 0


class _Simulator:
    def __init__(self, catalog: Catalog, people: list[Person], params: SimulationParams,
                 rng: np.random.Generator, first: FirstIds) -> None:
        self.catalog, self.people, self.params, self.rng = catalog, people, params, rng
        self.first = first
        self.as_of = params.as_of.toordinal()
        self.start = self.as_of - int(365.25 * params.years_of_history)
        self.members: list[list[int]] = [[] for _ in catalog.roles]
        self.position = np.zeros(len(people), dtype=np.int64)
        for person in people:
            self.position[person.index] = len(self.members[person.role])
            self.members[person.role].append(person.index)
        self.target = np.array([len(m) for m in self.members], dtype=np.float64)
        self.count = self.target.copy()
        self.feeders = feeder_roles(catalog, rng)
        self.dept_names = {d.id: d.name for d in catalog.departments}
        self.history = History()
        self.pending: list[tuple[int, int, int, int]] = []  # (day, person, back_to, seq)
        self.rnd = random.Random(int(rng.integers(2**62)))  # fast scalar draws
        self.midnight: dict[int, datetime] = {}

    # ---------------------------------------------------------------- bookkeeping

    def _relocate(self, person: Person, role: int, when: int) -> None:
        members = self.members[person.role]
        slot, last = int(self.position[person.index]), members[-1]
        members[slot], self.position[last] = last, slot
        members.pop()
        self.count[person.role] -= 1
        self.position[person.index] = len(self.members[role])
        self.members[role].append(person.index)
        self.count[role] += 1
        person.role, person.role_since = role, when
        person.timeline.append((when, role))

    def _eligible(self, person: Person, when: int, level: int) -> bool:
        return (person.hired_on <= when - 90 and person.role_since <= when - MIN_DAYS_IN_ROLE
                and self.catalog.roles[person.role].level >= level - 1)

    def _candidates(self, role: int, when: int) -> tuple[list[int], list[int]]:
        """Applicants (from feeder roles, plus sometimes a wildcard) and a few other viewers."""
        level = self.catalog.roles[role].level
        feeders, weights = self.feeders[role]
        sizes = np.array([len(self.members[r]) for r in feeders], dtype=np.float64)
        mass = weights * sizes
        wanted = 1 + int(self.rng.poisson(self.params.applicants_mean - 1))
        viewers = between(self.rnd, 0, 3)
        chosen: list[int] = []
        if mass.sum() > 0:
            picks = self.rng.choice(len(feeders), size=3 * (wanted + viewers),
                                    p=mass / mass.sum()).tolist()
            for pick in picks:
                members = self.members[int(feeders[pick])]
                candidate = members[below(self.rnd, len(members))]
                person = self.people[candidate]
                if (candidate not in chosen and self._eligible(person, when, level)
                        and self._put_forward(person, applicant=len(chosen) < wanted)):
                    chosen.append(candidate)
                if len(chosen) >= wanted + viewers:
                    break
        applicants, others = chosen[:wanted], chosen[wanted:]
        if self.rnd.random() < 0.15:  # a wildcard from anywhere in the company
            candidate = below(self.rnd, len(self.people))
            person = self.people[candidate]
            if (candidate not in chosen and person.role != role
                    and self._eligible(person, when, level)
                    and self._put_forward(person, applicant=True)):
                applicants.append(candidate)
        return applicants, others

    def _put_forward(self, person: Person, *, applicant: bool) -> bool:
        """Sourcing bias: whether a drawn applicant is put forward (viewers are unaffected)."""
        if not applicant:
            return True
        keep = sourcing_keep_probability(self.params, person.in_bias_group, person.part_time)
        return keep >= 1.0 or self.rnd.random() < keep

    def _posting(self, role: int, kind: OpportunityKind, location: str) -> Posting:
        spec = self.catalog.roles[role]
        dept = self.dept_names[spec.role.department_id]
        if kind is OpportunityKind.OPEN_ROLE:
            return role_posting(self.catalog, spec, dept, location, self.rng)
        if kind is OpportunityKind.ROTATION:
            return rotation_posting(self.catalog, spec, dept, self.rng)
        if kind is OpportunityKind.GIG:
            return gig_posting(self.catalog, spec, dept, self.rng)
        return project_posting(self.catalog, [spec], dept, self.rng)

    # ---------------------------------------------------------------- one opening

    def opening(self, number: int, when: int) -> None:
        shortfall = np.maximum(self.target - self.count, 0.0)
        weights = 0.15 * self.target + 3.0 * shortfall + 1e-6
        role = int(self.rng.choice(len(weights), p=weights / weights.sum()))
        kind = (OpportunityKind.OPEN_ROLE if self.rng.random() < 0.85
                else SIDE_KINDS[int(self.rng.integers(len(SIDE_KINDS)))])
        applicants, viewers = self._candidates(role, when)
        spec = self.catalog.roles[role]
        fits = np.array([fit_score(self.people[i].skills, spec.skill_idx, spec.skill_weight, when)
                         for i in applicants])
        winner = None
        if applicants:
            in_group = np.array([self.people[i].in_bias_group for i in applicants])
            part_time = np.array([self.people[i].part_time for i in applicants])
            winner = choose(self.params, fits, in_group, part_time, self.rng)
        opp_id = f"H{self.first.openings + number + 1:07d}"
        location = (self.people[applicants[0]].location if applicants
                    else str(self.rng.choice(["London", "New York", "Berlin"])))
        posting = self._posting(role, kind, location)
        decided = min(when + int(self.rng.integers(30, 76)), self.as_of - 1)
        self.history.drafts.append(Draft(
            id=opp_id, kind=kind, title=posting.title, description=posting.description,
            department_id=spec.role.department_id, location=location, level=posting.level,
            status=OpportunityStatus.CLOSED if winner is None else OpportunityStatus.FILLED,
            posted_on=day(when), closes_on=day(when + 30), role_id=posting.role_id,
            skill_uris=posting.skill_uris,
            hours_per_week=time_commitment(kind, opp_id, self.params.seed,
                                           posting.hours_per_week),
        ))
        for k, person in enumerate(applicants):
            self.history.applications.append(
                Application(opp_id, person, float(fits[k]), k == winner, when))
        self._events(opp_id, when, applicants, viewers, winner, decided)
        if winner is not None and kind is OpportunityKind.OPEN_ROLE:
            self._move(self.people[applicants[winner]], role, decided, float(fits[winner]), opp_id)

    def _move(self, person: Person, role: int, when: int, fit: float, opp_id: str | None) -> None:
        spec, previous = self.catalog.roles[role], person.role
        promotion = spec.level > self.catalog.roles[previous].level
        outcome: int | None = None
        retained: bool | None = None
        if opp_id is not None and when + 365 <= self.as_of:
            quality = (self.params.outcome_fit_strength * (fit - self.params.outcome_fit_center)
                       + 0.4 * person.talent
                       + self.rng.normal(0.0, 0.8))
            outcome = 1 + int(np.searchsorted([-1.5, -0.5, 0.5, 1.5], quality))
            retained = bool(self.rng.random() < 1.0 / (1.0 + np.exp(-(1.3 + 0.8 * quality))))
            if not retained:
                back = when + int(self.rng.integers(120, 331))
                heapq.heappush(self.pending, (back, person.index, previous, len(self.pending)))
        self.history.moves.append(Move(
            id=f"M{self.first.moves + len(self.history.moves) + 1:07d}", employee_id=person.id,
            from_role_id=self.catalog.roles[previous].role.id, to_role_id=spec.role.id,
            opportunity_id=opp_id, moved_on=day(when), promotion=promotion,
            outcome_rating=outcome, retained_one_year=retained,
        ))
        self._relocate(person, role, when)
        if opp_id is not None:  # learning the new role's skills over the following year
            missing = ~np.isin(spec.skill_idx, person.skills.idx)
            size = len(spec.skill_idx)
            learn = missing & (self.rng.random(size) < 0.25 + 0.45 * spec.skill_weight)
            prof = np.clip(0.3 + 0.1 * person.talent + self.rng.normal(0, 0.1, size), 0.05, 0.9)
            since = when + self.rng.integers(30, 366, size)
            person.skills.merge(spec.skill_idx[learn], prof[learn], since[learn])

    def _events(self, opp_id: str, when: int, applicants: list[int], viewers: list[int],
                winner: int | None, decided: int) -> None:
        """Impressions for everyone shown the opening; clicks, applications, the acceptance."""
        add, rnd = self._event, self.rnd
        for person in [*applicants, *viewers]:
            add(EventKind.IMPRESSION, person, when + below(rnd, 8), opp_id)
        for person in viewers:
            if rnd.random() < 0.3:
                add(EventKind.CLICK, person, when + below(rnd, 10), opp_id)
            elif rnd.random() < 0.1:
                add(EventKind.NOT_INTERESTED, person, when + below(rnd, 10), opp_id)
        for k, person in enumerate(applicants):
            add(EventKind.APPLICATION, person, when + between(rnd, 1, 25), opp_id)
            if k == winner:
                add(EventKind.ACCEPTED_MOVE, person, decided, opp_id, "chosen")

    def _event(self, kind: EventKind, person: int, when: int, opp_id: str,
               detail: str = "") -> None:
        midnight = self.midnight.get(when)
        if midnight is None:
            midnight = datetime.combine(day(min(when, self.as_of)), datetime.min.time(),
                                        tzinfo=UTC)
            self.midnight[when] = midnight
        stamp = midnight + timedelta(minutes=between(self.rnd, 8 * 60, 19 * 60))
        self.history.events.append(Event(
            id=f"EV{self.first.events + len(self.history.events) + 1:08d}", kind=kind,
            employee_id=self.people[person].id, occurred_at=stamp, opportunity_id=opp_id,
            detail=detail,
        ))

    def reassign_until(self, when: int) -> None:
        """Movers who did not stay a year go back to their previous role."""
        while self.pending and self.pending[0][0] <= when:
            back_day, index, previous, _ = heapq.heappop(self.pending)
            self._move(self.people[index], previous, back_day, 0.0, None)


def simulate_history(catalog: Catalog, people: list[Person], params: SimulationParams,
                     rng: np.random.Generator,
                     tick: Callable[[int], object] = lambda _: None,
                     first: FirstIds = FirstIds()) -> History:
    """Run the window; ``people`` end in their roles on ``as_of``."""
    sim = _Simulator(catalog, people, params, rng, first)
    total = round(params.openings_per_employee_year * params.employees * params.years_of_history)
    days = np.sort(rng.integers(sim.start, sim.as_of - 45, total))
    for number, when in enumerate(days):
        sim.reassign_until(int(when))
        sim.opening(number, int(when))
        tick(1)
    sim.reassign_until(sim.as_of)
    return sim.history
