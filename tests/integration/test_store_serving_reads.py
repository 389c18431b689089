"""The store reads serving makes per request: per-employee evidence and moves in pages, and the
opt-in version that tells a recommender when to re-read the opt-ins (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from features.domain import Organization
from features.store import ID_PAGE, Store
from tests.support.factories import make_employee, make_evidence, make_move
from tests.support.store_factory import tiny_organization

pytestmark = pytest.mark.store

PEOPLE = ID_PAGE + 37  # more than one page of ids


def _org() -> Organization:
    base = tiny_organization()
    employees = [make_employee(id=f"p{i:04d}", role_id="r1", department_id="d1")
                 for i in range(PEOPLE)]
    evidence = [make_evidence(id=f"ev{i:04d}-{k}", employee_id=f"p{i:04d}",
                              occurred_on=date(2023, 1, 1) + timedelta(days=k))
                for i in range(0, PEOPLE, 3) for k in range(2)]
    moves = [make_move(id=f"mv{i:04d}", employee_id=f"p{i:04d}", from_role_id="r1",
                       to_role_id="r2") for i in range(0, PEOPLE, 5)]
    return Organization(departments=base.departments, roles=base.roles, employees=employees,
                        evidence=evidence, moves=moves)


@pytest.fixture
def store(store_url: str):  # type: ignore[no-untyped-def]
    store = Store(store_url)
    store.create_schema()
    store.replace_organization(_org(), version="v1")
    yield store
    store.dispose()


def test_evidence_and_moves_of_many_employees_in_pages(store: Store) -> None:
    ids = [f"p{i:04d}" for i in range(PEOPLE)]
    evidence = store.evidence_of(ids)
    assert set(evidence) == {f"p{i:04d}" for i in range(0, PEOPLE, 3)}
    assert all(evidence[i] == store.evidence(i) for i in ("p0000", "p0519", "p0534"))
    assert sum(map(len, evidence.values())) == 2 * len(evidence)
    moves = store.moves_of(ids)
    assert set(moves) == {f"p{i:04d}" for i in range(0, PEOPLE, 5)}
    assert store.evidence_of(["p0001", "nobody"]) == {}
    assert store.moves_of([]) == {}


def test_opt_in_version_changes_with_every_change(store: Store) -> None:
    first = store.discoverability_version()
    assert first == (None, "v1")
    store.set_discoverable("p0001", False)
    second = store.discoverability_version()
    assert second != first and second[1] == "v1"
    store.set_discoverable("p0001", True)
    assert store.discoverability_version() not in (first, second)
    unchanged = store.discoverability_version()
    assert store.set_discoverable("nobody", True) is None
    assert store.discoverability_version() == unchanged
