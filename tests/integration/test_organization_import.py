"""``waypoint import`` / ``export`` on SQLite and PostgreSQL: the small hand-written company
goes in whole, a second import changes nothing, a changed file updates only its changed rows,
people who leave are marked, a bad line leaves the store untouched, an HR admin's occupation
override wins, and export -> import -> export gives the same files."""

from __future__ import annotations

import filecmp
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest
from sqlalchemy import select

from features import tables as t
from features.organization.export import export_organization
from features.organization.problems import InvalidOrganization
from features.store import Store
from tests.support.organization_factory import (
    SMALL_COMPANY,
    TODAY,
    copy_company,
    line_of,
    reference_store,
    replace_line,
)
from tests.support.reference_factory import OCC
from tests.support.store_factory import tiny_organization
from training.organization.importer import ImportReport, import_organization

pytestmark = pytest.mark.store

SOFTWARE_DEVELOPER = OCC + "f2b15a0e-e65a-438a-affb-29b9d50b77d1"


@pytest.fixture
def setup(store_url: str, tmp_path: Path) -> Iterator[tuple[Store, Path]]:
    store, index = reference_store(store_url, tmp_path)
    yield store, index
    store.dispose()


def run(store: Store, index: Path, folder: Path, **kwargs: object) -> ImportReport:
    return import_organization(folder, store, title_index=index, today=TODAY, **kwargs)  # type: ignore[arg-type]


def rows(store: Store, table: t.Table) -> list[dict[str, object]]:
    with store.engine.connect() as conn:
        query = select(table).order_by(*table.primary_key.columns)
        return [dict(r) for r in conn.execute(query).mappings()]


def snapshot(store: Store) -> dict[str, list[dict[str, object]]]:
    return {table.name: rows(store, table) for table in [*t.ORGANIZATION_TABLES,
                                                         t.dataset_versions]}


def test_import_the_small_company_then_again_changes_nothing(
        setup: tuple[Store, Path]) -> None:
    store, index = setup
    first = run(store, index, SMALL_COMPANY)
    assert first.result.changed
    counts = store.counts()
    assert (counts.employees, counts.roles, counts.opportunities, counts.moves,
            counts.evidence, counts.courses) == (12, 5, 5, 4, 14, 3)
    assert len(store.events()) == 5 and len(rows(store, t.protected_attributes)) == 12
    left = rows(store, t.employee_departures)
    assert [(r["employee_id"], str(r["left_on"]), r["source"]) for r in left] == \
        [("E12", "2025-06-30", "file")]
    assert store.employee("E12") is not None and not store.employee("E12").discoverable  # type: ignore[union-attr]

    links = {r["role_id"]: r for r in rows(store, t.role_occupations)}
    assert links["R-DEV"]["method"] == "given" and links["R-DEV"]["onet_code"] == "15-1252.00"
    senior = links["R-DEV-SR"]
    assert senior["method"] == "title_match" and senior["label"] == "software developer"
    assert senior["score"] >= 0.3  # type: ignore[operator]
    assert store.role("R-DEV-SR").onet_code == "15-1252.00"  # type: ignore[union-attr]
    assert links["R-FIN-LEAD"]["method"] == "unlinked"
    assert {r["role_id"] for r in first.as_json()["linked_by_title"]} == \
        {"R-DEV-SR", "R-ACC", "R-FIN-LEAD"}

    before = snapshot(store)
    second = run(store, index, SMALL_COMPANY)
    assert not second.result.changed
    assert all(c.inserted == c.updated == 0 for c in second.result.tables.values())
    assert snapshot(store) == before


def test_a_changed_file_updates_only_the_changed_rows(setup: tuple[Store, Path],
                                                      tmp_path: Path) -> None:
    store, index = setup
    run(store, index, SMALL_COMPANY)
    folder = copy_company(tmp_path / "next")
    path = folder / "employees.csv"
    n = line_of(path, "E10,")
    replace_line(path, n, "E10,Miguel Lopes,R-DEV,3,2024-09-09,2024-09-09,D-ENG,porto,E06,"
                 "Backend lead,true,false,false,")
    gone = line_of(path, "E08,")
    lines = path.read_text().splitlines()
    path.write_text("\n".join(line for i, line in enumerate(lines, 1) if i != gone) + "\n")
    with (folder / "moves.csv").open("a") as handle:
        handle.write("M-05,E10,R-DEV,R-DEV,,2026-11-01,false,,\n")
    report = run(store, index, folder)
    tables = report.result.tables
    assert tables["employees"].as_json() == {"inserted": 0, "updated": 2, "unchanged": 10}
    assert tables["moves"].as_json() == {"inserted": 1, "updated": 0, "unchanged": 4}
    assert tables["evidence"].inserted == tables["evidence"].updated == 0
    assert report.result.newly_left == ["E08"]
    assert store.employee("E10").level == 3  # type: ignore[union-attr]
    tiago = store.employee("E08")
    assert tiago is not None and not tiago.discoverable
    assert {e.id for e in store.evidence("E08")} == {"REV-05", "CC-01"}  # history stays
    assert any(r["employee_id"] == "E08" and r["source"] == "absent"
               and r["left_on"] == TODAY for r in rows(store, t.employee_departures))
    assert not run(store, index, folder).result.changed


