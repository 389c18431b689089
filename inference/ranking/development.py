"""Development plans: what stands between an employee and a target role, and how to close it.

Pure functions over the recommender's data (profile entries, the role's requirement profile,
courses by skill, open opportunities with their requirement profiles); the API route only picks
them out of the serving `Recommender`.

- **Requirements that matter.** The role's essential requirements and those of importance at
  least ``IMPORTANT`` (0.5), essential first, then by importance, at most
  ``MAX_PLAN_REQUIREMENTS`` (12). ``requirements``, ``met``, ``readiness`` and the gaps all count
  these, so "readiness" and "requirements met" are one figure: ``readiness = met /
  requirements``.
- **Gaps.** Every counted requirement the person does not meet (proficiency below the required
  level, or absent; rejected skills count as absent): essential first, then importance, then
  the size of the gap.
- **What closes a gap.** Store courses whose content covers the skill: the course lists it *and*
  its title or description names it (``course_covers``), fewest hours first; and open projects,
  gigs, rotations and mentorships whose requirements include it (the skill's importance there
  first; never one the person owns or mentors). Open roles are not listed: they are the
  destination, not the practice.
- **Time to readiness (the learning-rate model).** A person learns ``WEEKLY_LEARNING_HOURS``
  (4 h) a week, about 10% of a working week; a course takes its listed hours and brings each gap
  skill it covers to the required level; practice on the job is not counted. A greedy course
  plan covers the gaps (most importance-weighted gaps per hour first, each course counted once,
  redundant courses dropped); ``weeks_to_readiness`` is its hours over the weekly hours. Gaps no
  course covers are listed in ``uncovered_skills`` and make the estimate a lower bound
  (``estimate_complete`` false); they close through the opportunities listed, on the job.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
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
IMPORTANT = 0.5
"""Importance from which a non-essential requirement counts in a plan."""
MAX_PLAN_REQUIREMENTS = 12
"""Most requirements a plan counts (essential first, then by importance)."""
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
    """The role's requirements that matter (essential or important, capped)."""
    met: int
    """Of those, skills the person meets."""
    readiness: float
    """``met / requirements`` (1.0 with nothing to meet), in [0, 1]."""
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


def counted_requirements(requirements: RequirementProfile) -> RequirementProfile:
    """The requirements a plan counts: essential or of importance >= ``IMPORTANT``, essential
    first, then by importance, at most ``MAX_PLAN_REQUIREMENTS``."""
    kept = sorted((r for r in requirements.requirements if r.essential
                   or r.importance >= IMPORTANT),
                  key=lambda r: (not r.essential, -r.importance, r.skill_uri))
    return requirements.model_copy(update={"requirements": tuple(kept[:MAX_PLAN_REQUIREMENTS])})


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9+#]+", text.lower())


def course_covers(course: Course, skill_uri: str, label: str) -> bool:
    """True when the course lists the skill and its title or description names it: every word
    of the skill's label appears there (``use spreadsheets software`` in "A 10-hour course
    covering use spreadsheets software ...")."""
    if skill_uri not in course.skill_uris:
        return False
    text = set(_words(f"{course.title} {course.description}"))
    words = _words(label)
    return bool(words) and all(w in text for w in words)


def covering_courses(courses_by_skill: Mapping[str, Sequence[Course]],
                     label: Callable[[str], str], uris: Collection[str],
                     ) -> dict[str, list[Course]]:
    """Skill -> the courses whose content covers it, for the skills in ``uris``."""
    return {uri: [c for c in courses_by_skill.get(uri, ()) if course_covers(c, uri, label(uri))]
            for uri in uris}


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


def readiness(met: int, requirements: int) -> float:
    """Share of the counted requirements met (1.0 when there is nothing to meet)."""
    return 1.0 if requirements == 0 else round(met / requirements, 4)


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
    has_profile = bool(requirements.requirements)
    requirements = counted_requirements(requirements)
    courses = covering_courses(courses_by_skill, label,
                               [r.skill_uri for r in requirements.requirements])
    gaps = skill_gaps(entries, requirements, label, courses, opportunities, own)
    plan = course_plan(gaps, courses)
    hours = sum(c.hours for c in plan)
    uncovered = [g.uri for g in gaps if not g.courses]
    weeks = None if not has_profile else math.ceil(
        hours / weekly_hours * 10) / 10
    return DevelopmentPlan(
        employee_id=employee_id, target_role_id=role.id, target_role_title=role.title,
        model_version=model_version, as_of=as_of, requirements=len(requirements.requirements),
        met=len(requirements.requirements) - len(gaps),
        readiness=readiness(len(requirements.requirements) - len(gaps),
                            len(requirements.requirements)), gaps=gaps, course_plan=plan,
        total_course_hours=hours, weekly_learning_hours=weekly_hours, weeks_to_readiness=weeks,
        estimate_complete=not uncovered, uncovered_skills=uncovered)
