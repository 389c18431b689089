"""Lists and live opportunities against a real app, store, bundle and skills engine: dismissals,
filters and paging in the serving pipeline; posting, editing and closing an opportunity (served
without a reload); its applicants and its fairly re-ranked candidates for the hiring manager."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from features import tables as t
from features.domain import OpportunityKind
from inference.skills.engine import SkillEngine
from tests.support.authz_matrix import sign_in
from tests.support.live_factory import add_opportunities
from tests.support.product_app import Product, product_app
from tests.support.serving_factory import OWNER, RECRUITER, ROLE

pytestmark = pytest.mark.model
MANAGER = "e002"
"""Made OWNER's manager here (the serving world has no reporting lines)."""
@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory,
            small_skill_engine: SkillEngine) -> Iterator[Product]:
    with product_app(tmp_path_factory.mktemp("live-lists")) as found:
        with found.app.state.store.engine.begin() as conn:
            conn.execute(t.employees.update().where(t.employees.c.id == OWNER)
                         .values(manager_id=MANAGER))
        found.app.state.skills_engine = small_skill_engine
        found.tokens["manager"] = sign_in(found.client, MANAGER, "manager")
        add_opportunities(found)
        found.app.state.serving_model.current.live_catalog(force=True)
        yield found


def recommendations(product: Product, who: str = "self", employee_id: str = OWNER,
                    **params: Any) -> dict[str, Any]:
    response = product.call("GET", f"/v1/employees/{employee_id}/recommendations", who,
                            params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids(body: dict[str, Any]) -> list[str]:
    return [i["opportunity_id"] for i in body["items"]]


def post_event(product: Product, who: str, body: dict[str, Any], key: str) -> Any:
    return product.call("POST", "/v1/events", who, json=body, headers={"Idempotency-Key": key})


def test_a_dismissed_item_is_gone_from_the_next_list(product: Product) -> None:
    before = ids(recommendations(product))
    assert len(before) >= 3
    gone = before[1]
    assert post_event(product, "self", {"kind": "not_interested", "opportunity_id": gone},
                      "dismiss-1").status_code == 201
    after = ids(recommendations(product))
    assert gone not in after
    assert set(after) == set(before) - {gone} and len(after) == len(before) - 1
    assert after[0] == before[0]
    # the person's manager sees the same list without it; nobody else's list changes
    assert gone not in ids(recommendations(product, "manager"))


def test_filters_are_applied_before_the_list_is_cut(product: Product) -> None:
    everything = recommendations(product)["items"]
    assert everything
    first = everything[0]
    for name, field, value in (("location", "location", first["location"]),
                               ("level", "level", first["level"]),
                               ("department", "department_id", first["department_id"]),
                               ("kinds", "kind", first["kind"])):
        narrowed = recommendations(product, **{name: str(value)}, limit=3)
        assert narrowed["items"], name
        assert all(i[field] == value for i in narrowed["items"]), name
        expected = [i["opportunity_id"] for i in everything if i[field] == value]
        # the first 3 of the filtered list are the first 3 that pass, not what survived a cut
        full = ids(recommendations(product, **{name: str(value)}))
        assert ids(narrowed) == full[:3]
        assert set(full) >= set(expected), name
    both = recommendations(product, location=first["location"], level=str(first["level"]))
    assert all(i["location"] == first["location"] and i["level"] == first["level"]
               for i in both["items"])
    assert recommendations(product, location="Nowhere-City")["items"] == []


def test_pages_continue_each_other(product: Product) -> None:
    whole = recommendations(product, limit=8)
    assert whole["total"] >= 8 and whole["offset"] == 0
    first = recommendations(product, limit=3)
    second = recommendations(product, limit=3, offset=3)
    third = recommendations(product, limit=3, offset=6)
    assert ids(first) + ids(second) + ids(third)[:2] == ids(whole)
    assert [i["rank"] for i in second["items"]] == list(range(4, 7))
    beyond = recommendations(product, offset=whole["total"])
    assert beyond["items"] == [] and beyond["total"] == whole["total"]


@pytest.mark.parametrize("params", [{"level": "6"}, {"level": "two"}, {"offset": "-1"},
                                    {"offset": "5000"}, {"kinds": "job"},
                                    {"location": ",".join(f"c{i}" for i in range(30))}])
def test_bad_filters_are_422_json(product: Product, params: dict[str, str]) -> None:
    response = product.call("GET", f"/v1/employees/{OWNER}/recommendations", "self",
                            params=params)
    assert response.status_code == 422 and set(response.json()) == {"error"}


def _posting(product: Product, **overrides: Any) -> dict[str, Any]:
    """A project naming three skills OWNER holds, at OWNER's level and location."""
    recommender = product.app.state.serving_model.current
    owner = recommender.employees[OWNER]
    held = sorted(recommender.skill_entries(OWNER).values(), key=lambda e: -e.proficiency)
    body = {"kind": "project", "title": "Pipeline rebuild", "level": owner.level,
            "description": "Rebuild the reporting pipeline in Python and SQL with the team.",
            "location": owner.location, "skill_uris": [e.skill_uri for e in held[:3]],
            "closes_on": (date.today() + timedelta(days=30)).isoformat()}
    return {**body, **overrides}


def test_a_posted_project_is_recommended_at_once_and_closing_removes_it(
        product: Product) -> None:
    body = _posting(product)
    recommender = product.app.state.serving_model.current
    made = product.call("POST", "/v1/opportunities", "manager", json=body,
                        headers={"Idempotency-Key": "post-1"})
    assert made.status_code == 201, made.text
    posted = made.json()
    assert posted["owner_id"] == MANAGER and posted["status"] == "open"
    required = {s["uri"] for s in posted["required_skills"]}
    assert set(body["skill_uris"]) <= required
    assert required - set(body["skill_uris"]), "skills inferred from the description too"
    shown = recommendations(product, kinds="project")
    assert posted["id"] in ids(shown)
    item = next(i for i in shown["items"] if i["opportunity_id"] == posted["id"])
    assert {m["uri"] for m in item["matched_skills"]} & set(body["skill_uris"])
    assert item["owner_id"] == MANAGER and item["description"] == body["description"]
    assert product.app.state.serving_model.current is recommender  # no reload
    # a repeat of the key is the same opportunity; the same key for another body is a 409
    again = product.call("POST", "/v1/opportunities", "manager", json=body,
                         headers={"Idempotency-Key": "post-1"})
    assert again.status_code == 200 and again.json()["id"] == posted["id"]
    clash = product.call("POST", "/v1/opportunities", "manager",
                         json={**body, "title": "Another"}, headers={"Idempotency-Key": "post-1"})
    assert clash.status_code == 409 and set(clash.json()) == {"error"}
    mine = product.call("GET", "/v1/opportunities", "manager", params={"owner": "me"})
    assert [o["id"] for o in mine.json()["items"]] == [posted["id"]]
    # only the owner edits; closing takes it off the list at once
    refused = product.call("PATCH", f"/v1/opportunities/{posted['id']}", "recruiter",
                           json={"status": "closed"})
    assert refused.status_code == 403
    closed = product.call("PATCH", f"/v1/opportunities/{posted['id']}", "manager",
                          json={"status": "closed"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert posted["id"] not in ids(recommendations(product, kinds="project"))


def test_a_posting_states_its_time_commitment_and_every_view_carries_it(
        product: Product) -> None:
    body = _posting(product, title="Pipeline gig", kind="gig", hours_per_week=4)
    made = product.call("POST", "/v1/opportunities", "manager", json=body,
                        headers={"Idempotency-Key": "post-hours"})
    assert made.status_code == 201, made.text
    oid = made.json()["id"]
    assert made.json()["hours_per_week"] == 4.0
    assert product.app.state.store.opportunity(oid).hours_per_week == 4.0
    item = next(i for i in recommendations(product, kinds="gig")["items"]
                if i["opportunity_id"] == oid)
    assert item["hours_per_week"] == 4.0
    shown = product.call("GET", f"/v1/opportunities/{oid}", "self")
    assert shown.status_code == 200 and shown.json()["hours_per_week"] == 4.0
    mine = product.call("GET", "/v1/opportunities", "manager", params={"owner": "me"})
    assert {o["id"]: o["hours_per_week"] for o in mine.json()["items"]}[oid] == 4.0
    assert post_event(product, "self", {"kind": "saved", "opportunity_id": oid},
                      "save-hours").status_code == 201
    saved = product.call("GET", f"/v1/employees/{OWNER}/saved", "self").json()["items"]
    assert {s["opportunity_id"]: s["hours_per_week"] for s in saved}[oid] == 4.0
    candidates = product.call("GET", f"/v1/opportunities/{oid}/candidates", "manager")
    assert candidates.status_code == 200 and candidates.json()["hours_per_week"] == 4.0
    # an edit changes it, null clears it (not stated), a bad value is a 422 that changes nothing
    url = f"/v1/opportunities/{oid}"
    edited = product.call("PATCH", url, "manager", json={"hours_per_week": 37.5})
    assert edited.status_code == 200 and edited.json()["hours_per_week"] == 37.5
    item = next(i for i in recommendations(product, kinds="gig")["items"]
                if i["opportunity_id"] == oid)
    assert item["hours_per_week"] == 37.5
    for bad in (0, -2, 60.5, "lots", [4]):
        refused = product.call("PATCH", url, "manager", json={"hours_per_week": bad})
        assert refused.status_code == 422 and set(refused.json()) == {"error"}, bad
        posted = product.call("POST", "/v1/opportunities", "manager",
                              json={**body, "hours_per_week": bad},
                              headers={"Idempotency-Key": "post-bad-hours"})
        assert posted.status_code == 422 and set(posted.json()) == {"error"}, bad
    assert product.app.state.store.opportunity(oid).hours_per_week == 37.5
    cleared = product.call("PATCH", url, "manager", json={"hours_per_week": None})
    assert cleared.status_code == 200 and cleared.json()["hours_per_week"] is None
    unstated = product.call("POST", "/v1/opportunities", "manager",
                            json={k: v for k, v in body.items() if k != "hours_per_week"},
                            headers={"Idempotency-Key": "post-no-hours"})
    assert unstated.status_code == 201 and unstated.json()["hours_per_week"] is None
    for posted_id in (oid, unstated.json()["id"]):
        product.call("PATCH", f"/v1/opportunities/{posted_id}", "manager",
                     json={"status": "closed"})


def test_who_may_post_and_what_is_refused(product: Product) -> None:
    body = _posting(product)
    for who in ("self", "ml"):
        refused = product.call("POST", "/v1/opportunities", who, json=body,
                               headers={"Idempotency-Key": f"no-{who}"})
        assert refused.status_code == 403, who
    for bad in ({**body, "level": 9}, {**body, "kind": "job"}, {**body, "skill_uris": ["x:y"]},
                {**body, "closes_on": "2001-01-01"}, {**body, "role_id": "no-role"},
                {**body, "owner_id": OWNER}, {k: v for k, v in body.items() if k != "title"},
                {**body, "unknown": 1}):
        response = product.call("POST", "/v1/opportunities", "recruiter", json=bad,
                                headers={"Idempotency-Key": "bad-post"})
        assert response.status_code in (403, 422), bad
        assert set(response.json()) == {"error"}
    no_key = product.call("POST", "/v1/opportunities", "recruiter", json=body)
    assert no_key.status_code == 422


def test_the_owner_sees_applicants_and_candidates_of_an_opening(product: Product) -> None:
    recommender = product.app.state.serving_model.current
    role = recommender.roles[ROLE]
    opening = product.call("POST", "/v1/opportunities", "manager", headers={
        "Idempotency-Key": "opening-1"}, json={
        "kind": OpportunityKind.OPEN_ROLE.value, "title": "Second " + role.title,
        "description": role.description, "location": "Remote", "level": role.level,
        "role_id": ROLE, "department_id": role.department_id})
    assert opening.status_code == 201, opening.text
    oid = opening.json()["id"]
    assert post_event(product, "self", {"kind": "application", "opportunity_id": oid},
                      "apply-opening").status_code == 201
    applicants = product.call("GET", f"/v1/opportunities/{oid}/applicants", "manager")
    assert applicants.status_code == 200, applicants.text
    assert [a["employee_id"] for a in applicants.json()["items"]] == [OWNER]
    listed = product.call("GET", f"/v1/opportunities/{oid}/candidates", "manager",
                          params={"limit": 10})
    assert listed.status_code == 200, listed.text
    view = listed.json()
    assert view["opportunity_id"] == oid and view["location"] == "Remote"
    assert view["level"] == role.level and view["fairness"] is not None
    people = [c["employee_id"] for c in view["items"]]
    assert people and MANAGER not in people
    live = product.app.state.store.discoverable_ids()
    assert set(people) <= live
    assert all("score" not in c and "model_rank" not in c for c in view["items"])
    # the same code as a role's list: same requirements and target -> same people
    direct = recommender.opportunity_candidates(product.app.state.store.opportunity(oid), 10)
    assert [c.employee_id for c in direct.items] == people
    # a hiring manager owning an open opening for the role now sees the role's candidates too
    assert product.call("GET", f"/v1/roles/{ROLE}/candidates", "manager").status_code == 200
    for who in ("self", "other", "recruiter", "ml"):
        for path in ("applicants", "candidates"):
            refused = product.call("GET", f"/v1/opportunities/{oid}/{path}", who)
            assert refused.status_code == 403, (who, path)
    assert product.call("GET", f"/v1/opportunities/{oid}", "other").status_code == 200
    assert RECRUITER != MANAGER
