"""The simulated workforce: identities, protected attributes, hire dates, starting roles, skills."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from features.domain import ProtectedAttributes, Sex, SkillType
from training.simulation.params import SimulationParams
from training.simulation.roles import RECRUITER_CODES, Catalog
from training.simulation.skillsets import SkillSet


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FEMALE_NAMES = _words(
    "Olivia Emma Amelia Sophia Ava Isabella Mia Charlotte Harper Grace Chloe Zoe Lily Hannah "
    "Aisha Fatima Priya Ananya Mei Yuki Sakura Ji-woo Nadia Sofia Lucia Camila Valentina Ingrid "
    "Freya Maja Elena Maria Ana Leila Amara Nkechi Zainab Chiara Giulia Claire Julia Laura Sarah "
    "Rachel Naomi Ruth Esther Alice Helen Irene Beatriz Carmen Rosa Thandiwe Ama Abena Kiri"
)
MALE_NAMES = _words(
    "Liam Noah Oliver James Elijah William Henry Lucas Benjamin Theodore Jack Samuel Daniel "
    "Mohammed Omar Ali Arjun Rohan Vikram Wei Hiroshi Kenji Min-jun Mateo Diego Javier Luca "
    "Marco Lars Erik Jonas Nikolai Ivan Dmitri Kwame Kofi Chinedu Tunde Ahmed Yusuf Pierre "
    "Louis Thomas David Michael Joseph Peter Paul Andrew Simon Carlos Miguel Rafael Tane Sipho"
)
NEUTRAL_NAMES = _words("Alex Sam Jordan Taylor Morgan Robin Jamie Kai Noor Ariel Sasha Riley")
SURNAMES = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Thompson White Harris Clark Lewis "
    "Robinson Walker Young Allen King Wright Scott Nguyen Hill Green Adams Baker Nelson Carter "
    "Mitchell Perez Roberts Turner Phillips Campbell Parker Evans Edwards Collins Stewart Morris "
    "Murphy Cook Rogers Morgan Peterson Cooper Reed Bailey Bell Kim Park Chen Wang Li Zhang Liu "
    "Singh Patel Kumar Shah Gupta Khan Ahmed Hassan Ali Okafor Mensah Adeyemi Diallo Mbeki "
    "Schmidt Muller Weber Fischer Rossi Bianchi Dubois Moreau Silva Santos Costa Novak Kowalski "
    "Jansen Hansen Larsen Nilsson Tanaka Suzuki Sato Yamamoto Ivanova Petrov Cohen Levi O'Brien"
)
NAMES = {Sex.FEMALE: FEMALE_NAMES, Sex.MALE: MALE_NAMES}
RACE_ETHNICITY = {
    "White": 0.52, "Hispanic or Latino": 0.14, "Black or African American": 0.11,
    "Asian": 0.13, "Two or more races": 0.03, "American Indian or Alaska Native": 0.01,
    "Native Hawaiian or Other Pacific Islander": 0.01, "unknown": 0.05,
}
SEX_SHARES = {Sex.FEMALE: 0.47, Sex.MALE: 0.49, Sex.UNKNOWN: 0.04}
AGE_BANDS = ((25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64"))
LANGUAGE_SKILL = re.compile(r"^(write|understand (spoken|written)|interact verbally in) ")
"""ESCO's transversal language skills, left out of the random transversal skills people hold."""
LOCATIONS = {"London": 0.22, "New York": 0.22, "Berlin": 0.14, "Toronto": 0.14,
             "Singapore": 0.10, "Chicago": 0.10, "Remote": 0.08}


@dataclass(slots=True)
class Person:
    """Mutable simulation state of one employee (what ends up as Employee + truth)."""

    index: int
    id: str
    name: str
    sex: Sex
    race_ethnicity: str
    age_band: str
    in_bias_group: bool
    part_time: bool
    talent: float
    hired_on: int
    role: int
    role_since: int
    location: str
    discoverable: bool
    skills: SkillSet
    timeline: list[tuple[int, int]] = field(default_factory=list)
    """(first day, role index) for every role held in the company, oldest first."""

    def protected(self) -> ProtectedAttributes:
        return ProtectedAttributes(employee_id=self.id, sex=self.sex,
                                   race_ethnicity=self.race_ethnicity, age_band=self.age_band)


def _choice(rng: np.random.Generator, shares: dict[str, float], size: int) -> list[str]:
    keys = list(shares)
    p = np.array([shares[k] for k in keys])
    return [keys[i] for i in rng.choice(len(keys), size=size, p=p / p.sum())]


def role_headcounts(catalog: Catalog, employees: int, rng: np.random.Generator) -> np.ndarray:
    """Target headcount per role: everyone covered once when there are enough people."""
    zone_weight = {1: 0.8, 2: 1.5, 3: 1.2, 4: 1.0, 5: 0.5}
    weights = np.array([zone_weight[s.level] for s in catalog.roles]) * rng.lognormal(
        0.0, 0.6, len(catalog.roles))
    recruiters = [s.index for s in catalog.roles if s.code in RECRUITER_CODES]
    counts = np.zeros(len(catalog.roles), dtype=np.int64)
    remaining = employees
    if employees >= 2 * len(catalog.roles):
        counts += 1
        remaining -= len(catalog.roles)
    counts += rng.multinomial(remaining, weights / weights.sum())
    for index in recruiters:  # enough HR staff to act as recruiters
        counts[index] = max(counts[index], max(2, int(0.004 * employees)))
    return counts


