"""Development plans: what stands between an employee and a target role, and how to close it.

Pure functions over the recommender's data (profile entries, the role's requirement profile,
courses by skill, open opportunities with their requirement profiles); the API route only picks
them out of the serving `Recommender`.

- **Gaps.** Every requirement of the role the person does not meet (proficiency below the
  required level, or absent; rejected skills count as absent), ordered by importance: essential
  first, then importance, then the size of the gap.
- **What closes a gap.** Store courses that teach the skill (fewest hours first) and open
  projects, gigs, rotations and mentorships whose requirements include it (the skill's
  importance there first; never one the person owns or mentors). Open roles are not listed: they
  are the destination, not the practice.
- **Time to readiness.** A greedy course plan covers the gaps (most importance-weighted gaps
  per hour first, each course counted once, redundant courses dropped); its hours divided by
  ``WEEKLY_LEARNING_HOURS`` (4 h a week, about 10% of a working week) give
  ``weeks_to_readiness``. Gaps no course teaches are listed in ``uncovered_skills`` and make the
  estimate a lower bound (``estimate_complete`` false); they close through the opportunities
  listed, on the job.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import date

from pydantic import BaseModel, ConfigDict

from features.domain import (
    Course,
    Opportunity,
    OpportunityKind,
    ProfileEntry,
    RequirementProfile,
    Role,
)

WEEKLY_LEARNING_HOURS = 4.0
"""Hours a week a person is assumed to spend learning (the documented default rate)."""
MAX_COURSES_PER_GAP = 3
MAX_OPPORTUNITIES_PER_GAP = 5
PRACTICE_KINDS = frozenset({OpportunityKind.PROJECT, OpportunityKind.GIG,
                            OpportunityKind.ROTATION, OpportunityKind.MENTORSHIP})


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class PlanCourse(_Model):
    id: str
    title: str
    hours: int


class PlanOpportunity(_Model):
    id: str
    kind: OpportunityKind
    title: str
    level: int
    department_id: str
    location: str


class SkillGap(_Model):
    uri: str
    label: str
    required_level: float
    current_level: float
    gap: float
    """``required_level - current_level``."""
    importance: float
    essential: bool
    courses: list[PlanCourse]
    opportunities: list[PlanOpportunity]


class PlannedCourse(_Model):
    """One course of the plan behind the readiness estimate, with the gaps it covers."""

    id: str
    title: str
    hours: int
    skill_uris: list[str]


class DevelopmentPlan(_Model):
    employee_id: str
    target_role_id: str
    target_role_title: str
    model_version: str
    as_of: date
    requirements: int
    """Skills the role requires."""
    met: int
    """Of those, skills the person meets."""
    readiness: float
    """Importance-weighted share of the requirement met, in [0, 1] (partial credit)."""
    gaps: list[SkillGap]
    course_plan: list[PlannedCourse]
    total_course_hours: int
    weekly_learning_hours: float
    weeks_to_readiness: float | None
    """Course hours / weekly hours, rounded up to a tenth; 0 with no gaps; None when the role
    has no requirement profile."""
    estimate_complete: bool
    """False when some gap has no course (``uncovered_skills``): the estimate is a lower bound."""
    uncovered_skills: list[str]


def skill_gaps(entries: Mapping[str, ProfileEntry], requirements: RequirementProfile,
               label: Callable[[str], str],
               courses_by_skill: Mapping[str, Sequence[Course]],
               opportunities: Sequence[tuple[Opportunity, RequirementProfile]],
               exclude_opportunity_ids: frozenset[str] = frozenset()) -> list[SkillGap]:
    """The unmet requirements, most important first, each with what closes it."""
    practice: dict[str, list[tuple[float, Opportunity]]] = {}
    for opp, reqs in opportunities:
        if opp.kind not in PRACTICE_KINDS or opp.id in exclude_opportunity_ids:
            continue
        for req in reqs.requirements:
            practice.setdefault(req.skill_uri, []).append((req.importance, opp))
    gaps = []
    for req in requirements.requirements:
        entry = entries.get(req.skill_uri)
        have = entry.proficiency if entry is not None else 0.0
        if have > 0.0 and have >= req.level:
            continue
        courses = sorted(courses_by_skill.get(req.skill_uri, ()), key=lambda c: (c.hours, c.id))
        places = sorted(practice.get(req.skill_uri, ()), key=lambda io: (-io[0], io[1].id))
        gaps.append(SkillGap(
            uri=req.skill_uri, label=label(req.skill_uri), required_level=round(req.level, 4),
            current_level=round(have, 4), gap=round(max(req.level - have, 0.0), 4),
            importance=round(req.importance, 4), essential=req.essential,
            courses=[PlanCourse(id=c.id, title=c.title, hours=c.hours)
                     for c in courses[:MAX_COURSES_PER_GAP]],
            opportunities=[PlanOpportunity(id=o.id, kind=o.kind, title=o.title, level=o.level,
                                           department_id=o.department_id, location=o.location)
                           for _, o in places[:MAX_OPPORTUNITIES_PER_GAP]]))
    gaps.sort(key=lambda g: (not g.essential, -g.importance, -g.gap, g.uri))
    return gaps


def course_plan(gaps: Sequence[SkillGap],
                courses_by_skill: Mapping[str, Sequence[Course]]) -> list[PlannedCourse]:
    """Greedy weighted set cover: repeatedly the course covering the most importance (plus a
    little for essential gaps) per hour among the still-open gaps (ties by fewer hours, id);
    then courses whose gaps the others already cover are dropped, longest first."""
    weight = {g.uri: g.importance + (0.5 if g.essential else 0.0) + 1e-6 for g in gaps}
    open_gaps = {g.uri for g in gaps if courses_by_skill.get(g.uri)}
    candidates = {c.id: c for g in gaps for c in courses_by_skill.get(g.uri, ())}
    candidates_all = dict(candidates)
    chosen: list[PlannedCourse] = []
    while open_gaps:
        def value(course: Course) -> tuple[float, int, str]:
            covered = open_gaps.intersection(course.skill_uris)
            return (-sum(weight[u] for u in covered) / max(course.hours, 1), course.hours,
                    course.id)

        best = min(candidates.values(), key=value)
        covered = sorted(open_gaps.intersection(best.skill_uris))
        if not covered:  # pragma: no cover - every open gap has a course
            break
        chosen.append(PlannedCourse(id=best.id, title=best.title, hours=best.hours,
                                    skill_uris=covered))
        open_gaps.difference_update(covered)
        del candidates[best.id]
    # drop courses made redundant by later picks (longest first), then re-attribute the gaps
    for course in sorted(chosen, key=lambda c: (-c.hours, c.id)):
        others = {u for c in chosen if c is not course for u in candidates_all[c.id].skill_uris}
        if set(course.skill_uris) <= others:
            chosen.remove(course)
    left = {g.uri for g in gaps if courses_by_skill.get(g.uri)}
    out = []
    for course in chosen:
        covered = sorted(left.intersection(candidates_all[course.id].skill_uris))
        out.append(course.model_copy(update={"skill_uris": covered}))
        left.difference_update(covered)
    return out


def readiness(entries: Mapping[str, ProfileEntry], requirements: RequirementProfile) -> float:
    """Importance-weighted mean of min(proficiency / required level, 1)."""
    total = sum(r.importance for r in requirements.requirements)
    if total <= 0:
        return 1.0 if not requirements.requirements else 0.0
    got = 0.0
    for req in requirements.requirements:
        entry = entries.get(req.skill_uri)
        have = entry.proficiency if entry is not None else 0.0
        got += req.importance * (1.0 if req.level <= 0 else min(have / req.level, 1.0))
    return round(got / total, 4)


def development_plan(*, employee_id: str, role: Role, requirements: RequirementProfile,
                     entries: Mapping[str, ProfileEntry], label: Callable[[str], str],
                     courses_by_skill: Mapping[str, Sequence[Course]],
                     opportunities: Sequence[tuple[Opportunity, RequirementProfile]],
                     model_version: str, as_of: date,
                     weekly_hours: float = WEEKLY_LEARNING_HOURS) -> DevelopmentPlan:
    """The employee's development plan toward ``role``."""
    if weekly_hours <= 0:
        raise ValueError("weekly_hours must be positive")
    own = frozenset(o.id for o, _ in opportunities if employee_id in (o.owner_id, o.mentor_id))
    gaps = skill_gaps(entries, requirements, label, courses_by_skill, opportunities, own)
    plan = course_plan(gaps, courses_by_skill)
    hours = sum(c.hours for c in plan)
    uncovered = [g.uri for g in gaps if not g.courses]
    weeks = None if not requirements.requirements else math.ceil(
        hours / weekly_hours * 10) / 10
    return DevelopmentPlan(
        employee_id=employee_id, target_role_id=role.id, target_role_title=role.title,
        model_version=model_version, as_of=as_of, requirements=len(requirements.requirements),
        met=len(requirements.requirements) - len(gaps),
        readiness=readiness(entries, requirements), gaps=gaps, course_plan=plan,
        total_course_hours=hours, weekly_learning_hours=weekly_hours, weeks_to_readiness=weeks,
        estimate_complete=not uncovered, uncovered_skills=uncovered)
