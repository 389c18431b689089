"""Development plans: the pure functions (``inference.ranking.development``) on hand-made data, and
``GET /v1/employees/{employee_id}/development-plan`` against a real app, store and bundle."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date

import numpy as np
import pytest

from benchmarks.report_plans import most_reachable_plan, plan_for, plan_statistics
from features.domain import (
    Course,
    Opportunity,
    OpportunityKind,
    OpportunityStatus,
    ProfileEntry,
    Requirement,
    RequirementProfile,
    Role,
)
from inference.ranking.development import WEEKLY_LEARNING_HOURS, development_plan
from inference.ranking.explain import skill_label
from tests.support.product_app import Product, product_app
from tests.support.serving_factory import OWNER

ROLE = Role(id="r", title="Target", onet_code=None, level=3, job_family="x", department_id="d",
            description="")


def req(uri: str, importance: float, level: float, essential: bool = False) -> Requirement:
    return Requirement(skill_uri=uri, importance=importance, level=level, essential=essential)


def course(cid: str, hours: int, *uris: str, about: str | None = None) -> Course:
    """A course whose description names its skills (``about`` replaces that description)."""
    return Course(id=cid, title=cid, skill_uris=uris, hours=hours,
                  description=f"A course covering {' and '.join(uris)}." if about is None
                  else about)


def opportunity(oid: str, kind: OpportunityKind, owner: str | None = None) -> Opportunity:
    return Opportunity(id=oid, kind=kind, title=oid, description="", department_id="d",
                       location="L", level=3, status=OpportunityStatus.OPEN,
                       posted_on=date(2024, 1, 1), owner_id=owner)


def entry(uri: str, proficiency: float) -> ProfileEntry:
    return ProfileEntry(skill_uri=uri, proficiency=proficiency, confidence=0.5)


def test_plan_orders_gaps_and_finds_what_closes_them() -> None:
    requirements = RequirementProfile(subject_id="r", requirements=(
        req("a", 0.9, 0.6), req("b", 0.5, 0.5, essential=True), req("c", 0.7, 0.4),
        req("met", 1.0, 0.5), req("lonely", 0.6, 0.5), req("minor", 0.2, 0.5),
        req("d", 0.8, 0.5)))
    entries = {"met": entry("met", 0.8), "c": entry("c", 0.2)}
    courses = [course("big", 10, "a", "b", "c", about="Covers skill a, b and c."),
               course("small-a", 2, "a", about="Skill A in practice"),
               course("small-b", 3, "b"),
               course("off-topic", 1, "d", about="Forklift safety")]  # lists d, teaches other
    by_skill: dict[str, list[Course]] = {}
    for c in courses:
        for uri in c.skill_uris:
            by_skill.setdefault(uri, []).append(c)
    opps = [(opportunity("gig", OpportunityKind.GIG), RequirementProfile(
                subject_id="gig", requirements=(req("a", 0.3, 0.3), req("c", 0.9, 0.3)))),
            (opportunity("job", OpportunityKind.OPEN_ROLE), RequirementProfile(
                subject_id="job", requirements=(req("a", 1.0, 0.3),))),
            (opportunity("mine", OpportunityKind.PROJECT, owner="me"), RequirementProfile(
                subject_id="mine", requirements=(req("a", 1.0, 0.3),)))]
    plan = development_plan(employee_id="me", role=ROLE, requirements=requirements,
                            entries=entries, label=skill_label({"a": "Skill A"}),
                            courses_by_skill=by_skill, opportunities=opps, model_version="1",
                            as_of=date(2024, 1, 2))
    # essential, then importance; "minor" (importance 0.2) does not count in a plan
    assert [g.uri for g in plan.gaps] == ["b", "a", "d", "c", "lonely"]
    assert plan.requirements == 6 and plan.met == 1
    assert plan.readiness == round(1 / 6, 4)   # one figure: met / requirements
    a = plan.gaps[1]
    assert (a.label, a.required_level, a.current_level, a.gap) == ("Skill A", 0.6, 0.0, 0.6)
    assert [c.id for c in a.courses] == ["small-a", "big"]  # fewest hours first
    assert [o.id for o in a.opportunities] == ["gig"]  # no open role, not their own project
    assert plan.gaps[3].current_level == 0.2
    # greedy cover: "big" covers a, b and c in 10 h, each course counted once
    assert [c.id for c in plan.course_plan] == ["big"]
    assert plan.total_course_hours == 10
    assert plan.weeks_to_readiness == math.ceil(10 / WEEKLY_LEARNING_HOURS * 10) / 10
    # "off-topic" lists d but its content is about something else: not a course for d
    assert plan.uncovered_skills == ["d", "lonely"] and plan.estimate_complete is False


def test_a_met_role_has_no_gaps_and_zero_weeks() -> None:
    requirements = RequirementProfile(subject_id="r", requirements=(req("a", 1.0, 0.5),))
    plan = development_plan(employee_id="me", role=ROLE, requirements=requirements,
                            entries={"a": entry("a", 0.9)}, label=skill_label({}),
                            courses_by_skill={}, opportunities=[], model_version="1",
                            as_of=date(2024, 1, 2))
    assert plan.gaps == [] and plan.weeks_to_readiness == 0.0 and plan.readiness == 1.0
    assert plan.estimate_complete is True
    empty = development_plan(employee_id="me", role=ROLE,
                             requirements=RequirementProfile(subject_id="r"), entries={},
                             label=skill_label({}), courses_by_skill={}, opportunities=[],
                             model_version="1", as_of=date(2024, 1, 2))
    assert empty.weeks_to_readiness is None and empty.requirements == 0


# --------------------------------------------------------------------------- API


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Product]:
    with product_app(tmp_path_factory.mktemp("development")) as found:
        yield found


def url(employee_id: str = OWNER) -> str:
    return f"/v1/employees/{employee_id}/development-plan"


TARGET = "role-engineering-3"


def test_plan_for_self_and_hr(product: Product) -> None:
    org = product.world.org
    courses = {c.id: c for c in org.courses}
    open_ids = {o.id: o for o in org.opportunities if o.status is OpportunityStatus.OPEN}
    recommender = product.app.state.serving_model.current
    for who in ("self", "hr"):
        response = product.call("GET", url(), who, params={"target_role_id": TARGET})
        assert response.status_code == 200, response.text
        plan = response.json()
        assert plan["employee_id"] == OWNER and plan["target_role_id"] == TARGET
        gaps = plan["gaps"]
        assert gaps, "e004 (data) lacks engineering skills"
        keys = [(not g["essential"], -g["importance"]) for g in gaps]
        assert keys == sorted(keys)
        for gap in gaps:
            assert gap["current_level"] < gap["required_level"]
            for c in gap["courses"]:
                assert gap["uri"] in courses[c["id"]].skill_uris
            for o in gap["opportunities"]:
                assert o["id"] in open_ids and o["kind"] != "open_role"
                reqs = dict(recommender.open_opportunities())[open_ids[o["id"]]]
                assert gap["uri"] in {r.skill_uri for r in reqs.requirements}
        hours = sum(c["hours"] for c in plan["course_plan"])
        assert plan["total_course_hours"] == hours
        assert plan["weeks_to_readiness"] == math.ceil(hours / 4.0 * 10) / 10
        assert plan["estimate_complete"] == (not plan["uncovered_skills"])


def test_plan_refusals_and_validation(product: Product) -> None:
    params = {"target_role_id": TARGET}
    for who in ("other", "recruiter", "ml"):
        refused = product.call("GET", url(), who, params=params)
        assert refused.status_code == 403 and set(refused.json()) == {"error"}, who
    assert product.call("GET", url(), None, params=params).status_code == 401
    assert product.call("GET", url(), "self",
                        params={"target_role_id": "no-such-role"}).status_code == 404
    assert product.call("GET", url("no-such-person"), "hr", params=params).status_code == 404
    missing = product.call("GET", url(), "self")
    assert missing.status_code == 422 and set(missing.json()) == {"error"}


def test_plan_statistics_of_the_most_reachable_roles(product: Product) -> None:
    """The report's plan statistics (`benchmarks/report_plans.py`) over every employee of the
    small organization, as served: each plan is the one the API gives for that role, the most
    reachable of the person's listed open roles, and the figures are the plans' own."""
    recommender = product.app.state.serving_model.current
    plans = {}
    for employee in product.world.org.employees:
        plan = most_reachable_plan(recommender, employee.id)
        if plan is None:
            continue
        plans[employee.id] = plan
        listed = recommender.recommend(employee.id, kinds=[OpportunityKind.OPEN_ROLE],
                                       limit=10).items
        others = [plan_for(recommender, employee.id, item.role_id) for item in listed
                  if item.role_id and item.role_id in recommender.roles]
        assert plan.readiness == max(p.readiness for p in others)
        assert plan.readiness == pytest.approx(plan.met / plan.requirements
                                               if plan.requirements else 1.0, abs=1e-3)
    assert len(plans) >= 3, "the small organization lists open roles for several people"
    one_id, one = next(iter(plans.items()))
    served = product.call("GET", url(one_id), "hr",
                          params={"target_role_id": one.target_role_id}).json()
    assert served["readiness"] == pytest.approx(one.readiness)
    assert served["weeks_to_readiness"] == one.weeks_to_readiness

    figures = plan_statistics(list(plans.values()))
    weeks = sorted(p.weeks_to_readiness for p in plans.values()
                   if p.weeks_to_readiness is not None)
    assert figures["employees_with_a_plan"] == len(plans)
    assert figures["weeks_to_readiness"]["median"] == round(float(np.median(weeks)), 1)
    assert (figures["weeks_to_readiness"]["p25"] <= figures["weeks_to_readiness"]["median"]
            <= figures["weeks_to_readiness"]["p75"])
    complete = sum(p.estimate_complete for p in plans.values()) / len(plans)
    assert figures["share_complete_estimate"] == round(complete, 3)
    assert figures["mean_readiness"] == pytest.approx(figures["mean_share_met"], abs=1e-3)
    assert figures["weekly_learning_hours"] == WEEKLY_LEARNING_HOURS
    assert plan_statistics([])["weeks_to_readiness"]["median"] is None
