"""A large simulated organization, division by division: ids, counts, the streamed store write
(on SQLite and PostgreSQL), the streamed truth file, and a failure half-way.

Small on purpose: 180 people in divisions of at most 60 stand for 1,000,000 in divisions of
50,000 (docs/simulation.md, "Divisions"; the figures at scale are in docs/scale.md).
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.store_fingerprint import fingerprint
from features.domain import Organization
from features.settings import get_settings
from features.store import OrganizationWriter, Store
from features.taxonomy import ReferenceData
from tests.support.params_factory import simulation_params
from tests.support.store_factory import tiny_organization
from training.ranking.evaluation import load_truth
from training.simulation.build import (
    SimulationResult,
    Tally,
    division_sizes,
    merge,
    simulate,
    simulate_divisions,
)
from training.simulation.truth import TruthWriter
from waypoint.cli import main

pytestmark = [pytest.mark.data, pytest.mark.store]

EMPLOYEES, MOST = 180, 60
ID_TABLES = ("employees", "opportunities", "evidence", "moves", "events")


@pytest.fixture(scope="module")
def parts(reference_data: ReferenceData) -> list[SimulationResult]:
    params = simulation_params(employees=EMPLOYEES, shard_employees=MOST, seed=4)
    return list(simulate_divisions(reference_data, params))


def _ids(org: Organization, name: str) -> list[str]:
    return [row.id for row in getattr(org, name)]


def _unzipped(path: Path) -> bytes:
    with gzip.open(path) as handle:
        return handle.read()


def test_division_sizes() -> None:
    assert division_sizes(5000, 50_000) == [5000]
    assert division_sizes(180, 60) == [60, 60, 60]
    assert division_sizes(1_000_000, 50_000) == [50_000] * 20
    assert division_sizes(101, 50) == [34, 34, 33]


def test_divisions_have_unique_ids_and_their_own_market(parts: list[SimulationResult]) -> None:
    assert [len(p.people) for p in parts] == [60, 60, 60]
    assert [len(p.organization.roles) > 0 for p in parts] == [True, False, False]
    for name in ID_TABLES:
        ids = [i for p in parts for i in _ids(p.organization, name)]
        assert len(ids) == len(set(ids)), name
    for part in parts:  # moves, evidence, events, managers and owners stay in the division
        org = part.organization
        people = {e.id for e in org.employees}
        assert {p.id for p in part.people} == people
        assert {m.employee_id for m in org.moves} <= people
        assert {x.employee_id for x in org.evidence} <= people
        assert {e.employee_id for e in org.events} <= people
        assert {e.manager_id for e in org.employees} - {None} <= people
        assert {o.owner_id for o in org.opportunities} <= people
        assert {part.people[a.person].id for a in part.applications} <= people
        assert {a.opportunity_id for a in part.applications} <= set(_ids(org, "opportunities"))
    # each division draws its own people (its own random streams), not a copy of another's
    staff = [[(e.name, e.role_id) for e in p.organization.employees] for p in parts]
    assert staff[0] != staff[1] != staff[2]


def test_the_summary_adds_the_divisions_up(parts: list[SimulationResult]) -> None:
    tally = Tally()
    for part in parts:
        tally.add(part)
    whole = merge(parts)
    summary = tally.summary(simulation_params(employees=EMPLOYEES, shard_employees=MOST, seed=4),
                            parts[0].crosswalk_stats)
    assert summary["divisions"] == 3
    assert summary["counts"] == {name: len(getattr(whole.organization, name))
                                 for name in Organization.model_fields}
    assert summary["counts"]["employees"] == EMPLOYEES
    assert summary["applications"] == len(whole.applications)
    kinds = Counter(f"{o.kind.value}/{o.status.value}" for o in whole.organization.opportunities)
    assert summary["opportunities"] == dict(sorted(kinds.items()))
    assert summary["promotions"] == sum(m.promotion for m in whole.organization.moves)


def test_one_division_is_the_in_memory_organization(reference_data: ReferenceData) -> None:
    params = simulation_params(employees=120, seed=3)
    assert params.shard_employees >= 120
    (only,) = simulate_divisions(reference_data, params)
    assert only.organization == simulate(reference_data, params).organization


def test_streamed_write_equals_the_single_shot_write(parts: list[SimulationResult],
                                                     store_url: str, tmp_path: Path) -> None:
    streamed = Store(store_url)
    streamed.create_schema()
    streamed.replace_organization(tiny_organization(), version="old")
    with streamed.organization_writer("v-stream") as writer:
        for part in parts:
            writer.append(part.organization)
    assert writer.counts["employees"] == EMPLOYEES
    assert streamed.dataset_version("organization") == "v-stream"
    single = Store(f"sqlite:///{tmp_path / 'single.db'}")
    single.create_schema()
    counts = single.replace_organization(merge(parts).organization, version="v-single")
    assert counts == writer.counts
    assert fingerprint(store_url) == fingerprint(single.url)
    streamed.dispose()
    single.dispose()


def _fail_on_second_part(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every part after a division's first one (the parts without roles) fails to write."""
    append = OrganizationWriter.append

    def failing(self: OrganizationWriter, part: Organization) -> dict[str, int]:
        if not part.roles:
            raise RuntimeError("disk full")
        return append(self, part)

    monkeypatch.setattr(OrganizationWriter, "append", failing)


