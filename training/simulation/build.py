"""Build the simulated organization from the reference data, deterministically from a seed.

An organization larger than ``shard_employees`` is simulated as independent divisions of at
most that many people each (docs/simulation.md, "Divisions"): the reference-derived parts (the
crosswalk, roles, departments, courses) are built once and shared, and each division's people,
history and open opportunities come from its own random streams, so `simulate_divisions` can
hand one division at a time to a writer and memory stays bounded by a division.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from features.domain import Course, Organization
from features.taxonomy import ReferenceData
from training.simulation.courses import build_courses
from training.simulation.crosswalk import Crosswalk, build_crosswalk
from training.simulation.evidence import EvidenceWriter
from training.simulation.history import Application, FirstIds, simulate_history
from training.simulation.opportunities import assign_owners, current_openings, recent_interest
from training.simulation.orgchart import assign_managers, build_employees, pick_recruiters
from training.simulation.params import SimulationParams
from training.simulation.people import Person, build_people
from training.simulation.roles import Catalog, build_catalog
from training.simulation.truth import TruthWriter


def simulation_version(params: SimulationParams) -> str:
    """The organization's dataset version: a hash of every parameter *and* of the simulator's
    own code, so that a changed simulator rebuilds the demo organization (same code and
    parameters give the same organization, byte for byte)."""
    digest = hashlib.sha256(params.version().encode())
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:16]


def division_sizes(employees: int, most: int) -> list[int]:
    """Headcount per division: as few divisions of at most ``most`` people as hold
    ``employees``, sizes as even as possible (larger first)."""
    count = -(-employees // most)
    base, extra = divmod(employees, count)
    return [base + 1] * extra + [base] * (count - extra)


@dataclass
class SimulationResult:
    """The organization plus what HR could never know: true skills and true applicant fit.

    From `simulate_divisions`, one division: ``organization`` holds that division's rows (the
    first one also the departments, roles and courses), ``applications`` index its ``people``."""

    organization: Organization
    people: list[Person]
    skill_uris: list[str]
    applications: list[Application]
    crosswalk_stats: dict[str, int] = field(default_factory=dict)
    crosswalk: Crosswalk = field(default_factory=Crosswalk)
    """The O*NET -> ESCO mapping the roles' skills came from (published by ``waypoint
    simulate`` as ``models/crosswalk/onet_esco.csv``)."""

    def summary(self, params: SimulationParams) -> dict[str, Any]:
        tally = Tally()
        tally.add(self)
        return tally.summary(params, self.crosswalk_stats)

    def write_truth(self, path: Path) -> None:
        """True skills per employee (indices into ``skill_uris``, proficiency, held since) and
        every historical applicant's true fit; gzip JSON, for evaluating the skills engine
        (`training.simulation.truth`)."""
        with TruthWriter(path) as writer:
            writer.add(self.skill_uris, self.people, self.applications)


@dataclass
class Tally:
    """The summary's figures, added up division by division."""

    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(Organization.model_fields, 0))
    opportunities: dict[str, int] = field(default_factory=dict)
    onet_roles: set[str | None] = field(default_factory=set)
    moves_with_opportunity: int = 0
    promotions: int = 0
    applications: int = 0
    divisions: int = 0

    def add(self, part: SimulationResult) -> None:
        org = part.organization
        for name in self.counts:
            self.counts[name] += len(getattr(org, name))
        for opp in org.opportunities:
            key = f"{opp.kind.value}/{opp.status.value}"
            self.opportunities[key] = self.opportunities.get(key, 0) + 1
        self.onet_roles.update(r.onet_code for r in org.roles)
        self.moves_with_opportunity += sum(m.opportunity_id is not None for m in org.moves)
        self.promotions += sum(m.promotion for m in org.moves)
        self.applications += len(part.applications)
        self.divisions += 1

    def summary(self, params: SimulationParams, crosswalk: dict[str, int]) -> dict[str, Any]:
        return {
            "version": simulation_version(params),
            "params": params.model_dump(mode="json"),
            "counts": dict(self.counts),
            "crosswalk": crosswalk,
            "onet_roles": len(self.onet_roles),
            "opportunities": dict(sorted(self.opportunities.items())),
            "moves_with_opportunity": self.moves_with_opportunity,
            "promotions": self.promotions,
            "applications": self.applications,
            "divisions": self.divisions,
        }


@dataclass(frozen=True, slots=True)
class Numbering:
    """Where a division's numbered ids start: the previous divisions' counts (0 for the first)."""

    employees: int = 0
    evidence: int = 0
    current: int = 0
    """Opportunities open on ``as_of`` (``O`` ids)."""
    history: FirstIds = field(default_factory=FirstIds)


def _streams(seed: int, divisions: int) -> tuple[list[np.random.SeedSequence],
                                                  list[list[np.random.SeedSequence]]]:
    """(the roles' and courses' streams, each division's four: people, history, open
    opportunities, text and org chart). The first division takes the streams one organization
    always had, so an organization of one division is the one this seed always gave; each
    further division splits one more child of the seed's sequence."""
    root = np.random.SeedSequence(seed)
    seeds = root.spawn(6)
    extra = [child.spawn(4) for child in root.spawn(divisions - 1)]
    return seeds[:2], [seeds[2:6], *extra]


