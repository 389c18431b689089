"""Evidence about each person's hidden skills: reviews, courses, endorsements, self-declarations.

Everything is generated from the person's true skills (`SkillSet`) on the day of the evidence:
reviews praise skills held with high proficiency and name growth areas among the role's skills
held weakly or not at all; endorsements and most self-declarations name skills truly held;
about one self-declared skill in seven is an over-claim (a role skill not held).
"""

from __future__ import annotations

import random
from bisect import bisect_right

import numpy as np

from features.domain import Evidence, EvidenceKind
from training.simulation.people import Person, day
from training.simulation.phrasing import Phraser
from training.simulation.roles import Catalog
from training.simulation.skillsets import proficiency_on
from training.simulation.text import below, between


class EvidenceWriter:
    def __init__(self, catalog: Catalog, courses: dict[str, tuple[str, int]],
                 course_for_skill: dict[int, list[str]], as_of: int, start: int,
                 rnd: random.Random, first_id: int = 0) -> None:
        self.catalog, self.courses, self.course_for_skill = catalog, courses, course_for_skill
        self.first_id = first_id  # ids from first_id + 1: a division continues the numbering
        self.as_of, self.start, self.rnd = as_of, start, rnd
        self.rows: list[Evidence] = []
        self.phraser = Phraser(catalog.skills, rnd)

    def _add(self, person: Person, kind: EvidenceKind, when: int, **fields: object) -> None:
        self.rows.append(Evidence.model_validate({
            "id": f"X{self.first_id + len(self.rows) + 1:08d}", "employee_id": person.id,
            "kind": kind, "occurred_on": day(when), **fields,
        }))

    def _role_on(self, person: Person, when: int) -> int:
        starts = [start for start, _ in person.timeline]
        return person.timeline[max(0, bisect_right(starts, when) - 1)][1]

    def review(self, person: Person, when: int, manager: str | None) -> None:
        rnd, spec = self.rnd, self.catalog.roles[self._role_on(person, when)]
        skills = person.skills
        held = skills.held_on(when)
        prof_on_day = proficiency_on(skills, spec.skill_idx, when)
        fit = float(prof_on_day @ spec.skill_weight) / spec.total_weight
        rating = min(5, max(1, round(3 + 0.6 * person.talent + 2.0 * (fit - 0.3)
                                     + rnd.gauss(0, 0.6))))
        first = person.name.split(" ")[0]
        strong: list[int] = skills.idx[held & (skills.prof >= 0.5)].tolist()
        weak: list[int] = spec.skill_idx[prof_on_day < 0.3].tolist()
        phraser = self.phraser
        sentences = [phraser.opening(rating, first, spec.role.title)]
        n_strong = min(len(strong), 1 + (rating >= 3) + (rating >= 5))
        for index in rnd.sample(strong, n_strong):
            sentences.append(phraser.strength(self.catalog.skills[index], first))
        n_weak = min(len(weak), 1 + (rating <= 2) + (rnd.random() < 0.3))
        for index in rnd.sample(weak, n_weak):
            sentences.append(phraser.growth(self.catalog.skills[index], first))
        sentences.append(phraser.closing(rating))
        self._add(person, EvidenceKind.PERFORMANCE_REVIEW, when, text=" ".join(sentences),
                  rating=rating, author_id=manager)

    def for_person(self, person: Person, manager: Person | None) -> None:
        rnd, skills = self.rnd, person.skills
        manager_id = None if manager is None else manager.id
        cycle = below(rnd, 365)
        first_review = max(person.hired_on + 180, self.start)
        when = self.start - 365 + cycle
        while when <= self.as_of:
            if when >= first_review:
                self.review(person, when, manager_id)
            when += 365
        held = np.flatnonzero(skills.since <= self.as_of)
        if len(held) == 0:
            return
        # course completions, near the time the skill was picked up
        held_list: list[int] = held.tolist()
        for k in rnd.sample(held_list, min(len(held_list), rnd.choice((0, 1, 1, 2, 3, 4)))):
            course_ids = self.course_for_skill.get(int(skills.idx[k]))
            if not course_ids:
                continue
            course_id = course_ids[below(rnd, len(course_ids))]
            title, hours = self.courses[course_id]
            # never before the skill was picked up: a course dated earlier would show, on a
            # past decision, a skill the person learned only in a role they moved to later
            when = min(max(int(skills.since[k]) + between(rnd, 0, 60), person.hired_on),
                       self.as_of)
            self._add(person, EvidenceKind.COURSE_COMPLETION, when, course_id=course_id,
                      text=f"Completed the course '{title}' ({hours} hours).")
        # manager endorsements of well-held skills, any time after the skill was picked up
        # (not only in the current role: then everyone who moved would have none before their
        # move, and "no endorsement yet" would tell a past decision who was chosen)
        strong: list[int] = held[skills.prof[held] >= 0.55].tolist()
        if manager is not None:
            for j in rnd.sample(strong, min(len(strong), rnd.choice((0, 1, 2, 3)))):
                low = max(person.hired_on, int(skills.since[j]))
                if low > self.as_of:
                    continue
                skill = self.catalog.skills[int(skills.idx[j])]
                self._add(person, EvidenceKind.MANAGER_ENDORSEMENT, between(rnd, low, self.as_of),
                          skill_uri=skill.uri, author_id=manager.id,
                          text=f"{manager.name} endorsed {person.name} for {skill.label}.")
        self._self_declared(person, held)

    def _self_declared(self, person: Person, held: np.ndarray) -> None:
        rnd, skills = self.rnd, person.skills
        confident: list[int] = held[skills.prof[held] >= 0.3].tolist()
        picks = rnd.sample(confident, min(len(confident), between(rnd, 2, 6)))
        # each declared on a day the person held it (a skill learned after a move, declared
        # before it, would show a past decision the skills of the role they went on to take)
        declared = [(int(skills.idx[k]), max(person.hired_on, int(skills.since[k])))
                    for k in sorted(picks)]
        spec = self.catalog.roles[person.role]
        if rnd.random() < 0.15:  # an over-claim: a skill of their role they do not hold
            missing = np.setdiff1d(spec.skill_idx, skills.idx[held])
            if len(missing):
                declared.append((int(missing[below(rnd, len(missing))]), person.role_since))
        for index, earliest in declared:
            skill = self.catalog.skills[index]
            self._add(person, EvidenceKind.SELF_DECLARED,
                      between(rnd, min(earliest, self.as_of), self.as_of), skill_uri=skill.uri,
                      text=f"Added '{skill.label}' to their profile.")
