"""Opportunities open on ``as_of`` (every kind), their owners, and recent impressions and clicks."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import numpy as np

from features.domain import Event, EventKind, Opportunity, OpportunityKind, OpportunityStatus
from training.simulation.params import SimulationParams
from training.simulation.people import Person, day
from training.simulation.postings import (
    Draft,
    Posting,
    gig_posting,
    mentorship_posting,
    project_posting,
    role_posting,
    rotation_posting,
    time_commitment,
)
from training.simulation.roles import Catalog

KIND_SHARES = {
    OpportunityKind.OPEN_ROLE: 0.45, OpportunityKind.PROJECT: 0.15, OpportunityKind.GIG: 0.20,
    OpportunityKind.ROTATION: 0.08, OpportunityKind.MENTORSHIP: 0.12,
}


def current_openings(catalog: Catalog, people: list[Person], params: SimulationParams,
                     rng: np.random.Generator, first_id: int = 0) -> list[Draft]:
    """The opportunities open on ``as_of`` among ``people``; ids numbered from
    ``first_id + 1``."""
    as_of = params.as_of.toordinal()
    headcount = np.bincount([p.role for p in people], minlength=len(catalog.roles)) + 0.5
    weights = headcount / headcount.sum()
    families = catalog.family_roles()
    seniors = [p for p in people if catalog.roles[p.role].level >= 4
               and p.hired_on <= as_of - 3 * 365] or people
    dept_names = {d.id: d.name for d in catalog.departments}
    total = round(params.open_opportunities_per_employee * len(people))
    drafts: list[Draft] = []
    for kind, share in KIND_SHARES.items():
        for _ in range(max(3, round(share * total))):
            spec = catalog.roles[int(rng.choice(len(weights), p=weights))]
            dept = dept_names[spec.role.department_id]
            location = people[int(rng.integers(len(people)))].location
            mentor: Person | None = None
            posting: Posting
            if kind is OpportunityKind.OPEN_ROLE:
                posting = role_posting(catalog, spec, dept, location, rng)
            elif kind is OpportunityKind.ROTATION:
                posting = rotation_posting(catalog, spec, dept, rng)
            elif kind is OpportunityKind.GIG:
                posting = gig_posting(catalog, spec, dept, rng)
            elif kind is OpportunityKind.PROJECT:
                peers = families[spec.family]
                picks = rng.choice(peers, size=min(3, len(peers)), replace=False)
                posting = project_posting(catalog, [catalog.roles[int(i)] for i in picks], dept,
                                          rng)
            else:
                mentor = seniors[int(rng.integers(len(seniors)))]
                spec = catalog.roles[mentor.role]
                dept = dept_names[spec.role.department_id]
                location = mentor.location
                posting = mentorship_posting(catalog, spec, mentor.name, dept)
            opp_id = f"O{first_id + len(drafts) + 1:06d}"
            drafts.append(Draft(
                id=opp_id, kind=kind, title=posting.title,
                description=posting.description, department_id=spec.role.department_id,
                location=location, level=posting.level, status=OpportunityStatus.OPEN,
                posted_on=day(as_of - int(rng.integers(0, 61))),
                closes_on=day(as_of + int(rng.integers(14, 61))), role_id=posting.role_id,
                mentor_id=None if mentor is None else mentor.id, skill_uris=posting.skill_uris,
                hours_per_week=time_commitment(kind, opp_id, params.seed,
                                               posting.hours_per_week),
            ))
    return drafts


def assign_owners(drafts: list[Draft], catalog: Catalog, people: list[Person],
                  managers: dict[int, int], recruiters: set[int],
                  rnd: random.Random) -> list[Opportunity]:
    """Owner: the mentor for mentorships, else a recruiter or a hiring manager of the department."""
    by_dept: dict[str, list[str]] = defaultdict(list)
    for index in sorted(set(managers.values())):
        person = people[index]
        by_dept[catalog.roles[person.role].role.department_id].append(person.id)
    recruiter_ids = [people[i].id for i in sorted(recruiters)]
    result = []
    for draft in drafts:
        hiring = by_dept.get(draft.department_id)
        if draft.mentor_id is not None:
            owner = draft.mentor_id
        elif hiring and rnd.random() < 0.5:
            owner = hiring[rnd.randrange(len(hiring))]
        else:
            owner = recruiter_ids[rnd.randrange(len(recruiter_ids))]
        result.append(draft.build(owner))
    return result


def recent_interest(drafts: list[Draft], people: list[Person], as_of: int, first_id: int,
                    rnd: random.Random) -> list[Event]:
    """Impressions and clicks on the open opportunities since they were posted."""
    events: list[Event] = []
    for draft in drafts:
        posted = draft.posted_on.toordinal()
        for _ in range(rnd.randint(0, 8)):
            person = people[rnd.randrange(len(people))]
            when = datetime.combine(day(rnd.randint(posted, as_of)), datetime.min.time(),
                                    tzinfo=UTC) + timedelta(minutes=rnd.randint(480, 1140))
            kinds = [EventKind.IMPRESSION] + ([EventKind.CLICK] if rnd.random() < 0.3 else [])
            for kind in kinds:
                events.append(Event(id=f"EV{first_id + len(events):08d}", kind=kind,
                                    employee_id=person.id, occurred_at=when,
                                    opportunity_id=draft.id))
    return events
