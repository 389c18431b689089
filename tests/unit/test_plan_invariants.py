"""Invariants of every development plan (``inference.ranking.development``), over many seeded
random roles, people and course catalogs."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from features.domain import (
    Course,
    ProfileEntry,
    Requirement,
    RequirementProfile,
    Role,
)
from inference.ranking.development import (
    IMPORTANT,
    MAX_PLAN_REQUIREMENTS,
    WEEKLY_LEARNING_HOURS,
    course_covers,
    development_plan,
)
from inference.ranking.explain import skill_label

ROLE = Role(id="r", title="Target", onet_code=None, level=3, job_family="x", department_id="d",
            description="")
LABELS = {f"s{i}": f"skill number {i}" for i in range(40)}


def random_case(seed: int) -> tuple[RequirementProfile, dict[str, ProfileEntry], list[Course]]:
    rng = np.random.default_rng(seed)
    uris = [f"s{i}" for i in rng.choice(40, size=int(rng.integers(0, 25)), replace=False)]
    reqs = RequirementProfile(subject_id="r", requirements=tuple(
        Requirement(skill_uri=u, importance=round(float(rng.uniform(0, 1)), 2),
                    level=round(float(rng.uniform(0.1, 1)), 2), essential=bool(rng.random() < .3))
        for u in uris))
    entries = {u: ProfileEntry(skill_uri=u, proficiency=round(float(rng.uniform(0, 1)), 2),
                               confidence=0.5)
               for u in uris if rng.random() < 0.4}
    courses = []
    for k in range(int(rng.integers(0, 15))):
        taught = [f"s{i}" for i in rng.choice(40, size=int(rng.integers(1, 4)), replace=False)]
        named = taught if rng.random() < 0.7 else taught[:1]
        courses.append(Course(id=f"c{k}", title=f"course {k}", hours=int(rng.integers(2, 30)),
                              skill_uris=tuple(taught),
                              description="Covering " + ", ".join(LABELS[u] for u in named)))
    return reqs, entries, courses


@pytest.mark.parametrize("seed", range(60))
def test_plan_invariants(seed: int) -> None:
    reqs, entries, courses = random_case(seed)
    by_skill: dict[str, list[Course]] = {}
    for c in courses:
        for uri in c.skill_uris:
            by_skill.setdefault(uri, []).append(c)
    label = skill_label(LABELS)
    plan = development_plan(employee_id="me", role=ROLE, requirements=reqs, entries=entries,
                            label=label, courses_by_skill=by_skill, opportunities=[],
                            model_version="1", as_of=date(2024, 1, 2))
    counted = [r for r in reqs.requirements if r.essential or r.importance >= IMPORTANT]
    assert plan.requirements == min(len(counted), MAX_PLAN_REQUIREMENTS)
    # readiness and requirements met are one figure
    assert plan.met == plan.requirements - len(plan.gaps)
    assert plan.readiness == (1.0 if plan.requirements == 0
                              else round(plan.met / plan.requirements, 4))
    by_uri = {r.skill_uri: r for r in reqs.requirements}
    for gap in plan.gaps:
        req = by_uri[gap.uri]
        assert req.essential or req.importance >= IMPORTANT       # only gaps that matter
        assert gap.current_level < gap.required_level or gap.current_level == 0.0
        catalog = {x.id: x for x in courses}
        for listed in gap.courses:                                 # content covers the gap
            assert course_covers(catalog[listed.id], gap.uri, label(gap.uri))
    keys = [(not g.essential, -g.importance, -g.gap, g.uri) for g in plan.gaps]
    assert keys == sorted(keys)
    covered = {u for c in plan.course_plan for u in c.skill_uris}
    assert covered == {g.uri for g in plan.gaps if g.courses}
    assert set(plan.uncovered_skills) == {g.uri for g in plan.gaps if not g.courses}
    assert plan.estimate_complete == (not plan.uncovered_skills)
    assert plan.total_course_hours == sum(c.hours for c in plan.course_plan)
    if reqs.requirements:
        assert plan.weeks_to_readiness == math.ceil(
            plan.total_course_hours / WEEKLY_LEARNING_HOURS * 10) / 10
    else:
        assert plan.weeks_to_readiness is None


def test_a_course_covers_a_skill_only_when_its_content_names_it() -> None:
    course = Course(id="c", title="Spreadsheets in practice", hours=4, skill_uris=("a", "b"),
                    description="A 4-hour course covering use spreadsheets software.")
    assert course_covers(course, "a", "use spreadsheets software")
    assert not course_covers(course, "b", "operate forklift")          # listed, not taught
    assert not course_covers(course, "z", "use spreadsheets software")  # not listed
