"""Explanations for one served item: matched and missing skills, gap-closing courses, and the
main feature contributions of the ranker in plain words."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from features.domain import Course, ProfileEntry, RequirementProfile
from features.ranking import ASPIRATION_RELEVANT
from features.ranking_explain import TEMPLATES, ReasonFacts, top_reasons
from inference.ranking.responses import CourseSuggestion, MatchedSkill, MissingSkill, Reason

MAX_SKILLS = 10
MAX_COURSES = 3


def skill_label(labels: Mapping[str, str]) -> Callable[[str], str]:
    """A label lookup that falls back to the URI's last segment."""

    def label(uri: str) -> str:
        return labels.get(uri) or uri.rstrip("/").rsplit("/", 1)[-1]

    return label


def held_at_level(proficiency: float, level: float) -> bool:
    """Whether a proficiency meets a requirement's level (a held skill, not a zero): the one
    rule of a matched skill, for the cards and for which items a list keeps
    (`inference.ranking.pipeline.meets_a_requirement`)."""
    return proficiency > 0.0 and proficiency >= level


def meets(entry: ProfileEntry | None, level: float) -> bool:
    """Whether a profile entry meets a requirement's level (`held_at_level`)."""
    return entry is not None and held_at_level(entry.proficiency, level)


def skill_match(entries: Mapping[str, ProfileEntry], requirements: RequirementProfile,
                label: Callable[[str], str], limit: int = MAX_SKILLS
                ) -> tuple[list[MatchedSkill], list[MissingSkill]]:
    """Required skills the person meets (proficiency >= required level) and those missing or
    below the level, most important first (missing: largest importance-weighted gap first)."""
    matched: list[MatchedSkill] = []
    missing: list[MissingSkill] = []
    for req in requirements.requirements:
        entry = entries.get(req.skill_uri)
        have = entry.proficiency if entry is not None else 0.0
        if entry is not None and meets(entry, req.level):
            matched.append(MatchedSkill(
                uri=req.skill_uri, label=label(req.skill_uri), proficiency=round(have, 4),
                required_level=round(req.level, 4), importance=round(req.importance, 4),
                essential=req.essential, evidence_ids=list(entry.evidence_ids)))
        else:
            missing.append(MissingSkill(
                uri=req.skill_uri, label=label(req.skill_uri), required_level=round(req.level, 4),
                current_level=round(have, 4), importance=round(req.importance, 4),
                essential=req.essential))
    matched.sort(key=lambda m: (not m.essential, -m.importance, m.uri))
    missing.sort(key=lambda m: (not m.essential,
                                -m.importance * (m.required_level - m.current_level), m.uri))
    return matched[:limit], missing[:limit]


def closing_courses(missing: Sequence[MissingSkill], courses_by_skill: Mapping[str, list[Course]],
                    limit: int = MAX_COURSES) -> list[CourseSuggestion]:
    """Courses covering the most missing skills (importance-weighted), fewest hours on ties."""
    weight = {m.uri: m.importance for m in missing}
    found: dict[str, tuple[Course, list[str]]] = {}
    for m in missing:
        for course in courses_by_skill.get(m.uri, ()):
            found.setdefault(course.id, (course, []))[1].append(m.uri)
    ranked = sorted(found.values(),
                    key=lambda cu: (-sum(weight[u] for u in cu[1]), cu[0].hours, cu[0].id))
    return [CourseSuggestion(id=c.id, title=c.title, hours=c.hours, skill_uris=uris)
            for c, uris in ranked[:limit]]


_PRONOUNS = ((re.compile(r"\bYour\b"), "Their"), (re.compile(r"\byours\b"), "theirs"),
             (re.compile(r"\byour\b"), "their"), (re.compile(r"\bYou\b"), "They"),
             (re.compile(r"\byou\b"), "them"))


def third_person(text: str) -> str:
    """'You cover 80% of...' -> 'They cover 80% of...' (candidate lists read by recruiters)."""
    for pattern, word in _PRONOUNS:
        text = pattern.sub(word, text)
    return text


