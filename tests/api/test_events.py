"""``POST /v1/events`` against a real app, store and bundle: idempotency (201 then 200, exactly
once), who may post, validation, and ``skill_rejected`` removing a skill from serving at once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from features.domain import EventKind
from inference.ranking import recommender as recommender_module
from tests.support.authz_matrix import sign_in
from tests.support.product_app import Product, product_app
from tests.support.serving_factory import FILLED, OWN_PROJECT, OWNER


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Product]:
    with product_app(tmp_path_factory.mktemp("events")) as found:
        yield found


def post(product: Product, who: str | None, body: dict[str, Any], key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return product.call("POST", "/v1/events", who, json=body, headers=headers)


def stored(product: Product, employee_id: str, key: str) -> list[Any]:
    store = product.app.state.store
    return [e for e in store.events(employee_id) if e.idempotency_key == f"{employee_id}:{key}"]


def test_new_event_is_201_and_a_repeat_is_200_with_the_stored_event(product: Product) -> None:
    body = {"kind": "click", "opportunity_id": "open-1"}
    first = post(product, "self", body, key="click-1")
    assert first.status_code == 201, first.text
    event = first.json()
    assert event["employee_id"] == OWNER and event["kind"] == "click"
    assert event["idempotency_key"] == "click-1"
    again = post(product, "self", body, key="click-1")
    assert again.status_code == 200 and again.json() == event
    # the body field works the same as the header
    in_body = post(product, "self", {**body, "idempotency_key": "click-1"})
    assert in_body.status_code == 200 and in_body.json()["id"] == event["id"]
    assert len(stored(product, OWNER, "click-1")) == 1


def test_the_key_is_required_and_must_agree(product: Product) -> None:
    body = {"kind": "click", "opportunity_id": "open-1"}
    assert post(product, "self", body).status_code == 422
    differ = post(product, "self", {**body, "idempotency_key": "a"}, key="b")
    assert differ.status_code == 422 and set(differ.json()) == {"error"}
    assert post(product, "self", body, key="bad key with spaces").status_code == 422
    assert post(product, "self", body, key="x" * 64).status_code == 422


def test_same_key_different_event_is_409(product: Product) -> None:
    assert post(product, "self", {"kind": "click", "opportunity_id": "open-1"},
                key="k-409").status_code == 201
    clash = post(product, "self", {"kind": "application", "opportunity_id": "open-1"},
                 key="k-409")
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "conflict"


def test_keys_are_scoped_to_the_caller(product: Product) -> None:
    body = {"kind": "impression", "opportunity_id": "open-2"}
    mine = post(product, "self", body, key="shared-key")
    theirs = post(product, "other", body, key="shared-key")
    assert mine.status_code == 201 and theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs.json()["employee_id"] != OWNER


def test_only_about_yourself(product: Product) -> None:
    body = {"kind": "click", "opportunity_id": "open-1"}
    someone = post(product, "other", {**body, "employee_id": OWNER}, key="spoof")
    assert someone.status_code == 403 and set(someone.json()) == {"error"}
    for admin in ("hr", "ml"):
        assert post(product, admin, body, key="admin").status_code == 403
    assert post(product, None, body, key="anon").status_code == 401
    own = post(product, "self", {**body, "employee_id": OWNER}, key="own-id")
    assert own.status_code == 201


@pytest.mark.parametrize(("body", "status"), [
    ({"kind": "click"}, 422),
    ({"kind": "application", "opportunity_id": "no-such-opportunity"}, 404),
    ({"kind": "skill_rejected"}, 422),
    ({"kind": "feedback"}, 422),
    ({"kind": "teleport", "opportunity_id": "open-1"}, 422),
    ({"kind": "click", "opportunity_id": "open-1", "surprise": 1}, 422),
])
def test_validation(product: Product, body: dict[str, Any], status: int) -> None:
    response = post(product, "self", body, key=f"v-{status}-{body['kind']}-{len(body)}")
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error"}


def test_label_events_are_guarded(product: Product) -> None:
    """Applications and accepted moves become training labels: no one writes themself one."""
    moved = post(product, "self", {"kind": "accepted_move", "opportunity_id": "open-1"},
                 key="moved-1")
    assert moved.status_code == 403 and "HR" in moved.json()["error"]["message"]
    own = post(product, "self", {"kind": "application", "opportunity_id": OWN_PROJECT},
               key="apply-own")
    assert own.status_code == 403
    filled = post(product, "other", {"kind": "application", "opportunity_id": FILLED},
                  key="apply-filled")
    assert filled.status_code == 409 and "filled" in filled.json()["error"]["message"]
    events = product.app.state.store.organization().events
    assert not any(e.kind is EventKind.ACCEPTED_MOVE and e.employee_id == OWNER
                   and e.opportunity_id == "open-1" for e in events)
    assert not any(e.opportunity_id in (OWN_PROJECT, FILLED) and e.kind is EventKind.APPLICATION
                   for e in events)
    # a retried application is answered from the store even if the opportunity closed since
    from sqlalchemy import update

    from features import tables as t

    store = product.app.state.store

    def set_status(value: str) -> None:
        with store.engine.begin() as conn:
            conn.execute(update(t.opportunities).where(t.opportunities.c.id == "open-2")
                         .values(status=value))

    applied = post(product, "other", {"kind": "application", "opportunity_id": "open-2"},
                   key="apply-then-close")
    assert applied.status_code == 201
    original = store.opportunity("open-2")
    assert original is not None
    set_status("closed")
    try:
        again = post(product, "other", {"kind": "application", "opportunity_id": "open-2"},
                     key="apply-then-close")
        assert again.status_code == 200 and again.json() == applied.json()
        late = post(product, "other", {"kind": "application", "opportunity_id": "open-2"},
                    key="apply-late")
        assert late.status_code == 409
    finally:
        set_status(original.status.value)
    # other kinds about such opportunities are still taken (a click on a filled one is a click)
    assert post(product, "self", {"kind": "click", "opportunity_id": FILLED},
                key="click-filled").status_code == 201


def test_feedback_and_not_interested(product: Product) -> None:
    assert post(product, "self", {"kind": "feedback", "detail": "too many gigs"},
                key="fb-1").status_code == 201
    assert post(product, "self", {"kind": "not_interested", "opportunity_id": "open-2"},
                key="ni-1").status_code == 201


def test_events_are_training_data(product: Product) -> None:
    """Applications and accepted moves land in the events the training set is built from
    (``training.ranking.dataset.historical_queries`` reads ``store.organization().events``)."""
    assert post(product, "self", {"kind": "application", "opportunity_id": "open-1"},
                key="apply-1").status_code == 201
    events = product.app.state.store.organization().events
    assert any(e.kind is EventKind.APPLICATION and e.employee_id == OWNER
               and e.opportunity_id == "open-1" for e in events)


REJECTER = "e005"
"""An employee whose recommendations credit them with some skill (in the serving world)."""


def _levels(product: Product) -> dict[str, float]:
    """Skill uri -> the level REJECTER's recommendations credit them with (matched or not)."""
    response = product.call("GET", f"/v1/employees/{REJECTER}/recommendations", "rejecter",
                            params={"limit": 50})
    assert response.status_code == 200, response.text
    levels: dict[str, float] = {}
    for item in response.json()["items"]:
        for m in item["matched_skills"]:
            levels[m["uri"]] = m["proficiency"]
        for m in item["missing_skills"]:
            levels[m["uri"]] = max(levels.get(m["uri"], 0.0), m["current_level"])
    return levels


