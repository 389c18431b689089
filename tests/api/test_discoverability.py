"""``GET`` / ``PUT /v1/employees/{employee_id}/discoverability`` against a real app, store and
bundle: who may read and change it, and candidate lists following a change at once (no model
reload)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.authz_matrix import sign_in
from tests.support.product_app import Product, product_app
from tests.support.serving_factory import OWNER, ROLE


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Product]:
    with product_app(tmp_path_factory.mktemp("discoverability")) as found:
        yield found


def url(employee_id: str) -> str:
    return f"/v1/employees/{employee_id}/discoverability"


def put(product: Product, who: str, employee_id: str, value: Any) -> Any:
    return product.call("PUT", url(employee_id), who, json={"discoverable": value})


def candidate_ids(product: Product) -> set[str]:
    response = product.call("GET", f"/v1/roles/{ROLE}/candidates", "recruiter",
                            params={"limit": 100})
    assert response.status_code == 200, response.text
    return {i["employee_id"] for i in response.json()["items"]}


def test_self_and_hr_read_nobody_else(product: Product) -> None:
    mine = product.call("GET", url(OWNER), "self")
    assert mine.status_code == 200
    assert mine.json() == {"employee_id": OWNER, "discoverable": True}
    assert product.call("GET", url(OWNER), "hr").json()["discoverable"] is True
    for who in ("other", "recruiter", "ml"):
        refused = product.call("GET", url(OWNER), who)
        assert refused.status_code == 403 and set(refused.json()) == {"error"}
    assert product.call("GET", url("no-such-employee"), "hr").status_code == 404
    assert product.call("GET", url(OWNER), None).status_code == 401


def test_only_the_employee_changes_it(product: Product) -> None:
    for who in ("other", "recruiter", "hr", "ml"):
        refused = put(product, who, OWNER, False)
        assert refused.status_code == 403, who
    for body in ({"discoverable": "maybe"}, {}, {"discoverable": True, "extra": 1}):
        bad = product.call("PUT", url(OWNER), "self", json=body)
        assert bad.status_code == 422 and set(bad.json()) == {"error"}
    assert product.app.state.store.employee(OWNER).discoverable is True


def test_opting_out_and_in_changes_candidate_lists_without_a_reload(product: Product) -> None:
    serving = product.app.state.serving_model.current
    before = candidate_ids(product)
    assert before
    person = sorted(before)[0]
    product.tokens["person"] = sign_in(product.client, person, "employee")

    out = put(product, "person", person, False)
    assert out.status_code == 200 and out.json() == {"employee_id": person,
                                                     "discoverable": False}
    assert product.app.state.store.employee(person).discoverable is False
    assert person not in candidate_ids(product)
    refused = product.call("GET", f"/v1/employees/{person}", "recruiter")
    assert refused.status_code == 403

    back = put(product, "person", person, True)
    assert back.status_code == 200 and back.json()["discoverable"] is True
    assert person in candidate_ids(product)
    assert product.app.state.serving_model.current is serving  # the same model throughout


def test_a_newcomer_who_opts_in_becomes_a_candidate(product: Product) -> None:
    """Someone not discoverable when the model loaded appears once they opt in."""
    store = product.app.state.store
    hidden = sorted(e.id for e in store.employees() if not e.discoverable)
    listed_if_opted_in = []
    for employee_id in hidden:
        store.set_discoverable(employee_id, True)
    try:
        now = candidate_ids(product)
        listed_if_opted_in = [e for e in hidden if e in now]
    finally:
        for employee_id in hidden:
            store.set_discoverable(employee_id, False)
    assert listed_if_opted_in, "no opted-in newcomer reached the candidate list"
    assert not set(hidden) & candidate_ids(product)
    newcomer = listed_if_opted_in[0]
    product.tokens["newcomer"] = sign_in(product.client, newcomer, "employee")
    assert put(product, "newcomer", newcomer, True).status_code == 200
    assert newcomer in candidate_ids(product)
    assert put(product, "newcomer", newcomer, False).status_code == 200
    assert newcomer not in candidate_ids(product)
