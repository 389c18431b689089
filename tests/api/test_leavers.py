"""People who left (``waypoint import`` marks them in ``employee_departures``; their rows and
history stay) against a real app, store and bundle: never a candidate, their sign-in closed
(403, whatever the token), their employee views gone for every caller (410)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from features import tables as t
from tests.support.authz_matrix import sign_in
from tests.support.product_app import Product, product_app
from tests.support.serving_factory import ROLE

LEFT_ON = date(2026, 11, 30)


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Product]:
    with product_app(tmp_path_factory.mktemp("leavers")) as found:
        yield found


def candidate_ids(product: Product) -> set[str]:
    response = product.call("GET", f"/v1/roles/{ROLE}/candidates", "recruiter",
                            params={"limit": 100})
    assert response.status_code == 200, response.text
    return {i["employee_id"] for i in response.json()["items"]}


def mark_left(product: Product, employee_id: str) -> None:
    """What an import that marks a departure writes, except that the discoverable flag is left
    set: a departure alone must keep someone out of candidate lists."""
    with product.app.state.store.engine.begin() as conn:
        conn.execute(t.employee_departures.insert(), [
            {"employee_id": employee_id, "left_on": LEFT_ON, "source": "file"}])
        conn.execute(t.dataset_versions.update()
                     .where(t.dataset_versions.c.name == "organization")
                     .values(version="after-import", loaded_at=datetime.now(UTC)))


def test_a_leaver_is_no_candidate_and_their_views_are_closed(product: Product) -> None:
    before = candidate_ids(product)
    person = sorted(before)[0]
    product.tokens["person"] = sign_in(product.client, person, "employee")
    own = f"/v1/employees/{person}/recommendations"
    assert product.call("GET", own, "person").status_code == 200

    mark_left(product, person)
    store = product.app.state.store
    assert store.left_on(person) == LEFT_ON and store.employee(person).discoverable
    assert person not in store.discoverable_ids()
    assert person not in candidate_ids(product)  # served without a model reload
    assert candidate_ids(product) == before - {person}

    # their own sign-in: a token issued before they left, and a new sign-in
    refused = product.call("GET", own, "person")
    assert refused.status_code == 403
    assert "left the organization on 2026-11-30" in refused.json()["error"]["message"]
    form = {"grant_type": "password", "username": person, "password": "demo"}
    assert product.client.post("/v1/auth/token", data=form).status_code == 403
    # their employee views, for anyone allowed to see them before (HR, the recruiter)
    for who, url in (("hr", own), ("hr", f"/v1/employees/{person}"),
                     ("recruiter", f"/v1/employees/{person}")):
        gone = product.call("GET", url, who)
        assert gone.status_code == 410, (who, url, gone.text)
        assert "left the organization" in gone.json()["error"]["message"]
