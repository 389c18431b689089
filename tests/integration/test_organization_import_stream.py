"""``waypoint import`` as a stream, on SQLite and PostgreSQL: a factory-built organization
written by the streamed import equals the one the domain path (`Store.replace_organization`)
writes, the chunk size changes nothing that is written or reported, an invalid row in a late
file leaves the store untouched, and a file that changes after it was validated fails the
import with nothing written."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from features import tables as t
from features.domain import Organization
from features.errors import WaypointError
from features.organization.export import export_organization
from features.organization.problems import InvalidOrganization
from features.store import Store
from tests.integration.test_organization_import import rows, run, snapshot
from tests.support.factories import SKILLS, make_org, make_protected
from tests.support.organization_factory import (
    SMALL_COMPANY,
    copy_company,
    line_of,
    reference_store,
)
from tests.support.postgres import scratch_database
from tests.support.reference_factory import ESCO_SKILLS

pytestmark = pytest.mark.store

REFERENCE_SKILLS = tuple(str(row[1]) for row in ESCO_SKILLS)


def factory_organization() -> Organization:
    """`make_org`'s company with its skills mapped onto the reference data's three, no
    rating on endorsements (the format has none), and protected attributes."""
    org = make_org(seed=5, employees=36)
    protected = [make_protected(employee_id=e.id, age_band=f"{20 + 10 * (i % 4)}-"
                                f"{29 + 10 * (i % 4)}") for i, e in enumerate(org.employees)]

    def skill(uri: str | None) -> str | None:
        return None if uri is None else REFERENCE_SKILLS[SKILLS.index(uri) % 3]

    def skills(uris: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(str(skill(u)) for u in uris))

    return org.model_copy(update={
        "opportunities": [o.model_copy(update={"skill_uris": skills(o.skill_uris)})
                          for o in org.opportunities],
        "courses": [c.model_copy(update={"skill_uris": skills(c.skill_uris)})
                    for c in org.courses],
        "evidence": [e.model_copy(update={"skill_uri": skill(e.skill_uri), "rating": None})
                     for e in org.evidence],
        "protected_attributes": protected,
    })


@pytest.fixture
def setup(store_url: str, tmp_path: Path) -> Iterator[tuple[Store, Path]]:
    store, index = reference_store(store_url, tmp_path)
    yield store, index
    store.dispose()


@pytest.fixture
def second_url(store_url: str, request: pytest.FixtureRequest, tmp_path: Path
               ) -> Iterator[str]:
    """Another empty store of the same kind as ``store_url``."""
    if store_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'second.db'}"
        return
    with scratch_database(request.getfixturevalue("postgres_server_url")) as url:
        yield url


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    """The factory organization as `waypoint export` writes it (from a SQLite store)."""
    source, _ = reference_store(f"sqlite:///{tmp_path / 'source.db'}", tmp_path / "source")
    try:
        source.replace_organization(factory_organization(), version="factory")
        export_organization(source, tmp_path / "org", protected=True)
    finally:
        source.dispose()
    return tmp_path / "org"


def edit_employees(src: Path, dst: Path) -> Path:
    """A copy of ``src`` where five employees are gone, three have left (``left_on``) and two
    changed level."""
    shutil.copytree(src, dst)
    path = dst / "employees.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    header, body = table[0], table[1:]
    level, left = header.index("level"), header.index("left_on")
    for row in body[10:13]:
        row[left] = "2026-06-30"
    for row in body[20:22]:
        row[level] = str(int(row[level]) % 5 + 1)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *body[5:]])
    return dst


def naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def report(store: Store, index: Path, folder: Path, **kwargs: Any) -> dict[str, Any]:
    out = run(store, index, folder, **kwargs).as_json()
    del out["seconds"], out["folder"]
    return out


def stored(store: Store) -> dict[str, list[dict[str, object]]]:
    found = snapshot(store)
    for row in found["dataset_versions"]:
        row.pop("loaded_at")
    return found


def test_a_streamed_import_writes_what_the_domain_path_writes(
        setup: tuple[Store, Path], exported: Path, tmp_path: Path) -> None:
    store, index = setup
    first = run(store, index, exported, chunk_size=3)
    assert first.result.changed
    mine, theirs = store.organization(), factory_organization()
    assert len(mine.employees) == 36 and mine.evidence and mine.moves and mine.events
    for name in ("departments", "roles", "employees", "opportunities", "courses", "evidence",
                 "moves"):
        assert getattr(mine, name) == sorted(getattr(theirs, name), key=lambda m: m.id), name
    # SQLite hands timestamps back naive (UTC), PostgreSQL aware; the factory's are naive UTC
    assert [e.model_copy(update={"occurred_at": naive_utc(e.occurred_at)})
            for e in mine.events] == sorted(theirs.events, key=lambda e: e.id)
    assert rows(store, t.protected_attributes) == [
        {**p.model_dump(), "sex": p.sex.value} for p in theirs.protected_attributes]
    if store.url.startswith("postgresql"):  # the planner knows what the import wrote
        from tests.support.postgres import planner_row_counts

        assert planner_row_counts(store.url, ["employees", "evidence"]) == {
            "employees": 36, "evidence": len(mine.evidence)}
    again = run(store, index, exported, chunk_size=3)
    assert not again.result.changed
    assert all(c.inserted == c.updated == 0 for c in again.result.tables.values())


def test_the_chunk_size_changes_nothing_written_or_reported(
        setup: tuple[Store, Path], second_url: str, exported: Path, tmp_path: Path) -> None:
    store, index = setup
    other, _ = reference_store(second_url, tmp_path / "second")
    edited = edit_employees(exported, tmp_path / "edited")
    steps: list[tuple[Path, dict[str, Any]]] = [
        (exported, {}), (edited, {}), (edited, {}), (exported, {}), (edited, {"dry_run": True}),
        (SMALL_COMPANY, {"replace": True})]
    try:
        for folder, options in steps:
            small = report(store, index, folder, chunk_size=2, **options)
            large = report(other, index, folder, **options)
            assert small == large, (folder, options)
            assert stored(store) == stored(other), (folder, options)
        assert [r["employee_id"] for r in rows(store, t.employee_departures)] == ["E12"]
    finally:
        other.dispose()


def test_departures_and_returns_in_chunks(setup: tuple[Store, Path], exported: Path,
                                          tmp_path: Path) -> None:
    store, index = setup
    run(store, index, exported, chunk_size=4)
    edited = edit_employees(exported, tmp_path / "edited")
    result = run(store, index, edited, chunk_size=4).result
    assert len(result.newly_left) == 8 and not result.returned
    assert all(not e.discoverable for e in store.employees() if e.id in result.newly_left)
    assert result.tables["employees"].updated >= 2  # the two new levels, undiscoverable
    by_source: dict[object, int] = {}
    for row in rows(store, t.employee_departures):
        by_source[row["source"]] = by_source.get(row["source"], 0) + 1
    assert by_source == {"absent": 5, "file": 3}
    back = run(store, index, exported, chunk_size=4).result
    assert len(back.returned) == 8 and rows(store, t.employee_departures) == []


def test_an_invalid_row_in_the_last_file_leaves_the_store_untouched(
        setup: tuple[Store, Path], tmp_path: Path) -> None:
    store, index = setup
    folder = copy_company(tmp_path / "bad")
    with (folder / "employees.csv").open("a", encoding="utf-8") as handle:
        handle.write("E13,New Person,R-DEV,2,2026-11-02,2026-11-02,D-ENG,lisbon,E02,,"
                     "true,false,false,\n")
    with (folder / "events.csv").open("a", encoding="utf-8") as handle:
        handle.write("EV-99,teleport,E13,2026-11-03T09:00:00+00:00,,,,\n")
    n = line_of(folder / "events.csv", "EV-99,")
    with pytest.raises(InvalidOrganization) as caught:
        run(store, index, folder, chunk_size=2)
    assert f"events.csv:{n}:2: kind:" in str(caught.value)
    assert store.counts().employees == 0 and store.dataset_version("organization") is None

    run(store, index, SMALL_COMPANY, chunk_size=2)
    before = snapshot(store)
    with pytest.raises(InvalidOrganization):
        run(store, index, folder, chunk_size=2)
    assert snapshot(store) == before and store.employee("E13") is None


def test_a_file_changed_after_it_was_validated_fails_with_nothing_written(
        setup: tuple[Store, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import training.organization.importer as importer

    store, index = setup
    run(store, index, SMALL_COMPANY)
    before = snapshot(store)
    folder = copy_company(tmp_path / "org")
    link_roles = importer.link_roles

    def change_then_link(*args: Any, **kwargs: Any) -> Any:
        with (folder / "moves.csv").open("a", encoding="utf-8") as handle:
            handle.write("M-09,E10,R-DEV,R-DEV,,2026-11-01,false,,\n")
        return link_roles(*args, **kwargs)

    monkeypatch.setattr(importer, "link_roles", change_then_link)
    with pytest.raises(WaypointError, match=r"moves\.csv changed while it was imported"):
        run(store, index, folder, chunk_size=2)
    assert snapshot(store) == before
