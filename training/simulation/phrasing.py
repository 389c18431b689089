"""Sentence templates for performance reviews: strengths and developmental remarks about a skill.

ESCO skill/competence labels are verb phrases ("manage budgets"); knowledge labels are noun
phrases ("accounting techniques"). Each kind gets its own templates so sentences stay grammatical.
"""

from __future__ import annotations

import random

from features.domain import Skill, SkillType
from training.simulation.text import below

SKILL_STRENGTHS = (
    "{n} can {x} with very little supervision.",
    "{n} has shown real strength when asked to {x}.",
    "Colleagues often rely on {n} to {x}.",
    "A clear strength this cycle: the ability to {x}.",
    "{n} was consistently able to {x}, and did it well.",
    "{n} stepped up to {x} on several occasions, with excellent results.",
    "When the team needed someone to {x}, {n} delivered.",
)
KNOWLEDGE_STRENGTHS = (
    "{n} has a deep knowledge of {x}.",
    "Strong command of {x}; {n} is often the go-to person for it.",
    "{n}'s understanding of {x} stood out this year.",
    "Excellent grasp of {x}, shared generously with the team.",
    "{n} applied solid expertise in {x} throughout the year.",
)
SKILL_GROWTH = (
    "{n} needs to improve the ability to {x}.",
    "{n} should develop more confidence when having to {x}.",
    "Being able to {x} remains a growth area for {n}.",
    "Next cycle, {n} should work on learning to {x}.",
    "{n} still struggles to {x} without help.",
    "We agreed that {n} needs more practice to {x}.",
)
KNOWLEDGE_GROWTH = (
    "{n} needs to improve their knowledge of {x}.",
    "{X} remains a growth area for {n}.",
    "{n} should develop more confidence in {x}.",
    "Limited familiarity with {x} so far; a course would help.",
    "{n} lacks experience with {x} and should build it next year.",
)
OPENINGS = {
    5: ("{n} had an outstanding year as {role}.", "An exceptional cycle for {n} as {role}."),
    4: ("{n} had a strong year as {role}.", "{n} exceeded expectations as {role}."),
    3: ("{n} had a solid year as {role}.", "{n} met expectations as {role}."),
    2: ("{n} had a mixed year as {role}.", "{n} partly met expectations as {role}."),
    1: ("{n} had a difficult year as {role}.", "{n} did not meet expectations as {role}."),
}
CLOSINGS = ("Overall rating: {r}/5.", "Rated {r} out of 5.", "Final rating {r} (scale 1-5).")


class Phraser:
    """Fills the templates. An alternative label of a skill/competence is used only when it
    starts with a verb ESCO itself uses to start preferred skill labels, so it reads as a verb
    phrase ("time estimation of work" is skipped; "estimate work time" is kept)."""

    def __init__(self, skills: list[Skill], rnd: random.Random) -> None:
        self.rnd = rnd
        self.verbs = {s.label.split(" ")[0] for s in skills if s.skill_type is SkillType.SKILL}

    def surface(self, skill: Skill) -> str:
        """The preferred label most of the time, otherwise a fitting alternative label."""
        if skill.alt_labels and self.rnd.random() < 0.35:
            alt = skill.alt_labels[below(self.rnd, len(skill.alt_labels))]
            if skill.skill_type is not SkillType.SKILL or alt.split(" ")[0] in self.verbs:
                return alt
        return skill.label

    def _pick(self, pool: tuple[str, ...], name: str, skill: Skill) -> str:
        phrase = self.surface(skill)
        text = pool[below(self.rnd, len(pool))].format(
            n=name, x=phrase, X=phrase[:1].upper() + phrase[1:])
        return text[:1].upper() + text[1:]

    def strength(self, skill: Skill, name: str) -> str:
        knowledge = skill.skill_type is SkillType.KNOWLEDGE
        return self._pick(KNOWLEDGE_STRENGTHS if knowledge else SKILL_STRENGTHS, name, skill)

    def growth(self, skill: Skill, name: str) -> str:
        knowledge = skill.skill_type is SkillType.KNOWLEDGE
        return self._pick(KNOWLEDGE_GROWTH if knowledge else SKILL_GROWTH, name, skill)

    def opening(self, rating: int, name: str, role: str) -> str:
        options = OPENINGS[rating]
        return options[below(self.rnd, len(options))].format(n=name, role=role)

    def closing(self, rating: int) -> str:
        return CLOSINGS[below(self.rnd, len(CLOSINGS))].format(r=rating)