def test_a_failure_half_way_keeps_the_previous_organization(
        parts: list[SimulationResult], store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(store_url)
    store.create_schema()
    _fail_on_second_part(monkeypatch)
    with pytest.raises(RuntimeError), store.organization_writer("v-new") as writer:
        for part in parts:
            writer.append(part.organization)
    assert store.dataset_version("organization") is None  # nothing was there: still nothing
    assert store.counts().employees == 0
    store.replace_organization(tiny_organization(), version="v1")
    before = store.counts()
    with pytest.raises(RuntimeError), store.organization_writer("v-new") as writer:
        for part in parts:
            writer.append(part.organization)
    assert store.dataset_version("organization") == "v1"
    assert store.counts() == before
    store.dispose()


def test_streamed_truth_is_the_whole_truth(parts: list[SimulationResult], tmp_path: Path
                                           ) -> None:
    streamed, whole = tmp_path / "streamed.json.gz", tmp_path / "whole.json.gz"
    with TruthWriter(streamed) as writer:
        for part in parts:
            writer.add(part.skill_uris, part.people, part.applications)
    merge(parts).write_truth(whole)
    assert _unzipped(streamed) == _unzipped(whole)
    payload = json.loads(_unzipped(streamed))
    assert len(payload["employees"]) == EMPLOYEES
    assert len(load_truth(streamed)) == sum(len(p.applications) for p in parts)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["streamed.json.gz", "whole.json.gz"]


@pytest.fixture
def cli_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_data_dir: Path
              ) -> Iterator[Path]:
    monkeypatch.setenv("WAYPOINT_DATA_DIR", str(shared_data_dir))
    monkeypatch.setenv("WAYPOINT_DATABASE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    monkeypatch.setenv("WAYPOINT_ARTIFACT_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _run(folder: Path, employees: int) -> int:
    return main(["simulate", "--employees", str(employees), "--shard-employees", str(MOST),
                 "--summary", str(folder / "summary.json"),
                 "--truth", str(folder / "truth.json.gz"), "--no-progress"])


def test_the_command_streams_divisions_and_a_failure_leaves_the_last_run(
        cli_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _run(cli_store, 150) == 0
    summary = json.loads((cli_store / "summary.json").read_text())
    store = Store(get_settings().database_url)
    assert summary["divisions"] == 3
    assert summary["counts"]["employees"] == 150 == store.counts().employees
    assert summary["rows_written"]["evidence"] == summary["counts"]["evidence"] \
        == store.counts().evidence
    version = store.dataset_version("organization")
    assert version == summary["version"]
    truth = (cli_store / "truth.json.gz").read_bytes()
    assert len(json.loads(gzip.decompress(truth))["employees"]) == 150

    _fail_on_second_part(monkeypatch)
    with pytest.raises(RuntimeError):
        _run(cli_store, 170)
    assert store.dataset_version("organization") == version
    assert store.counts().employees == 150
    assert (cli_store / "truth.json.gz").read_bytes() == truth  # the previous run's, whole
    assert not [p for p in cli_store.iterdir() if p.name.startswith(".truth")]
    store.dispose()
