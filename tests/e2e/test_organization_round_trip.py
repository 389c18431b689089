"""Issue 17's round trip through the real ``waypoint`` command on the small hand-written company
(`benchmarks/organization_round_trip.py`, which runs the same steps on the demo store): export,
a second store with ``waypoint ingest`` and ``waypoint import`` holding the same rows, a second
import changing nothing, a corrupted line failing by file and line with the store unchanged, and
the second store exporting the same files. SQLite always; PostgreSQL when reachable (required
under ``CI``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.organization_round_trip import (
    CORRUPT_FILE,
    TargetResult,
    prepare_source,
    run_target,
    table_report,
)
from tests.support.occupations_factory import write_small_title_index
from tests.support.organization_factory import SMALL_COMPANY
from tests.support.reference_factory import write_reference_dataset

pytestmark = pytest.mark.store


def test_the_small_company_round_trips_through_the_cli(store_url: str, tmp_path: Path) -> None:
    write_small_title_index(tmp_path)
    env = {"WAYPOINT_DATA_DIR": str(write_reference_dataset(tmp_path / "reference")),
           "WAYPOINT_ARTIFACT_DIR": str(tmp_path)}
    export, source = prepare_source(f"sqlite:///{tmp_path / 'source.db'}", tmp_path, env,
                                    SMALL_COMPANY)
    assert (source["employees"].rows, source["employee_departures"].rows,
            source["role_occupations"].rows) == (12, 1, 5)

    result: TargetResult = run_target("target", store_url, export, source, tmp_path, env)
    assert result.failures == [], table_report(source, [result])
    assert result.imported == source
    second = result.runs["import again"].json()
    assert not second["changed"]
    assert all(c["inserted"] == c["updated"] == 0 for c in second["tables"].values())
    broken = result.runs["corrupted import"]
    assert broken.code == 2
    assert f"{CORRUPT_FILE}:{result.bad_line}:5: hired_on:" in broken.stderr
    assert "nothing was written" in broken.stderr
    assert result.runs["import"].wall_s > 0
