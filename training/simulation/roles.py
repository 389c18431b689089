"""Roles, job families and departments from O*NET occupations, with skills from the crosswalk."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from features.domain import Department, Role, Skill
from features.taxonomy import ReferenceData
from training.simulation.crosswalk import Crosswalk
from training.simulation.text import singular_title

# SOC 2018 major groups (the first two digits of an O*NET-SOC code).
JOB_FAMILIES: dict[str, str] = {
    "11": "Management", "13": "Business and Financial Operations",
    "15": "Computer and Mathematical", "17": "Architecture and Engineering",
    "19": "Life, Physical, and Social Science", "21": "Community and Social Service",
    "23": "Legal", "25": "Educational Instruction and Library",
    "27": "Arts, Design, Entertainment, Sports, and Media",
    "29": "Healthcare Practitioners and Technical", "31": "Healthcare Support",
    "33": "Protective Service", "35": "Food Preparation and Serving Related",
    "37": "Building and Grounds Cleaning and Maintenance", "39": "Personal Care and Service",
    "41": "Sales and Related", "43": "Office and Administrative Support",
    "45": "Farming, Fishing, and Forestry", "47": "Construction and Extraction",
    "49": "Installation, Maintenance, and Repair", "51": "Production",
    "53": "Transportation and Material Moving", "55": "Military Specific",
}
# Departments group job families; management occupations join the department of their
# most frequent Career Changers neighbours (see `_management_department`).
DEPARTMENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "dept-exec": ("Executive Office and Strategy", ("11",)),
    "dept-finance": ("Finance, Legal and Business Operations", ("13", "23")),
    "dept-tech": ("Technology and Data", ("15",)),
    "dept-eng": ("Engineering and Research", ("17", "19")),
    "dept-people": ("People, Learning and Community", ("21", "25")),
    "dept-media": ("Brand, Media and Design", ("27",)),
    "dept-health": ("Health Services", ("29", "31")),
    "dept-safety": ("Security and Safety", ("33", "55")),
    "dept-hospitality": ("Hospitality and Facilities", ("35", "37", "39")),
    "dept-sales": ("Sales and Customer Operations", ("41", "43")),
    "dept-field": ("Field and Construction Operations", ("45", "47")),
    "dept-maintenance": ("Maintenance and Repair", ("49",)),
    "dept-manufacturing": ("Manufacturing", ("51",)),
    "dept-logistics": ("Logistics and Transportation", ("53",)),
}
FAMILY_DEPARTMENT = {fam: dept for dept, (_, fams) in DEPARTMENTS.items() for fam in fams}
RECRUITER_CODES = ("13-1071.00", "11-3121.00")
"""Human Resources Specialists and Managers: the employees who may act as recruiters."""


@dataclass
class RoleSpec:
    """A role plus what the simulator needs about it (skills as indices into the skill table)."""

    index: int
    role: Role
    code: str
    family: str
    skill_idx: np.ndarray
    skill_weight: np.ndarray
    essential: np.ndarray
    tasks: list[str]
    technologies: list[str]

    @property
    def level(self) -> int:
        return self.role.level

    @property
    def total_weight(self) -> float:
        """Sum of the skill weights (1.0 for a role without skills, to divide by safely)."""
        return float(self.skill_weight.sum()) or 1.0


@dataclass
class Catalog:
    departments: list[Department]
    roles: list[RoleSpec]
    skills: list[Skill]
    skill_index: dict[str, int]
    cc_targets: dict[int, list[int]] = field(default_factory=dict)
    """Career Changers Matrix as role indices: source role -> target roles, best first."""
    _families: dict[str, list[int]] = field(default_factory=dict)

    def role_by_code(self) -> dict[str, int]:
        return {spec.code: spec.index for spec in self.roles}

    def family_roles(self) -> dict[str, list[int]]:
        if not self._families:
            for spec in self.roles:
                self._families.setdefault(spec.family, []).append(spec.index)
        return self._families


def _management_department(code: str, neighbours: dict[str, list[str]]) -> str:
    votes = Counter(
        FAMILY_DEPARTMENT[n[:2]] for n in neighbours.get(code, ())
        if n[:2] != "11" and n[:2] in FAMILY_DEPARTMENT
    )
    if not votes:
        return "dept-exec"
    return sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]


def describe_role(title: str, department: str, description: str, tasks: list[str],
                  technologies: list[str]) -> str:
    """A job description from the occupation's real description, tasks and technologies."""
    parts = [f"{title}, {department}.", "", description.strip(), "", "What you will do:"]
    parts += [f"- {task.strip()}" for task in tasks]
    if technologies:
        parts += ["", "Tools and technologies: " + ", ".join(technologies) + "."]
    return "\n".join(parts)