def _division(catalog: Catalog, courses: list[Course], course_for_skill: dict[int, list[str]],
              params: SimulationParams, seeds: Sequence[np.random.SeedSequence],
              first: Numbering, progress: bool) -> tuple[SimulationResult, Numbering]:
    """One division of ``params.employees`` people; the ids to start the next one at."""
    people_rng, history_rng, openings_rng = (np.random.default_rng(s) for s in seeds[:3])
    rnd = random.Random(int(seeds[3].generate_state(1)[0]))
    people = build_people(catalog, params, people_rng, first.employees)
    openings = round(params.openings_per_employee_year * params.employees
                     * params.years_of_history)
    with tqdm(total=openings, desc="history", unit="opening", disable=not progress,
              leave=False) as bar:
        history = simulate_history(catalog, people, params, history_rng,
                                   lambda n: bar.update(n), first.history)
    managers = assign_managers(catalog, people, rnd)
    recruiters = pick_recruiters(catalog, people, params, rnd)
    employees = build_employees(catalog, people, managers, recruiters, rnd)
    as_of = params.as_of.toordinal()
    start = as_of - int(365.25 * params.years_of_history)
    writer = EvidenceWriter(catalog, {c.id: (c.title, c.hours) for c in courses},
                            course_for_skill, as_of, start, rnd, first.evidence)
    for person in tqdm(people, desc="evidence", unit="employee", disable=not progress,
                       leave=False):
        manager = managers.get(person.index)
        writer.for_person(person, None if manager is None else people[manager])
    drafts = current_openings(catalog, people, params, openings_rng, first.current)
    opportunities = assign_owners([*history.drafts, *drafts], catalog, people, managers,
                                  recruiters, rnd)
    first_event = first.history.events + len(history.events) + 1
    events = [*history.events, *recent_interest(drafts, people, as_of, first_event, rnd)]
    organization = Organization(
        employees=employees, protected_attributes=[p.protected() for p in people],
        opportunities=opportunities, evidence=writer.rows, moves=history.moves, events=events,
    )
    after = Numbering(
        employees=first.employees + len(people), evidence=first.evidence + len(writer.rows),
        current=first.current + len(drafts),
        history=FirstIds(openings=first.history.openings + len(history.drafts),
                         moves=first.history.moves + len(history.moves),
                         events=first.history.events + len(events)))
    result = SimulationResult(organization, people, [s.uri for s in catalog.skills],
                              history.applications)
    return result, after


def simulate_divisions(reference: ReferenceData, params: SimulationParams,
                       progress: bool = False,
                       overrides: Mapping[str, str | None] | None = None
                       ) -> Iterator[SimulationResult]:
    """The organization one division at a time (see the module; docs/simulation.md). The
    first part also holds the departments, roles and courses; every part carries the crosswalk.
    A consumer that drops each part before asking for the next holds one division at a time.
    ``overrides``: the HR admin's O*NET code -> ESCO occupation (or ``None``) overrides."""
    sizes = division_sizes(params.employees, params.shard_employees)
    shared, divisions = _streams(params.seed, len(sizes))
    codes = sorted({t.code for t in reference.onet_tasks})
    crosswalk = build_crosswalk(reference, codes, min_score=params.crosswalk_min_score,
                                overrides=overrides)
    catalog = build_catalog(reference, crosswalk, np.random.default_rng(shared[0]))
    courses, course_for_skill = build_courses(reference, catalog,
                                              np.random.default_rng(shared[1]))
    stats = crosswalk.stats()
    first = Numbering()
    for number, (size, seeds) in enumerate(zip(sizes, divisions, strict=True)):
        part, first = _division(catalog, courses, course_for_skill,
                                params.model_copy(update={"employees": size}), seeds, first,
                                progress)
        if number == 0:
            part.organization.departments = catalog.departments
            part.organization.roles = [s.role for s in catalog.roles]
            part.organization.courses = courses
        part.crosswalk_stats, part.crosswalk = stats, crosswalk
        yield part
        del part  # the consumer's reference is the only one left while the next is built


def merge(parts: Sequence[SimulationResult]) -> SimulationResult:
    """Divisions as one organization (people renumbered in order; applications follow)."""
    if len(parts) == 1:
        return parts[0]
    org = Organization(**{name: [row for part in parts
                                 for row in getattr(part.organization, name)]
                          for name in Organization.model_fields})
    people: list[Person] = []
    applications: list[Application] = []
    for part in parts:
        offset = len(people)
        people += [dataclasses.replace(p, index=p.index + offset) for p in part.people]
        applications += [dataclasses.replace(a, person=a.person + offset)
                         for a in part.applications]
    head = parts[0]
    return SimulationResult(org, people, head.skill_uris, applications, head.crosswalk_stats,
                            head.crosswalk)


def simulate(reference: ReferenceData, params: SimulationParams,
             progress: bool = False,
             overrides: Mapping[str, str | None] | None = None) -> SimulationResult:
    """Every part of the organization in memory; see docs/simulation.md for how each part is
    made. ``overrides``: the HR admin's O*NET code -> ESCO occupation (or ``None``) overrides.
    `simulate_divisions` streams it instead."""
    return merge(list(simulate_divisions(reference, params, progress, overrides)))


def simulate_organization(reference: ReferenceData, params: SimulationParams,
                          progress: bool = False) -> Organization:
    """The simulated organization alone (use `simulate` for the hidden truth too)."""
    return simulate(reference, params, progress).organization
