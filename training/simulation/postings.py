"""Titles and descriptions of opportunities of every kind, written from real O*NET and ESCO text."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date

import numpy as np

from features.domain import Opportunity, OpportunityKind, OpportunityStatus
from training.simulation.roles import Catalog, RoleSpec
from training.simulation.text import join_words, lower_first, with_article


@dataclass(slots=True)
class Draft:
    """An opportunity before its owner is known (owners come from the final org chart)."""

    id: str
    kind: OpportunityKind
    title: str
    description: str
    department_id: str
    location: str
    level: int
    status: OpportunityStatus
    posted_on: date
    closes_on: date | None
    role_id: str | None = None
    mentor_id: str | None = None
    skill_uris: tuple[str, ...] = ()
    hours_per_week: float | None = None

    def build(self, owner_id: str | None) -> Opportunity:
        return Opportunity(
            id=self.id, kind=self.kind, title=self.title, description=self.description,
            department_id=self.department_id, location=self.location, level=self.level,
            status=self.status, posted_on=self.posted_on, closes_on=self.closes_on,
            role_id=self.role_id, owner_id=owner_id, mentor_id=self.mentor_id,
            skill_uris=self.skill_uris, hours_per_week=self.hours_per_week,
        )


@dataclass(frozen=True, slots=True)
class Posting:
    kind: OpportunityKind
    title: str
    description: str
    level: int
    role_id: str | None = None
    skill_uris: tuple[str, ...] = ()
    hours_per_week: float | None = None
    """The time commitment the text states, if it states a number (gigs)."""


COMMITMENT: dict[OpportunityKind, tuple[float, float]] = {
    OpportunityKind.GIG: (2.0, 6.0), OpportunityKind.PROJECT: (6.0, 9.0),
    OpportunityKind.MENTORSHIP: (1.0, 2.0), OpportunityKind.ROTATION: (37.5, 40.0),
    OpportunityKind.OPEN_ROLE: (37.5, 40.0),
}
"""Hours a week each kind asks for, lowest to highest: a project "about a day a week", a
mentorship a session or two a month plus preparation, rotations and roles full time."""


def time_commitment(kind: OpportunityKind, opportunity_id: str, seed: int,
                    stated: float | None = None) -> float:
    """Hours a week for a simulated opportunity: what its text states, else a half-hour step
    in its kind's `COMMITMENT` range, drawn from a generator of its own (seeded by the
    simulation's seed and the id), so no other draw of the simulation changes."""
    if stated is not None:
        return stated
    low, high = COMMITMENT[kind]
    digest = hashlib.sha256(f"{seed}:time-commitment:{opportunity_id}".encode()).digest()
    steps = int((high - low) * 2)
    return low + random.Random(int.from_bytes(digest[:8], "big")).randint(0, steps) / 2


def _top_skills(catalog: Catalog, spec: RoleSpec, count: int) -> list[str]:
    order = np.argsort(-spec.skill_weight, kind="stable")[:count]
    return [catalog.skills[int(spec.skill_idx[i])].uri for i in order]


def _labels(catalog: Catalog, uris: list[str]) -> list[str]:
    return [catalog.skills[catalog.skill_index[u]].label for u in uris]


def _short_task(task: str, words: int = 8) -> str:
    """A title from an O*NET task: its first clause, without a purpose clause ("... to ensure
    ..."). A task that opens with a list of verbs ("Write, analyze, and rewrite programs, using
    ...") keeps the list up to its object: the first comma piece alone would title a project
    "write"."""
    pieces = task.split(";")[0].split(",")
    clause, used = pieces[0], 1
    while used < len(pieces) and _is_bare_verb(pieces[used - 1]):
        clause += "," + pieces[used]
        used += 1
    clause = _without_purpose(clause)
    clause = clause.rstrip(".")
    parts = clause.split()
    text = " ".join(parts[:words])
    if len(parts) > words:
        text = text.rstrip(",") + "…"
    return lower_first(text)


_PARTICLES = frozenset({"up", "out", "down", "off", "in", "on", "over", "back"})
_BOUND_TO = frozenset({"according", "related", "relating", "pertaining", "prior", "due",
                       "subject", "similar", "close", "next", "adjacent", "equivalent"})
"""Words whose "to" is part of the phrase ("adjust machines according to specifications",
"prepare for prosecutions related to animal cruelty"), not the start of a purpose clause."""


def _without_purpose(clause: str) -> str:
    """``clause`` cut before its first purpose clause ("... to ensure ..."), when at least
    three words stand before it; a "to" bound to the word before it (`_BOUND_TO`) is kept."""
    words = clause.split()
    for i, word in enumerate(words):
        if (word == "to" and i >= 3 and words[i - 1].lower().strip(",") not in _BOUND_TO):
            return " ".join(words[:i]).rstrip(",")
    return clause


