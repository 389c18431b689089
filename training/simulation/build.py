"""Build the whole simulated organization from the reference data, deterministically from a seed."""

from __future__ import annotations

import gzip
import hashlib
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from features.domain import Organization
from features.taxonomy import ReferenceData
from training.simulation.courses import build_courses
from training.simulation.crosswalk import Crosswalk, build_crosswalk
from training.simulation.evidence import EvidenceWriter
from training.simulation.history import Application, simulate_history
from training.simulation.opportunities import assign_owners, current_openings, recent_interest
from training.simulation.orgchart import assign_managers, build_employees, pick_recruiters
from training.simulation.params import SimulationParams
from training.simulation.people import Person, build_people
from training.simulation.roles import build_catalog


def simulation_version(params: SimulationParams) -> str:
    """The organization's dataset version: a hash of every parameter *and* of the simulator's
    own code, so that a changed simulator rebuilds the demo organization (same code and
    parameters give the same organization, byte for byte)."""
    digest = hashlib.sha256(params.version().encode())
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:16]


@dataclass
class SimulationResult:
    """The organization plus what HR could never know: true skills and true applicant fit."""

    organization: Organization
    people: list[Person]
    skill_uris: list[str]
    applications: list[Application]
    crosswalk_stats: dict[str, int] = field(default_factory=dict)
    crosswalk: Crosswalk = field(default_factory=Crosswalk)
    """The O*NET -> ESCO mapping the roles' skills came from (published by ``waypoint
    simulate`` as ``models/crosswalk/onet_esco.csv``)."""

    def summary(self, params: SimulationParams) -> dict[str, Any]:
        org = self.organization
        moves = org.moves
        kinds: dict[str, int] = {}
        for opp in org.opportunities:
            key = f"{opp.kind.value}/{opp.status.value}"
            kinds[key] = kinds.get(key, 0) + 1
        return {
            "version": simulation_version(params),
            "params": params.model_dump(mode="json"),
            "counts": {name: len(getattr(org, name)) for name in type(org).model_fields},
            "crosswalk": self.crosswalk_stats,
            "onet_roles": len({r.onet_code for r in org.roles}),
            "opportunities": dict(sorted(kinds.items())),
            "moves_with_opportunity": sum(m.opportunity_id is not None for m in moves),
            "promotions": sum(m.promotion for m in moves),
            "applications": len(self.applications),
        }

    def write_truth(self, path: Path) -> None:
        """True skills per employee (indices into ``skill_uris``, proficiency, held since) and
        every historical applicant's true fit; gzip JSON, for evaluating the skills engine."""
        days = {int(d) for p in self.people for d in np.unique(p.skills.since)}
        iso = {d: date.fromordinal(d).isoformat() for d in days}
        payload = {
            "skill_uris": self.skill_uris,
            "employees": {
                p.id: {"skill": p.skills.idx.tolist(),
                       "proficiency": np.round(p.skills.prof.astype(np.float64), 3).tolist(),
                       "since": [iso[d] for d in p.skills.since.tolist()]}
                for p in self.people
            },
            "applications": [[a.opportunity_id, self.people[a.person].id, round(a.fit, 4),
                              a.chosen] for a in self.applications],
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(path, "wt", compresslevel=1) as handle:
            handle.write(json.dumps(payload, separators=(",", ":")))


def simulate(reference: ReferenceData, params: SimulationParams,
             progress: bool = False,
             overrides: Mapping[str, str | None] | None = None) -> SimulationResult:
    """Every part of the organization; see docs/simulation.md for how each part is made.
    ``overrides``: the HR admin's O*NET code -> ESCO occupation (or ``None``) overrides."""
    seeds = np.random.SeedSequence(params.seed).spawn(6)
    rngs = [np.random.default_rng(s) for s in seeds]
    rnd = random.Random(int(seeds[5].generate_state(1)[0]))
    codes = sorted({t.code for t in reference.onet_tasks})
    crosswalk = build_crosswalk(reference, codes, min_score=params.crosswalk_min_score,
                                overrides=overrides)
    catalog = build_catalog(reference, crosswalk, rngs[0])
    courses, course_for_skill = build_courses(reference, catalog, rngs[1])
    people = build_people(catalog, params, rngs[2])
    openings = round(params.openings_per_employee_year * params.employees
                     * params.years_of_history)
    with tqdm(total=openings, desc="history", unit="opening", disable=not progress) as bar:
        history = simulate_history(catalog, people, params, rngs[3], lambda n: bar.update(n))
    managers = assign_managers(catalog, people, rnd)
    recruiters = pick_recruiters(catalog, people, params, rnd)
    employees = build_employees(catalog, people, managers, recruiters, rnd)
    as_of = params.as_of.toordinal()
    start = as_of - int(365.25 * params.years_of_history)
    writer = EvidenceWriter(catalog, {c.id: (c.title, c.hours) for c in courses},
                            course_for_skill, as_of, start, rnd)
    for person in tqdm(people, desc="evidence", unit="employee", disable=not progress):
        manager = managers.get(person.index)
        writer.for_person(person, None if manager is None else people[manager])
    drafts = current_openings(catalog, people, params, rngs[4])
    opportunities = assign_owners([*history.drafts, *drafts], catalog, people, managers,
                                  recruiters, rnd)
    events = [*history.events,
              *recent_interest(drafts, people, as_of, len(history.events) + 1, rnd)]
    organization = Organization(
        departments=catalog.departments, roles=[s.role for s in catalog.roles],
        employees=employees, protected_attributes=[p.protected() for p in people],
        opportunities=opportunities, courses=courses, evidence=writer.rows,
        moves=history.moves, events=events,
    )
    return SimulationResult(organization, people, [s.uri for s in catalog.skills],
                            history.applications, crosswalk.stats(), crosswalk)


def simulate_organization(reference: ReferenceData, params: SimulationParams,
                          progress: bool = False) -> Organization:
    """The simulated organization alone (use `simulate` for the hidden truth too)."""
    return simulate(reference, params, progress).organization