def _age_band(rng: np.random.Generator, tenure_years: float) -> str:
    if rng.random() < 0.03:
        return "unknown"
    age = 22 + tenure_years + rng.exponential(9.0)
    for limit, band in AGE_BANDS:
        if age < limit:
            return band
    return "65+"


def _initial_skills(catalog: Catalog, role: int, since: int, years_in_role: float,
                    talent: float, rng: np.random.Generator, prior: list[int],
                    transversal: np.ndarray) -> SkillSet:
    spec = catalog.roles[role]
    include = rng.random(len(spec.skill_idx)) < np.clip(
        0.45 + 0.4 * spec.skill_weight + 0.08 * talent, 0.05, 0.95)
    prof = np.clip(0.35 + 0.25 * min(years_in_role, 6.0) / 6.0 + 0.12 * talent
                   + rng.normal(0, 0.12, len(spec.skill_idx)), 0.05, 1.0)
    delay = rng.integers(0, 240, len(spec.skill_idx))
    parts = [(spec.skill_idx[include], prof[include], (since + delay)[include])]
    for past in prior:
        other = catalog.roles[past]
        keep = rng.random(len(other.skill_idx)) < 0.1 + 0.35 * other.skill_weight
        prof = np.clip(0.3 + 0.1 * talent + rng.normal(0, 0.12, len(other.skill_idx)), 0.05, 0.9)
        parts.append((other.skill_idx[keep], prof[keep], np.full(int(keep.sum()), since)))
    picked = rng.choice(transversal, size=min(3, len(transversal)), replace=False)
    parts.append((picked, rng.uniform(0.3, 0.8, len(picked)), np.full(len(picked), since)))
    skills = SkillSet.empty()
    skills.merge(*(np.concatenate(column) for column in zip(*parts, strict=True)))
    return skills


def build_people(catalog: Catalog, params: SimulationParams,
                 rng: np.random.Generator, first_id: int = 0) -> list[Person]:
    """Everyone who works at the company (or at one division: ``params.employees`` people) on
    ``as_of``, in the role they started the window in. ``index`` is the position in the list;
    ids are numbered from ``first_id + 1``, so divisions' ids never collide."""
    n = params.employees
    as_of = params.as_of.toordinal()
    start = as_of - int(365.25 * params.years_of_history)
    headcount = role_headcounts(catalog, n, rng)
    roles = rng.permutation(np.repeat(np.arange(len(catalog.roles)), headcount))[:n]
    sexes = [Sex(s) for s in _choice(rng, {k.value: v for k, v in SEX_SHARES.items()}, n)]
    races = _choice(rng, RACE_ETHNICITY, n)
    locations = _choice(rng, LOCATIONS, n)
    tenure = np.minimum(rng.exponential(6.0, n), 35.0) + 30 / 365
    talent = np.clip(rng.normal(0, 1, n), -2.5, 2.5)
    sources: dict[int, list[int]] = defaultdict(list)
    for src, targets in catalog.cc_targets.items():
        for target in targets:
            sources[target].append(src)
    transversal = np.array([i for i, s in enumerate(catalog.skills)
                            if s.reuse_level == "transversal" and s.skill_type is SkillType.SKILL
                            and not LANGUAGE_SKILL.match(s.label)], dtype=np.int32)
    people: list[Person] = []
    for i in range(n):
        sex = sexes[i]
        in_group = sex == params.bias_group
        rate = params.proxy_rate_group if in_group else params.proxy_rate_other
        pool = NAMES.get(sex, NEUTRAL_NAMES)
        name = f"{pool[int(rng.integers(len(pool)))]} {SURNAMES[int(rng.integers(len(SURNAMES)))]}"
        hired_on = as_of - int(tenure[i] * 365.25)
        role = int(roles[i])
        role_since = hired_on if hired_on >= start else int(rng.integers(hired_on, start + 1))
        prior_pool = sources.get(role, [])
        n_prior = min(len(prior_pool), int(rng.integers(0, 3)))
        prior = [int(p) for p in rng.choice(prior_pool, n_prior, replace=False)] if n_prior else []
        skills = _initial_skills(catalog, role, role_since, (start - role_since) / 365.25,
                                 float(talent[i]), rng, prior, transversal)
        people.append(Person(
            index=i, id=f"E{first_id + i + 1:06d}", name=name, sex=sex, race_ethnicity=races[i],
            age_band=_age_band(rng, float(tenure[i])), in_bias_group=in_group,
            part_time=bool(rng.random() < rate), talent=float(talent[i]), hired_on=hired_on,
            role=role, role_since=role_since, location=locations[i],
            discoverable=bool(rng.random() < params.discoverable_rate), skills=skills,
            timeline=[(role_since, role)],
        ))
    return people


def day(ordinal: int) -> date:
    return date.fromordinal(int(ordinal))
