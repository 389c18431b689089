"""Small real-data factories for the domain model: ``make_x(**overrides)`` returns a valid object.

Every factory fills sensible defaults and takes any field as a keyword override, so a test states
only what it cares about. Ids default to a per-kind counter (``emp-1``, ``role-1``...), which keeps
objects distinct without the test naming them. ``make_org`` builds a tiny but coherent
organization (roles over two job families, employees, opportunities, evidence, moves, events) for
tests that need a whole world.
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from features.domain import (
    Course,
    Department,
    Employee,
    EmployeeProfile,
    Event,
    EventKind,
    Evidence,
    EvidenceKind,
    Move,
    Opportunity,
    OpportunityKind,
    OpportunityStatus,
    Organization,
    ProfileEntry,
    ProtectedAttributes,
    Requirement,
    RequirementProfile,
    Role,
    Sex,
)

_counters: dict[str, itertools.count[int]] = defaultdict(lambda: itertools.count(1))

SKILL = "http://data.europa.eu/esco/skill/"
SKILLS = tuple(f"{SKILL}s{i:02d}" for i in range(40))
"""Forty fake but well-formed ESCO skill URIs."""


def next_id(prefix: str) -> str:
    return f"{prefix}-{next(_counters[prefix])}"


def make_department(**overrides: Any) -> Department:
    fields: dict[str, Any] = {"id": next_id("dept"), "name": "Engineering"}
    fields.update(overrides)
    return Department(**fields)


def make_role(**overrides: Any) -> Role:
    fields: dict[str, Any] = {
        "id": next_id("role"), "title": "Software Developer", "onet_code": "15-1252.00",
        "level": 2, "job_family": "engineering", "department_id": "dept-eng",
        "description": "Designs, writes and tests software applications.",
    }
    fields.update(overrides)
    return Role(**fields)


def make_employee(**overrides: Any) -> Employee:
    fields: dict[str, Any] = {
        "id": next_id("emp"), "name": "Alex Doe", "role_id": "role-1", "level": 2,
        "hired_on": date(2019, 3, 1), "role_since": date(2021, 6, 1),
        "department_id": "dept-eng", "location": "Lisbon", "manager_id": None,
        "aspirations": "I want to grow into data engineering and lead projects.",
        "discoverable": True,
    }
    fields.update(overrides)
    return Employee(**fields)


def make_protected(**overrides: Any) -> ProtectedAttributes:
    fields: dict[str, Any] = {"employee_id": "emp-1", "sex": Sex.FEMALE,
                              "race_ethnicity": "unknown", "age_band": "30-39"}
    fields.update(overrides)
    return ProtectedAttributes(**fields)


def make_opportunity(**overrides: Any) -> Opportunity:
    fields: dict[str, Any] = {
        "id": next_id("opp"), "kind": OpportunityKind.OPEN_ROLE, "title": "Data Engineer",
        "description": "Build data pipelines and warehouse models.", "department_id": "dept-eng",
        "location": "Lisbon", "level": 3, "status": OpportunityStatus.OPEN,
        "posted_on": date(2024, 1, 10), "closes_on": None, "role_id": None,
        "skill_uris": SKILLS[:3],
    }
    fields.update(overrides)
    return Opportunity(**fields)


def make_evidence(**overrides: Any) -> Evidence:
    fields: dict[str, Any] = {
        "id": next_id("ev"), "employee_id": "emp-1", "kind": EvidenceKind.MANAGER_ENDORSEMENT,
        "occurred_on": date(2023, 5, 1), "text": "Strong at SQL.", "skill_uri": SKILLS[0],
        "rating": 4,
    }
    fields.update(overrides)
    return Evidence(**fields)


def make_course(**overrides: Any) -> Course:
    fields: dict[str, Any] = {"id": next_id("course"), "title": "SQL for analysts",
                              "description": "Queries, joins, windows.",
                              "skill_uris": SKILLS[:2], "hours": 8}
    fields.update(overrides)
    return Course(**fields)


def make_move(**overrides: Any) -> Move:
    fields: dict[str, Any] = {
        "id": next_id("move"), "employee_id": "emp-1", "from_role_id": "role-1",
        "to_role_id": "role-2", "opportunity_id": None, "moved_on": date(2023, 9, 1),
        "promotion": False, "outcome_rating": 4, "retained_one_year": True,
    }
    fields.update(overrides)
    return Move(**fields)


def make_event(**overrides: Any) -> Event:
    fields: dict[str, Any] = {
        "id": next_id("event"), "kind": EventKind.APPLICATION, "employee_id": "emp-1",
        "occurred_at": datetime(2023, 8, 1, 9, 0), "opportunity_id": "opp-1",
    }
    fields.update(overrides)
    return Event(**fields)


def make_profile(employee_id: str = "emp-1", as_of: date = date(2024, 1, 1),
                 skills: dict[str, float] | None = None,
                 confidence: float = 0.8) -> EmployeeProfile:
    skills = skills if skills is not None else {SKILLS[0]: 0.7, SKILLS[1]: 0.4}
    return EmployeeProfile(employee_id=employee_id, as_of=as_of, entries=tuple(
        ProfileEntry(skill_uri=uri, proficiency=p, confidence=confidence)
        for uri, p in skills.items()))


def make_requirements(subject_id: str = "role-1",
                      skills: dict[str, tuple[float, float, bool]] | None = None
                      ) -> RequirementProfile:
    """``skills``: uri -> (importance, level, essential)."""
    skills = skills if skills is not None else {SKILLS[0]: (1.0, 0.6, True),
                                                SKILLS[1]: (0.5, 0.5, False)}
    return RequirementProfile(subject_id=subject_id, requirements=tuple(
        Requirement(skill_uri=uri, importance=i, level=lv, essential=e)
        for uri, (i, lv, e) in skills.items()))


# --------------------------------------------------------------------------- a tiny organization

FAMILIES = {
    "engineering": ("15-1252.00", SKILLS[0:10]),
    "data": ("15-2051.00", SKILLS[8:18]),
    "finance": ("13-2011.00", SKILLS[20:30]),
}


def make_org(seed: int = 0, employees: int = 60, start: date = date(2021, 1, 1),
             years: int = 3) -> Organization:
    """A coherent little company whose past moves follow skill fit (so a ranker can learn).

    Roles: three job families x levels 1-4. Each employee's endorsements lean towards the skills
    of their family; each historical opportunity (one per move) draws a few applicants, and the
    one with the best fit to the opportunity's skills moves (thriving when the fit is high).
    """
    rng = random.Random(seed)
    org = Organization(departments=[make_department(id="dept-eng", name="Engineering"),
                                    make_department(id="dept-fin", name="Finance")])
    for family, (code, _skills) in FAMILIES.items():
        for level in range(1, 5):
            org.roles.append(make_role(
                id=f"role-{family}-{level}", title=f"{family.title()} L{level}", onet_code=code,
                level=level, job_family=family,
                department_id="dept-fin" if family == "finance" else "dept-eng",
                description=f"{family} work at level {level}"))
    roles = {r.id: r for r in org.roles}
    fams = list(FAMILIES)
    for i in range(employees):
        family = fams[i % len(fams)]
        level = rng.randint(1, 3)
        role = roles[f"role-{family}-{level}"]
        hired = start - timedelta(days=rng.randint(100, 2000))
        org.employees.append(make_employee(
            id=f"e{i:03d}", role_id=role.id, level=level, hired_on=hired, role_since=hired,
            department_id=role.department_id, location=rng.choice(["Lisbon", "Porto"]),
            aspirations=rng.choice([f"grow in {f}" for f in fams]),
            discoverable=rng.random() > 0.1, part_time=rng.random() < 0.2))
    for emp in org.employees:
        family = roles[emp.role_id].job_family
        own = FAMILIES[family][1]
        for j in range(rng.randint(3, 8)):
            uri = rng.choice(own) if rng.random() < 0.8 else rng.choice(SKILLS)
            org.evidence.append(make_evidence(
                id=f"ev-{emp.id}-{j}", employee_id=emp.id,
                kind=rng.choice([EvidenceKind.MANAGER_ENDORSEMENT, EvidenceKind.SELF_DECLARED]),
                occurred_on=start + timedelta(days=rng.randint(-300, 365 * years)),
                skill_uri=uri, rating=rng.randint(2, 5)))
    for c in range(4):
        org.courses.append(make_course(id=f"course-{c}", skill_uris=tuple(rng.sample(SKILLS, 3))))
    state = {e.id: (e.role_id, e.hired_on) for e in org.employees}
    n_moves = employees // 2
    for m in range(n_moves):
        day = start + timedelta(days=int((365 * years - 30) * (m + 1) / (n_moves + 1)))
        family = rng.choice(fams)
        level = rng.randint(2, 4)
        role = roles[f"role-{family}-{level}"]
        skills = tuple(rng.sample(FAMILIES[family][1], 4))
        opp = make_opportunity(
            id=f"hopp-{m}", kind=OpportunityKind.OPEN_ROLE, title=role.title,
            description=f"{family} opening", department_id=role.department_id,
            location="Lisbon", level=level, status=OpportunityStatus.FILLED,
            posted_on=day - timedelta(days=30), closes_on=day, role_id=role.id, skill_uris=skills)
        org.opportunities.append(opp)

        def fit(emp_id: str, skills: tuple[str, ...] = skills, day: date = day) -> float:
            return sum(1.0 for ev in org.evidence if ev.employee_id == emp_id
                       and ev.occurred_on < day and ev.skill_uri in skills)

        pool = [e for e in org.employees if state[e.id][0] != role.id and state[e.id][1] < day]
        applicants = rng.sample(pool, min(5, len(pool)))
        for a in applicants:
            org.events.append(make_event(
                id=f"app-{m}-{a.id}", kind=EventKind.APPLICATION, employee_id=a.id,
                occurred_at=datetime.combine(day - timedelta(days=10), time(9)),
                opportunity_id=opp.id))
        winner = max(applicants, key=lambda e: (fit(e.id), e.id))
        best = fit(winner.id)
        org.moves.append(make_move(
            id=f"move-{m}", employee_id=winner.id, from_role_id=state[winner.id][0],
            to_role_id=role.id, opportunity_id=opp.id, moved_on=day,
            promotion=level > roles[state[winner.id][0]].level,
            outcome_rating=5 if best >= 3 else 3, retained_one_year=best >= 2))
        org.events.append(make_event(
            id=f"acc-{m}", kind=EventKind.ACCEPTED_MOVE, employee_id=winner.id,
            occurred_at=datetime.combine(day, time(9)), opportunity_id=opp.id))
        state[winner.id] = (role.id, state[winner.id][1])
    # employees' current snapshot reflects their last move
    last_role = {mv.employee_id: mv for mv in sorted(org.moves, key=lambda mv: mv.moved_on)}
    org.employees = [
        e.model_copy(update={"role_id": mv.to_role_id, "role_since": mv.moved_on,
                             "level": roles[mv.to_role_id].level,
                             "department_id": roles[mv.to_role_id].department_id})
        if (mv := last_role.get(e.id)) else e for e in org.employees]
    open_day = start + timedelta(days=365 * years)
    for k in range(6):
        family = fams[k % 3]
        org.opportunities.append(make_opportunity(
            id=f"open-{k}", kind=list(OpportunityKind)[k % 5], title=f"{family} opening {k}",
            level=1 + k % 4, location=["Lisbon", "Porto"][k % 2], posted_on=open_day,
            role_id=f"role-{family}-{1 + k % 4}", skill_uris=FAMILIES[family][1][:4]))
    return org
