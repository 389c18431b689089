"""People's own choices against a real app, store and bundle: the saved list, a withdrawn
application, preferred locations as a reason, and API-made applications and dismissals in the
next training set (`training.ranking.stage.build_training_set` over the same store)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from features import tables as t
from features.params import load_params
from inference.artifacts.profiles import ProfileArtifacts
from inference.ranking.explain import PREFERRED_PLACE
from inference.skills.engine import SkillEngine
from tests.support.authz_matrix import sign_in
from tests.support.live_factory import add_opportunities
from tests.support.product_app import Product, product_app
from tests.support.serving_factory import OWNER
from training.ranking.dataset import APPLIED
from training.ranking.stage import build_training_set, training_requirements

pytestmark = pytest.mark.model
MANAGER = "e002"
"""Made OWNER's manager here (the serving world has no reporting lines)."""
APPLICANTS = ("e010", "e011", "e012")
"""Employees who apply to (and some then dismiss) the manager's posted project."""


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory,
            small_skill_engine: SkillEngine) -> Iterator[Product]:
    with product_app(tmp_path_factory.mktemp("live-choices")) as found:
        with found.app.state.store.engine.begin() as conn:
            conn.execute(t.employees.update().where(t.employees.c.id == OWNER)
                         .values(manager_id=MANAGER))
        found.app.state.skills_engine = small_skill_engine
        found.tokens["manager"] = sign_in(found.client, MANAGER, "manager")
        for eid in APPLICANTS:
            found.tokens[eid] = sign_in(found.client, eid, "employee")
        add_opportunities(found)
        found.app.state.serving_model.current.live_catalog(force=True)
        yield found


def event(product: Product, who: str, kind: str, oid: str, key: str) -> Any:
    return product.call("POST", "/v1/events", who, json={"kind": kind, "opportunity_id": oid},
                        headers={"Idempotency-Key": key})


def listed(product: Product, who: str = "self", **params: Any) -> list[dict[str, Any]]:
    response = product.call("GET", f"/v1/employees/{OWNER}/recommendations", who,
                            params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_saved_items_are_listed_for_the_employee_only(product: Product) -> None:
    first, second = [i["opportunity_id"] for i in listed(product)[:2]]
    for oid in (first, second):
        assert event(product, "self", "saved", oid, f"save-{oid}").status_code == 201
    assert event(product, "self", "saved", first, f"save-{first}").status_code == 200  # a retry
    url = f"/v1/employees/{OWNER}/saved"
    mine = product.call("GET", url, "self")
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert [i["opportunity_id"] for i in body["items"]] == [second, first]  # newest first
    assert body["total"] == 2 and body["items"][0]["status"] == "open"
    assert body["items"][0]["title"] == product.app.state.store.opportunity(second).title
    assert product.call("GET", url, "hr").status_code == 200
    for who in ("manager", "other", "recruiter", "ml"):  # a report's saves are their own
        refused = product.call("GET", url, who)
        assert refused.status_code == 403 and set(refused.json()) == {"error"}, who
    assert product.call("GET", "/v1/employees/nobody/saved", "hr").status_code == 404
    # "not interested" later takes it off the saved list (and off the recommendations)
    assert event(product, "self", "not_interested", first, "dismiss-saved").status_code == 201
    assert [i["opportunity_id"] for i in product.call("GET", url, "self").json()["items"]] == [
        second]


def test_a_preferred_location_is_a_reason_and_leaves_the_order_alone(product: Product) -> None:
    before = listed(product)
    place = before[0]["location"]
    assert product.call("PUT", f"/v1/employees/{OWNER}/preferences", "self",
                        json={"locations": [place.upper()]}).status_code == 200
    after = listed(product)
    assert [i["opportunity_id"] for i in after] == [i["opportunity_id"] for i in before]
    for item in after:
        noted = [r for r in item["reasons"] if r["feature"] == PREFERRED_PLACE]
        assert bool(noted) == (item["location"] == place), item["location"]
        if noted:
            assert noted[0]["text"] == f"It is in a place you prefer ({place})"
            assert set(noted[0]) == {"feature", "text"}
    assert any(i["location"] != place for i in after), "the test needs other places too"
    assert product.call("PUT", f"/v1/employees/{OWNER}/preferences", "self",
                        json={"locations": []}).status_code == 200
    assert not any(r["feature"] == PREFERRED_PLACE for i in listed(product)
                   for r in i["reasons"])


def test_api_applications_and_dismissals_are_in_the_next_training_set(
        product: Product) -> None:
    store = product.app.state.store
    posted = product.call("POST", "/v1/opportunities", "manager", headers={
        "Idempotency-Key": "labels-post"}, json={
        "kind": "project", "title": "Forecast service", "location": "Remote", "level": 3,
        "description": "Build forecasting models in Python and present them to clients."})
    assert posted.status_code == 201, posted.text
    oid = posted.json()["id"]
    stayer, withdrawer, dismisser = APPLICANTS
    assert event(product, "self", "application", oid, "labels-apply").status_code == 201
    assert event(product, stayer, "application", oid, "labels-apply").status_code == 201
    assert event(product, withdrawer, "application", oid, "labels-apply").status_code == 201
    assert event(product, withdrawer, "not_interested", oid, "labels-withdraw").status_code == 201
    assert event(product, dismisser, "not_interested", oid, "labels-dismiss").status_code == 201
    # the owner sees the applications still standing
    applicants = product.call("GET", f"/v1/opportunities/{oid}/applicants", "manager").json()
    assert sorted(a["employee_id"] for a in applicants["items"]) == sorted([OWNER, stayer])
    # the manager cannot write themself a label on their own opening
    assert event(product, "manager", "application", oid, "labels-own").status_code == 403

    profiles = ProfileArtifacts(folder=product.settings.artifact_dir / "profiles",
                                as_of=date.today())
    data = build_training_set(store, profiles, load_params().ranker)
    qid = f"opp:{oid}"
    assert qid in data.query_ids
    start = int(data.group_sizes[:data.query_ids.index(qid)].sum())
    size = int(data.group_sizes[data.query_ids.index(qid)])
    rows = dict(zip(data.employee_ids[start:start + size],
                    data.labels[start:start + size].tolist(), strict=True))
    considered = {e for e, g in rows.items() if g >= APPLIED}
    assert considered == {OWNER, stayer}  # the withdrawn application is not a label
    assert data.dismissed[qid] == sorted([withdrawer, dismisser])
    assert data.stats["dismissals"] >= 2
    # the requirements it trains against are the ones inferred when it was posted
    opportunity = store.opportunity(oid)
    inferred = {s["uri"] for s in posted.json()["required_skills"]}
    assert {r.skill_uri for r in training_requirements(store, profiles)(
        opportunity).requirements} == inferred