def _pick_tasks(core: list[str], supplemental: list[str], rng: np.random.Generator) -> list[str]:
    count = int(rng.integers(5, 9))
    chosen = core[:count]
    if len(chosen) < count:
        chosen += supplemental[: count - len(chosen)]
    return chosen


def build_catalog(reference: ReferenceData, crosswalk: Crosswalk,
                  rng: np.random.Generator) -> Catalog:
    """One role per O*NET occupation that has task statements, in O*NET code order."""
    skills = sorted(reference.skills, key=lambda s: s.uri)
    skill_index = {s.uri: i for i, s in enumerate(skills)}
    core: dict[str, list[str]] = defaultdict(list)
    supplemental: dict[str, list[str]] = defaultdict(list)
    for task in sorted(reference.onet_tasks, key=lambda t: (t.code, t.task_id)):
        (core if task.core else supplemental)[task.code].append(task.task)
    techs: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for item in reference.onet_technology:
        techs[item.code].append((-(2 * item.hot + item.in_demand), item.example))
    neighbours: dict[str, list[str]] = defaultdict(list)
    for change in reference.career_changers:
        neighbours[change.source].append(change.target)
        neighbours[change.target].append(change.source)

    occupations = sorted(
        (o for o in reference.onet_occupations if core.get(o.code) or supplemental.get(o.code)),
        key=lambda o: o.code,
    )
    departments = [Department(id=d, name=name) for d, (name, _) in DEPARTMENTS.items()]
    dept_names = {d.id: d.name for d in departments}
    specs: list[RoleSpec] = []
    for index, occ in enumerate(occupations):
        family = occ.code[:2]
        dept = (_management_department(occ.code, neighbours) if family == "11"
                else FAMILY_DEPARTMENT.get(family, "dept-exec"))
        order = rng.permutation(len(core[occ.code]))
        tasks = _pick_tasks([core[occ.code][i] for i in order], supplemental[occ.code], rng)
        tech = list(dict.fromkeys(e for _, e in sorted(techs[occ.code])))[:6]
        links = [link for link in crosswalk.skills.get(occ.code, [])
                 if link.skill_uri in skill_index]
        links.sort(key=lambda link: skill_index[link.skill_uri])
        title = singular_title(occ.title)
        role = Role(
            id=f"role-{occ.code}", title=title, onet_code=occ.code,
            level=occ.job_zone or 3, job_family=JOB_FAMILIES.get(family, "Other"),
            department_id=dept,
            description=describe_role(title, dept_names[dept],
                                      occ.description, tasks, tech),
        )
        specs.append(RoleSpec(
            index=index, role=role, code=occ.code, family=family,
            skill_idx=np.array([skill_index[link.skill_uri] for link in links], dtype=np.int32),
            skill_weight=np.array([link.weight for link in links], dtype=np.float32),
            essential=np.array([link.essential for link in links], dtype=bool),
            tasks=tasks, technologies=tech,
        ))
    catalog = Catalog(departments=departments, roles=specs, skills=skills, skill_index=skill_index)
    by_code = catalog.role_by_code()
    ranked: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for change in reference.career_changers:
        if change.source in by_code and change.target in by_code:
            ranked[by_code[change.source]].append((change.rank, by_code[change.target]))
    catalog.cc_targets = {src: [t for _, t in sorted(v)] for src, v in sorted(ranked.items())}
    return catalog
