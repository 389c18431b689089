"""``waypoint import``, ``export`` and the ``organization`` stage as a user runs them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from features.settings import REPO_ROOT, get_settings
from tests.support.organization_factory import (
    SMALL_COMPANY,
    copy_company,
    line_of,
    reference_store,
    replace_line,
)
from waypoint.cli import main

pytestmark = pytest.mark.store


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A store with reference data and a title index where the CLI's settings point."""
    url = f"sqlite:///{tmp_path / 'w.db'}"
    store, _ = reference_store(url, tmp_path)
    store.dispose()
    monkeypatch.setenv("WAYPOINT_DATABASE_URL", url)
    monkeypatch.setenv("WAYPOINT_ARTIFACT_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_import_export_and_a_bad_line(deployment: Path, capsys: pytest.CaptureFixture[str]
                                      ) -> None:
    assert main(["import", str(SMALL_COMPANY), "--dry-run"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert dry["dry_run"] and dry["tables"]["employees"]["inserted"] == 12
    assert main(["import", str(SMALL_COMPANY)]) == 0
    assert json.loads(capsys.readouterr().out)["changed"]
    assert main(["import", str(SMALL_COMPANY)]) == 0
    assert not json.loads(capsys.readouterr().out)["changed"]

    assert main(["export", "--out", str(deployment / "org")]) == 0
    assert (deployment / "org" / "employees.csv").is_file()
    assert not (deployment / "org" / "protected_attributes.csv").exists()
    capsys.readouterr()

    folder = copy_company(deployment / "bad")
    path = folder / "employees.csv"
    n = line_of(path, "E07,")
    replace_line(path, n, "E07,Sofia Rodrigues,R-ACC,3,2018-06-11,2018-06-11,D-FIN,lisbon,E01,"
                 ",maybe,false,false,")
    assert main(["import", str(folder)]) == 2
    err = capsys.readouterr().err
    assert f"employees.csv:{n}:11: discoverable:" in err and "nothing was written" in err


def test_the_organization_stage_imports_the_configured_folder(
        deployment: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["organization"] = {"source": "import", "path": str(SMALL_COMPANY),
                              "as_of": "2026-11-30"}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.setenv("WAYPOINT_PARAMS", str(tmp_path / "params.yaml"))
    (deployment / "simulation_truth.json.gz").write_bytes(b"stale")
    assert main(["organization"]) == 0
    summary = json.loads((deployment / "organization_summary.json").read_text())
    assert summary["source"] == "import" and summary["counts"]["employees"] == 12
    assert not (deployment / "simulation_truth.json.gz").exists()
    first = (deployment / "organization_summary.json").read_bytes()
    assert main(["organization"]) == 0
    assert (deployment / "organization_summary.json").read_bytes() == first


def test_data_format_docs_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data-format", "--check"]) == 0
