"""Evidence and a person's own skills against a real app, store, bundle and skills engine: a
self-description naming a skill the person lacked puts it in their profile and changes a plan
that needed it, without a reload; who may add which evidence; idempotency; bad input."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from features import tables as t
from inference.skills.engine import SkillEngine
from tests.support.authz_matrix import sign_in
from tests.support.product_app import Product, product_app
from tests.support.serving_factory import OWNER
from tests.support.skills_factory import uri_of

pytestmark = pytest.mark.model
MANAGER = "e002"


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory,
            small_skill_engine: SkillEngine) -> Iterator[Product]:
    with product_app(tmp_path_factory.mktemp("live-evidence")) as found:
        with found.app.state.store.engine.begin() as conn:
            conn.execute(t.employees.update().where(t.employees.c.id == OWNER)
                         .values(manager_id=MANAGER))
        found.app.state.skills_engine = small_skill_engine
        found.tokens["manager"] = sign_in(found.client, MANAGER, "manager")
        yield found


def skills(product: Product, who: str = "self") -> dict[str, Any]:
    response = product.call("GET", f"/v1/employees/{OWNER}/skills", who)
    assert response.status_code == 200, response.text
    return {s["uri"]: s for s in response.json()["skills"]}


def add(product: Product, who: str, body: dict[str, Any], key: str) -> Any:
    return product.call("POST", f"/v1/employees/{OWNER}/evidence", who, json=body,
                        headers={"Idempotency-Key": key})


def plan(product: Product, role_id: str) -> dict[str, Any]:
    response = product.call("GET", f"/v1/employees/{OWNER}/development-plan", "self",
                            params={"target_role_id": role_id})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_profile_shows_each_skill_with_its_evidence(product: Product) -> None:
    shown = skills(product)
    assert shown
    for entry in shown.values():
        assert 0 <= entry["proficiency"] <= 1 and 0 < entry["confidence"] <= 1
        assert entry["evidence"] and all(e["id"] for e in entry["evidence"])
    assert skills(product, "manager").keys() == shown.keys()
    for who in ("other", "recruiter", "ml"):
        assert product.call("GET", f"/v1/employees/{OWNER}/skills", who).status_code == 403


def test_a_self_description_adds_the_skill_it_names_at_once(
        product: Product, small_skill_engine: SkillEngine) -> None:
    uri = uri_of(small_skill_engine, "machine learning")
    assert uri not in skills(product)
    made = add(product, "self", {"kind": "self_description",
                                 "text": "I build machine learning models for our forecasts."},
               "describe-1")
    assert made.status_code == 201, made.text
    assert uri in {s["uri"] for s in made.json()["skills"]}
    now = skills(product)
    assert uri in now
    assert made.json()["id"] in {e["id"] for e in now[uri]["evidence"]}
    again = add(product, "self", {"kind": "self_description",
                                  "text": "I build machine learning models for our forecasts."},
                "describe-1")
    assert again.status_code == 200 and again.json()["id"] == made.json()["id"]
    clash = add(product, "self", {"kind": "self_description", "text": "Something else."},
                "describe-1")
    assert clash.status_code == 409


def test_a_declared_skill_changes_a_plan_that_needed_it(product: Product) -> None:
    recommender = product.app.state.serving_model.current
    owner = recommender.employees[OWNER]
    target = next(r for r in recommender.roles.values()
                  if r.level == owner.level + 1 and r.job_family == recommender.roles[
                      owner.role_id].job_family) if owner.level < 4 else recommender.roles[
        owner.role_id]
    before = plan(product, target.id)
    assert before["gaps"], "the plan must have a gap for this test to mean anything"
    gap = before["gaps"][0]["uri"]
    made = add(product, "self", {"kind": "self_declared", "skill_uri": gap}, "declare-1")
    assert made.status_code == 201, made.text
    after = plan(product, target.id)
    # the gap closes, or (a self-declared level can sit below the required one) narrows
    level_before = before["gaps"][0]["current_level"]
    still = [g for g in after["gaps"] if g["uri"] == gap]
    assert not still or still[0]["current_level"] > level_before, (before["gaps"][0], still)
    assert gap in skills(product)
    # a manager's endorsement of the same skill raises its confidence
    confidence = skills(product)[gap]["confidence"]
    endorsed = add(product, "manager", {"kind": "endorsement", "skill_uri": gap}, "endorse-1")
    assert endorsed.status_code == 201, endorsed.text
    assert skills(product)[gap]["confidence"] > confidence


def test_who_may_add_which_evidence(product: Product) -> None:
    skill = "http://data.europa.eu/esco/skill/s01"
    cases: list[tuple[str, dict[str, Any], int]] = [
             ("manager", {"kind": "self_declared", "skill_uri": skill}, 403),
             ("other", {"kind": "endorsement", "skill_uri": skill}, 403),
             ("self", {"kind": "endorsement", "skill_uri": skill}, 403),
             ("hr", {"kind": "endorsement", "skill_uri": skill}, 403),
             ("recruiter", {"kind": "review", "text": "Great at SQL."}, 403),
             ("ml", {"kind": "review", "text": "Great at SQL."}, 403),
             ("hr", {"kind": "review", "text": "Great at SQL.", "rating": 4}, 201),
             ("manager", {"kind": "review", "text": "Leads the team well."}, 201)]
    for i, (who, body, expected) in enumerate(cases):
        response = add(product, who, body, f"who-{i}")
        assert response.status_code == expected, (who, body, response.text)
        assert response.status_code < 300 or set(response.json()) == {"error"}
    missing = product.call("POST", "/v1/employees/e-missing/evidence", "hr",
                           json={"kind": "review", "text": "x"}, headers={"Idempotency-Key": "m"})
    assert missing.status_code == 404


@pytest.mark.parametrize("body", [
    {"kind": "course_completion"}, {"kind": "course_completion", "course_id": "no-course"},
    {"kind": "self_declared"}, {"kind": "self_declared", "skill_uri": "not-a-skill"},
    {"kind": "self_description", "text": "   "}, {"kind": "self_description", "text": "x",
                                                   "rating": 3},
    {"kind": "diploma"}, {"kind": "self_description", "text": "x" * 5000},
    {"kind": "self_description", "text": "ok", "extra": 1}])
def test_bad_evidence_is_422_json(product: Product, body: dict[str, Any]) -> None:
    response = add(product, "self", body, "bad-1")
    assert response.status_code == 422, response.text
    assert set(response.json()) == {"error"}


def test_a_course_completion_credits_the_course_skills(product: Product) -> None:
    course = product.world.org.courses[0]
    made = add(product, "self", {"kind": "course_completion", "course_id": course.id}, "c-1")
    assert made.status_code == 201, made.text
    assert set(course.skill_uris) <= {s["uri"] for s in made.json()["skills"]}
    shown = skills(product)
    assert all(made.json()["id"] in {e["id"] for e in shown[u]["evidence"]}
               for u in course.skill_uris if u in shown)
    assert set(course.skill_uris) & set(shown)


def test_aspirations_and_locations_are_the_employees_and_feed_the_ranking(
        product: Product) -> None:
    url = f"/v1/employees/{OWNER}/preferences"
    recommender = product.app.state.serving_model.current
    changed = product.call("PUT", url, "self", json={"aspirations": "finance leadership",
                                                     "locations": ["Oslo", "Oslo", "Remote"]})
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"employee_id": OWNER, "aspirations": "finance leadership",
                              "locations": ["Oslo", "Remote"]}
    assert product.call("GET", url, "manager").json()["locations"] == ["Oslo", "Remote"]
    ctx = recommender.context(recommender.employees[OWNER])
    assert {"finance", "leadership"} <= set(ctx.aspiration_tokens)  # the feature reads it now
    for who in ("manager", "hr", "other", "recruiter"):
        assert product.call("PUT", url, who, json={"aspirations": "x"}).status_code == 403, who
    for who in ("other", "recruiter", "ml"):
        assert product.call("GET", url, who).status_code == 403, who
    for bad in ({}, {"locations": ["x"] * 11}, {"aspirations": "x" * 501}, {"mood": "happy"},
                {"locations": [""]}):
        response = product.call("PUT", url, "self", json=bad)
        assert response.status_code == 422 and set(response.json()) == {"error"}, bad