def reason_facts(requirements: RequirementProfile, location: str | None) -> ReasonFacts:
    """What a reason about this item may claim (`features.ranking_explain.ReasonFacts`)."""
    return ReasonFacts(has_essentials=any(r.essential for r in requirements.requirements),
                       location_known=location is not None)


def reasons(rows: np.ndarray, contributions: np.ndarray, feature_names: Sequence[str],
            k: int = 3, *, recruiter: bool = False,
            facts: Sequence[ReasonFacts] | None = None) -> list[list[Reason]]:
    """Top ``k`` positive contributions per row as plain-word reasons, each true of its item
    (``facts``, one per row)."""
    out = []
    per_row = facts if facts is not None else [ReasonFacts()] * len(rows)
    for row, contrib, fact in zip(rows, contributions, per_row, strict=True):
        found = top_reasons(row, contrib, feature_names, k, positive_only=True, facts=fact)
        out.append([Reason(feature=r.feature,
                           text=third_person(r.text) if recruiter else r.text,
                           contribution=round(r.contribution, 6)) for r in found])
    return out


HELD_SKILLS = "held_skills"
"""The reason's ``feature`` for the skills a person holds of an item's requirements: not a
model feature (contribution 0), a count from the profile and the requirements."""


def held_skills_reason(entries: Mapping[str, ProfileEntry], requirements: RequirementProfile,
                       matched: Sequence[MatchedSkill], *, recruiter: bool = False
                       ) -> list[Reason]:
    """"You already have 4 of the 14 skills it lists, such as X" (recruiters: "They ..."), or
    ``[]`` when none is held. The list's fallback for an item no model feature speaks for:
    a below-average fit still shares skills with the person (every listed item does,
    `inference.ranking.pipeline.meets_a_requirement`), and saying which is true and useful."""
    held = sum(1 for r in requirements.requirements if meets(entries.get(r.skill_uri), r.level))
    if held == 0 or not matched:
        return []
    total = len(requirements.requirements)
    skills = "skill" if total == 1 else "skills"
    text = (f"You already have {held} of the {total} {skills} it lists, such as "
            f"{matched[0].label}")
    return [Reason(feature=HELD_SKILLS, text=third_person(text) if recruiter else text,
                   contribution=0.0)]


ASPIRATION = "aspiration_match"
"""The reason's ``feature`` for an item the person said they want to grow towards: the model
feature's name, whose contribution is 0 (aspirations are not known for past decisions, so the
ranker never learned from them: docs/ranking.md), told from its value."""


def aspiration_reason(match: float, already: Sequence[Reason]) -> list[Reason]:
    """"It is what you said you want to grow towards" when the item's ``aspiration_match``
    (``match``, `features.ranking.aspiration_share`) reaches `ASPIRATION_RELEVANT`, unless
    ``already`` says so. Without it, an item shown for an aspiration alone
    (`inference.ranking.pipeline.relevant_rows`) came with no reason at all."""
    if match < ASPIRATION_RELEVANT or any(r.feature == ASPIRATION for r in already):
        return []
    return [Reason(feature=ASPIRATION, text=TEMPLATES[ASPIRATION][0], contribution=0.0)]


PREFERRED_PLACE = "preferred_location"
"""The reason's ``feature``: not a model feature (contribution 0); the person said so."""


def place_reason(preferred: Sequence[str]) -> Callable[[str], list[Reason]]:
    """location -> ``[Reason]`` when the location is one the person prefers (their profile's
    preferred locations, compared case-insensitively), else ``[]``."""
    wanted = {p.strip().casefold() for p in preferred if p.strip()}

    def reason(location: str) -> list[Reason]:
        if location.strip().casefold() not in wanted:
            return []
        return [Reason(feature=PREFERRED_PLACE, text=f"It is in a place you prefer ({location})",
                       contribution=0.0)]

    return reason