def _is_bare_verb(piece: str) -> bool:
    """A piece of a verb list: "analyze", "and review", "set up" (no object yet)."""
    words = piece.split()
    if words and words[0].lower() in ("and", "or"):
        words = words[1:]
    return len(words) == 1 or (len(words) == 2 and words[1].lower() in _PARTICLES)


def role_posting(catalog: Catalog, spec: RoleSpec, department: str, location: str,
                 rng: np.random.Generator) -> Posting:
    named = tuple(_top_skills(catalog, spec, 5)) if rng.random() < 0.5 else ()
    intro = f"We are hiring a {spec.role.title} for {department} in {location}."
    return Posting(OpportunityKind.OPEN_ROLE, spec.role.title,
                   f"{intro}\n\n{spec.role.description}", spec.level, spec.role.id, named)


def rotation_posting(catalog: Catalog, spec: RoleSpec, department: str,
                     rng: np.random.Generator) -> Posting:
    months = int(rng.choice([3, 6, 9, 12]))
    tasks = "\n".join(f"- {t}" for t in spec.tasks[:4])
    text = (f"A {months}-month rotation as {spec.role.title} in {department}, returning to your "
            f"home team afterwards. You will learn the job by doing it:\n{tasks}")
    if spec.technologies:
        text += f"\n\nYou will get hands-on with {join_words(spec.technologies[:4])}."
    return Posting(OpportunityKind.ROTATION, f"{months}-month rotation: {spec.role.title}", text,
                   spec.level, spec.role.id, tuple(_top_skills(catalog, spec, 4)))


def project_posting(catalog: Catalog, specs: list[RoleSpec], department: str,
                    rng: np.random.Generator) -> Posting:
    """A cross-team project built from the tasks and technologies of a few roles in one family."""
    tasks = [t for spec in specs for t in spec.tasks[:3]]
    chosen = [tasks[i] for i in sorted(rng.choice(len(tasks), min(4, len(tasks)), replace=False))]
    tech = list(dict.fromkeys(t for spec in specs for t in spec.technologies[:2]))[:4]
    months = int(rng.integers(2, 10))
    skills = list(dict.fromkeys(u for spec in specs for u in _top_skills(catalog, spec, 2)))[:5]
    text = (f"A {months}-month cross-team project in {department}, about a day a week. "
            "Together with colleagues from other teams you will:\n"
            + "\n".join(f"- {t}" for t in chosen))
    if tech:
        text += f"\n\nTools: {join_words(tech)}."
    text += f"\n\nUseful skills: {join_words(_labels(catalog, skills))}."
    title = f"Project: {_short_task(chosen[0])}"
    return Posting(OpportunityKind.PROJECT, title, text, min(s.level for s in specs), None,
                   tuple(skills))


def gig_posting(catalog: Catalog, spec: RoleSpec, department: str,
                rng: np.random.Generator) -> Posting:
    """A short stretch assignment: one real task of a role, a few hours a week."""
    task = spec.tasks[int(rng.integers(len(spec.tasks)))]
    weeks = int(rng.integers(2, 7))
    hours = int(rng.choice([2, 4, 6, 8]))
    skills = _top_skills(catalog, spec, 3)
    text = (f"A {weeks}-week gig for the {spec.role.title} team in {department}, about {hours} "
            f"hours a week: {lower_first(task)}.")
    if spec.technologies:
        text += f" You will use {join_words(spec.technologies[:3])}."
    text += f" A chance to practise {join_words(_labels(catalog, skills))}."
    return Posting(OpportunityKind.GIG, f"Gig: {_short_task(task, 7)}", text,
                   max(1, spec.level - 1), None, tuple(skills), float(hours))


def mentorship_posting(catalog: Catalog, spec: RoleSpec, mentor_name: str,
                       department: str) -> Posting:
    """A mentor offers what their own role needs: the mentor's role's skills."""
    skills = _top_skills(catalog, spec, 5)
    labels = _labels(catalog, skills)
    text = (f"{mentor_name}, an experienced {spec.role.title} in {department}, offers monthly "
            f"mentoring sessions over six months. Topics: {join_words(labels)}. Suits colleagues "
            f"who want to grow towards {with_article(spec.role.title)} role or build these "
            f"skills.")
    title = f"Mentorship with {with_article(spec.role.title)}"
    return Posting(OpportunityKind.MENTORSHIP, title, text, max(1, spec.level - 1), None,
                   tuple(skills))