def test_a_rejected_skill_leaves_the_profile_at_once(product: Product) -> None:
    product.tokens["rejecter"] = sign_in(product.client, REJECTER, "employee")
    recommender = product.app.state.serving_model.current
    credited = {uri for uri, level in _levels(product).items() if level > 0}
    assert credited, "REJECTER must be credited with some skill for this test to mean anything"
    uri = sorted(credited)[0]
    assert uri in {e.skill_uri for e in recommender.profile(REJECTER).entries}
    response = post(product, "rejecter", {"kind": "skill_rejected", "skill_uri": uri,
                                      "detail": "never used it"}, key="reject-1")
    assert response.status_code == 201, response.text
    assert uri not in {e.skill_uri for e in recommender.profile(REJECTER).entries}
    assert uri not in recommender.context(recommender.employees[REJECTER]).skills
    assert _levels(product).get(uri, 0.0) == 0.0  # explanations no longer credit it
    assert uri in recommender.rejected_skills(REJECTER)
    assert recommender.rejected_skills("e010") == frozenset()  # nobody else's profile changes


def test_a_rejection_made_elsewhere_is_seen_after_the_ttl(
        product: Product, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another worker stored the event (straight into the store): after ``REJECTED_TTL_S``
    this worker re-reads and drops the skill too."""
    from datetime import UTC, datetime

    from features.domain import Event

    recommender = product.app.state.serving_model.current
    employee = "e010"
    entries = recommender.profile(employee).entries
    assert entries
    uri = entries[0].skill_uri
    recommender.context(recommender.employees[employee])  # cached before the event
    product.app.state.store.add_event(Event(
        id="ev-elsewhere", kind=EventKind.SKILL_REJECTED, employee_id=employee,
        occurred_at=datetime.now(UTC), skill_uri=uri, idempotency_key=f"{employee}:elsewhere"))
    monkeypatch.setattr(recommender_module, "REJECTED_TTL_S", 0.0)
    assert uri in recommender.rejected_skills(employee)
    ctx = recommender.context(recommender.employees[employee])
    assert uri not in ctx.skills