def test_a_corrupted_line_fails_naming_it_and_leaves_the_store_unchanged(
        setup: tuple[Store, Path], tmp_path: Path) -> None:
    store, index = setup
    run(store, index, SMALL_COMPANY)
    before = snapshot(store)
    folder = copy_company(tmp_path / "bad")
    path = folder / "moves.csv"
    n = line_of(path, "M-03,")
    replace_line(path, n, "M-03,E09,R-ACC,R-NOPE,O-2024-01,2024-02-01,false,4,true")
    with (folder / "employees.csv").open("a") as handle:
        handle.write("E13,New Person,R-DEV,2,2026-11-02,2026-11-02,D-ENG,lisbon,E02,,"
                     "true,false,false,\n")
    with pytest.raises(InvalidOrganization) as caught:
        run(store, index, folder)
    assert f"moves.csv:{n}:4: to_role_id: unknown id 'R-NOPE'" in str(caught.value)
    assert snapshot(store) == before
    assert store.employee("E13") is None


def test_dry_run_reports_and_writes_nothing(setup: tuple[Store, Path]) -> None:
    store, index = setup
    before = snapshot(store)
    report = run(store, index, SMALL_COMPANY, dry_run=True)
    assert report.result.tables["employees"].inserted == 12
    assert snapshot(store) == before


def test_an_hr_admin_override_wins_on_every_import(setup: tuple[Store, Path],
                                                   tmp_path: Path) -> None:
    store, index = setup
    folder = copy_company(tmp_path / "org")
    (folder / "occupation_overrides.csv").write_text(
        f"role_id,occupation_uri,onet_code\nR-FIN-LEAD,{SOFTWARE_DEVELOPER},15-1211.00\n")
    run(store, index, folder)
    link = next(r for r in rows(store, t.role_occupations) if r["role_id"] == "R-FIN-LEAD")
    assert (link["method"], link["occupation_uri"], link["label"]) == \
        ("override", SOFTWARE_DEVELOPER, "software developer")
    assert store.role("R-FIN-LEAD").onet_code == "15-1211.00"  # type: ignore[union-attr]
    (folder / "occupation_overrides.csv").unlink()
    assert not run(store, index, folder).result.changed  # the stored override is kept
    out = export_organization(store, tmp_path / "export")
    assert out["occupation_overrides.csv"] == 1
    assert SOFTWARE_DEVELOPER in (tmp_path / "export" / "occupation_overrides.csv").read_text()


def test_export_import_export_gives_the_same_files(setup: tuple[Store, Path],
                                                    tmp_path: Path, store_url: str) -> None:
    store, index = setup
    run(store, index, SMALL_COMPANY)
    first = tmp_path / "first"
    export_organization(store, first, protected=True)
    store.engine.dispose()
    fresh, _ = reference_store(f"sqlite:///{tmp_path / 'fresh.db'}", tmp_path / "fresh")
    try:
        run(fresh, index, first)
        assert snapshot(fresh)["employees"] == snapshot(store)["employees"]
        second = tmp_path / "second"
        export_organization(fresh, second, protected=True)
    finally:
        fresh.dispose()
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    _, mismatch, errors = filecmp.cmpfiles(first, second, names, shallow=False)
    assert (mismatch, errors) == ([], [])


def test_a_simulated_style_store_round_trips(setup: tuple[Store, Path], tmp_path: Path) -> None:
    """A store written by ``replace_organization`` (as ``waypoint simulate`` writes it): the
    export imported into a fresh store reads back as the same organization."""
    store, index = setup
    org = tiny_organization()
    store.replace_organization(org, version="sim")
    export_organization(store, tmp_path / "org", protected=True)
    fresh, _ = reference_store(f"sqlite:///{tmp_path / 'fresh.db'}", tmp_path / "fresh")
    try:
        run(fresh, index, tmp_path / "org")
        mine, theirs = fresh.organization(), store.organization()
        assert mine.model_copy(update={"events": []}) == theirs.model_copy(update={"events": []})
        # SQLite hands timestamps back naive (UTC), PostgreSQL aware
        assert [(e.id, e.occurred_at.replace(tzinfo=None)) for e in mine.events] == \
            [(e.id, e.occurred_at.astimezone(UTC).replace(tzinfo=None)) for e in theirs.events]
        assert rows(fresh, t.protected_attributes) == rows(store, t.protected_attributes)
        assert not run(fresh, index, tmp_path / "org").result.changed
        export_organization(fresh, tmp_path / "again", protected=True)
    finally:
        fresh.dispose()
    names = sorted(p.name for p in (tmp_path / "org").iterdir())
    _, mismatch, errors = filecmp.cmpfiles(tmp_path / "org", tmp_path / "again", names,
                                           shallow=False)
    assert (mismatch, errors) == ([], [])


def test_import_into_an_empty_store_needs_reference_data(sqlite_url: str,
                                                         tmp_path: Path) -> None:
    store = Store(sqlite_url)
    try:
        with pytest.raises(Exception, match="waypoint ingest"):
            import_organization(SMALL_COMPANY, store, title_index=tmp_path, today=TODAY)
    finally:
        store.dispose()


def test_replace_swaps_in_another_company(setup: tuple[Store, Path], tmp_path: Path) -> None:
    store, index = setup
    run(store, index, SMALL_COMPANY)
    other = tiny_organization()
    scratch, _ = reference_store(f"sqlite:///{tmp_path / 'scratch.db'}", tmp_path / "scratch")
    try:
        scratch.replace_organization(other, version="other")
        export_organization(scratch, tmp_path / "other", protected=True)
    finally:
        scratch.dispose()
    report = run(store, index, tmp_path / "other", replace=True)
    assert report.result.replaced and not report.result.newly_left
    assert [e.id for e in store.employees()] == ["e1", "e2"]
    assert rows(store, t.employee_departures) == [] and store.role("R-DEV") is None
