"""The store round-trips the domain model on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from features.domain import Employee, Event, EventKind, OpportunityKind, OpportunityStatus
from features.protected import read_protected_attributes
from features.store import Store
from tests.support.store_factory import tiny_organization

pytestmark = pytest.mark.store


@pytest.fixture
def store(store_url: str):  # type: ignore[no-untyped-def]
    store = Store(store_url)
    store.create_schema()
    store.replace_organization(tiny_organization(), version="v1")
    yield store
    store.dispose()


def test_round_trip(store: Store) -> None:
    org = tiny_organization()
    assert store.employees() == org.employees
    assert store.roles() == org.roles
    assert store.opportunities(OpportunityStatus.OPEN, [OpportunityKind.PROJECT]) == \
        org.opportunities
    assert store.opportunities(OpportunityStatus.FILLED) == []
    assert store.evidence("e1") == org.evidence
    assert store.moves() == org.moves
    assert store.moves()[0].thrived
    assert store.courses() == org.courses
    assert store.employee("nobody") is None
    assert store.dataset_version("organization") == "v1"
    counts = store.counts()
    assert (counts.employees, counts.roles, counts.opportunities, counts.moves) == (2, 2, 1, 1)


def test_protected_attributes_live_apart(store: Store) -> None:
    assert "sex" not in Employee.model_fields
    assert all("sex" not in e.model_dump() for e in store.employees())
    protected = read_protected_attributes(store.engine)
    assert protected["e1"].sex == "female" and protected["e2"].race_ethnicity == "unknown"
    assert set(read_protected_attributes(store.engine, ["e2"])) == {"e2"}


def test_events_are_idempotent_per_key(store: Store) -> None:
    event = Event(id="x9", kind=EventKind.CLICK, employee_id="e1", opportunity_id="o1",
                  occurred_at=datetime(2026, 11, 2, tzinfo=UTC), idempotency_key="k-1")
    assert store.add_event(event) == event
    again = event.model_copy(update={"id": "x10"})
    assert store.add_event(again).id == "x9"
    assert [e.id for e in store.events("e1")] == ["x1", "x9"]


def test_replace_organization_is_all_or_nothing(store: Store) -> None:
    org = tiny_organization()
    duplicate = org.model_copy(update={"employees": [*org.employees, org.employees[0]]})
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        store.replace_organization(duplicate, version="v2")
    assert store.dataset_version("organization") == "v1"
    assert len(store.employees()) == 2
