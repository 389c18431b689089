"""The final org chart: managers inside departments, recruiters, aspirations, Employee rows."""

from __future__ import annotations

import random
from collections import defaultdict

from features.domain import Employee, Skill, SkillType
from training.simulation.params import SimulationParams
from training.simulation.people import Person, day
from training.simulation.roles import RECRUITER_CODES, Catalog
from training.simulation.text import gerund

SPAN = 7
ASPIRATIONS = (
    "I would like to move into a {target} role in the next two years, building on my "
    "experience with {a}.",
    "Long term I see myself as a {target}. I want to get better at {a} and {b}.",
    "Interested in {target} opportunities; keen to get more experience with {a}.",
    "I enjoy my work as a {current} and want to grow towards {target}, especially {a}.",
    "Open to projects and gigs that involve {a} or {b}; eventually a {target} position.",
    "My goal is a {target} role. I'd like a mentor who can help me with {b}.",
)
CONTENT = (
    "Happy in my current role for now; open to mentoring others.",
    "No specific plans yet. I'd like to deepen my expertise as a {current}.",
)


def skill_phrase(skill: Skill) -> str:
    """A skill as a noun phrase: knowledge as is, competences as a gerund."""
    return skill.label if skill.skill_type is SkillType.KNOWLEDGE else gerund(skill.label)


def assign_managers(catalog: Catalog, people: list[Person], rnd: random.Random) -> dict[int, int]:
    """Person index -> manager index: a SPAN-ary tree per department, seniors at the top."""
    by_dept: dict[str, list[Person]] = defaultdict(list)
    for person in people:
        by_dept[catalog.roles[person.role].role.department_id].append(person)
    managers: dict[int, int] = {}
    for dept in sorted(by_dept):
        staff = by_dept[dept]
        rnd.shuffle(staff)
        staff.sort(key=lambda p: (catalog.roles[p.role].family != "11",
                                  -catalog.roles[p.role].level, p.hired_on))
        for position in range(1, len(staff)):
            managers[staff[position].index] = staff[(position - 1) // SPAN].index
    return managers


def pick_recruiters(catalog: Catalog, people: list[Person], params: SimulationParams,
                    rnd: random.Random) -> set[int]:
    recruiters = {p.index for p in people if catalog.roles[p.role].code in RECRUITER_CODES}
    wanted = max(1, round(params.recruiter_share * len(people)))
    others = [p.index for p in people if p.index not in recruiters]
    rnd.shuffle(others)
    recruiters.update(others[: max(0, wanted - len(recruiters))])
    return recruiters


def aspiration(catalog: Catalog, person: Person, rnd: random.Random) -> str:
    spec = catalog.roles[person.role]
    current = spec.role.title
    if rnd.random() < 0.1:
        return CONTENT[rnd.randrange(len(CONTENT))].format(current=current)
    options = catalog.cc_targets.get(person.role) or [
        r for r in catalog.family_roles()[spec.family] if r != person.role] or [person.role]
    target = catalog.roles[options[rnd.randrange(min(len(options), 5))]]
    a, b = "new skills", "new skills"
    if len(target.skill_idx):
        picks = target.skill_idx
        a = skill_phrase(catalog.skills[int(picks[rnd.randrange(len(picks))])])
        b = skill_phrase(catalog.skills[int(picks[rnd.randrange(len(picks))])])
    template = ASPIRATIONS[rnd.randrange(len(ASPIRATIONS))]
    return template.format(target=target.role.title, current=current, a=a, b=b)


def build_employees(catalog: Catalog, people: list[Person], managers: dict[int, int],
                    recruiters: set[int], rnd: random.Random) -> list[Employee]:
    employees = []
    for person in people:
        spec = catalog.roles[person.role]
        manager = managers.get(person.index)
        employees.append(Employee(
            id=person.id, name=person.name, role_id=spec.role.id, level=spec.level,
            hired_on=day(person.hired_on), role_since=day(person.role_since),
            department_id=spec.role.department_id, location=person.location,
            manager_id=None if manager is None else people[manager].id,
            aspirations=aspiration(catalog, person, rnd), discoverable=person.discoverable,
            part_time=person.part_time, is_recruiter=person.index in recruiters,
        ))
    return employees
