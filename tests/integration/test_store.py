"""The store round-trips the domain model on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import inspect, text

from features import store as store_module
from features.domain import Employee, Event, EventKind, OpportunityKind, OpportunityStatus
from features.live_store import ensure_live_tables, update_opportunity
from features.protected import read_protected_attributes
from features.store import Store, add_missing_columns
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
    assert store.opportunity("o1") is not None
    assert store.opportunity("o1").hours_per_week == 7.5  # type: ignore[union-attr]
    assert store.courses() == org.courses
    assert store.employee("nobody") is None
    assert store.dataset_version("organization") == "v1"
    counts = store.counts()
    assert (counts.employees, counts.roles, counts.opportunities, counts.moves) == (2, 2, 1, 1)


def test_a_bulk_write_leaves_postgresql_planner_statistics_of_what_it_wrote(
        store: Store, store_url: str) -> None:
    """Without them PostgreSQL plans as if the tables were empty: the evidence of 200
    candidates by a sequential scan of a million rows (docs/scale.md)."""
    from tests.support.postgres import planner_row_counts

    written = ["employees", "evidence", "moves", "opportunities"]
    analyzed = store.refresh_statistics([])
    assert analyzed == []
    if not store_url.startswith("postgresql"):
        return  # SQLite: nothing to refresh
    org = tiny_organization()
    assert planner_row_counts(store_url, written) == {
        "employees": len(org.employees), "evidence": len(org.evidence),
        "moves": len(org.moves), "opportunities": len(org.opportunities)}


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


def _drop_hours(store: Store) -> None:
    """The opportunities table as the code before the time commitment made it."""
    with store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE opportunities DROP COLUMN hours_per_week"))
    assert "hours_per_week" not in {c["name"] for c in inspect(store.engine)
                                    .get_columns("opportunities")}


def test_a_store_without_the_time_commitment_column_gets_it(store: Store, store_url: str
                                                            ) -> None:
    _drop_hours(store)
    store.dispose()
    old = Store(store_url)
    try:
        old.create_schema()  # every entry point does: the column is added, old rows read None
        found = old.opportunity("o1")
        assert found is not None and found.hours_per_week is None
        assert found.model_copy(update={"hours_per_week": 7.5}) == \
            tiny_organization().opportunities[0]
        update_opportunity(old, found.model_copy(update={"hours_per_week": 4.0}), None)
        assert old.opportunities()[0].hours_per_week == 4.0
        assert add_missing_columns(old.engine) == []  # idempotent
        _drop_hours(old)
        ensure_live_tables(old)  # serving's and training's entry: the same upgrade
        assert old.opportunity("o1").hours_per_week is None  # type: ignore[union-attr]
    finally:
        old.dispose()


def test_a_column_another_process_just_added_is_no_error(store: Store,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes upgrading one store at once: the one whose ALTER fails because the other
    added the column first finds it there and carries on."""
    real = store_module._column_names
    calls: list[int] = []

    def stale_first(engine: Any, table: Any) -> set[str] | None:
        calls.append(1)
        found = real(engine, table)
        return (found or set()) - {"hours_per_week"} if len(calls) == 1 else found

    monkeypatch.setattr(store_module, "_column_names", stale_first)
    assert add_missing_columns(store.engine) == []
    assert len(calls) == 2
