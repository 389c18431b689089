"""The store goes away under a running app and comes back: every answer meanwhile is a 503 JSON
error with ``Retry-After``, the app recovers by itself (no restart, no reload), and an event
whose POST got a 503 is stored exactly once when the client retries with the same key.

The outage is real: the SQLite database file (and its WAL files) is moved aside and a directory
takes its path, and the pool is disposed (as when a database server drops its connections), so
every new connection fails to open; "the store returns" moves the file back.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from tests.support.product_app import Product, product_app
from tests.support.serving_factory import OWNER


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Product]:
    with product_app(tmp_path_factory.mktemp("outage")) as found:
        yield found


class Outage:
    """Take the app's SQLite store away and give it back."""

    def __init__(self, product: Product) -> None:
        self.store = product.app.state.store
        database = make_url(self.store.url).database
        assert database
        self.path = Path(database)
        self.aside = self.path.with_name(self.path.name + ".away")

    def files(self) -> list[Path]:
        return [self.path.with_name(self.path.name + suffix) for suffix in ("", "-wal", "-shm")]

    def begin(self) -> None:
        self.store.dispose()  # the server dropped every connection
        self.aside.mkdir()
        for found in self.files():
            if found.exists():
                found.rename(self.aside / found.name)
        self.path.mkdir()  # a directory where the database was: no connection can open it

    def end(self) -> None:
        self.store.dispose()
        shutil.rmtree(self.path)
        for found in self.aside.iterdir():
            found.rename(self.path.with_name(found.name))
        self.aside.rmdir()


def post_event(product: Product, key: str) -> Any:
    return product.call("POST", "/v1/events", "self",
                        json={"kind": "application", "opportunity_id": "open-1"},
                        headers={"Idempotency-Key": key})


def test_outage_is_503_json_and_recovers_without_losing_an_event(product: Product) -> None:
    before = post_event(product, "before-outage")
    assert before.status_code == 201  # accepted before the outage
    assert product.call("GET", f"/v1/employees/{OWNER}", "self").status_code == 200

    outage = Outage(product)
    outage.begin()
    try:
        for method, url, kwargs in (
                ("GET", f"/v1/employees/{OWNER}", {}),
                ("GET", f"/v1/employees/{OWNER}/recommendations", {}),
                ("GET", f"/v1/employees/{OWNER}/discoverability", {}),
                ("GET", "/healthz", {}),
                ("POST", "/v1/auth/token", {"data": {"grant_type": "password",
                                                     "username": OWNER, "password": "demo"}}),
        ):
            response = product.call(method, url, "self" if url != "/v1/auth/token" else None,
                                    **kwargs)
            assert response.status_code == 503, (method, url, response.status_code,
                                                  response.text[:300])
            assert response.json()["error"]["code"] == "unavailable"
            assert response.headers.get("Retry-After") == "5"
        during = post_event(product, "during-outage")
        assert during.status_code == 503 and set(during.json()) == {"error"}
        again = post_event(product, "during-outage")  # the client retries: still down
        assert again.status_code == 503
    finally:
        outage.end()

    # back by itself: the same app, no restart, no reload
    assert product.call("GET", f"/v1/employees/{OWNER}", "self").status_code == 200
    assert product.call("GET", "/healthz", None).status_code == 200
    retried = post_event(product, "during-outage")
    assert retried.status_code == 201, retried.text  # stored now, for the first time
    repeat = post_event(product, "during-outage")
    assert repeat.status_code == 200 and repeat.json()["id"] == retried.json()["id"]
    events = product.app.state.store.events(OWNER)
    keys = [e.idempotency_key for e in events]
    assert keys.count(f"{OWNER}:during-outage") == 1  # exactly once
    assert keys.count(f"{OWNER}:before-outage") == 1  # nothing accepted was lost
    recs = product.call("GET", f"/v1/employees/{OWNER}/recommendations", "self")
    assert recs.status_code == 200, recs.text
