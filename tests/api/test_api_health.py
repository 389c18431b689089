"""The API's health endpoint reports what the store holds; errors are JSON."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from features.settings import Settings
from features.store import Store
from tests.support.authz_matrix import SECRET
from tests.support.reference_factory import write_reference_dataset
from tests.support.store_factory import tiny_organization
from training.ingest import ingest_reference_data


def test_healthz_reports_ingested_counts(tmp_path: Path, sqlite_url: str) -> None:
    store = Store(sqlite_url)
    result = ingest_reference_data(write_reference_dataset(tmp_path / "ref"), store)
    store.replace_organization(tiny_organization(), version="org-1")
    store.dispose()
    settings = Settings(database_url=sqlite_url, artifact_dir=tmp_path / "models",
                        secret_key=SECRET)
    with TestClient(create_app(settings)) as client:
        body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["reference_version"] == result.version
    assert body["organization_version"] == "org-1"
    assert body["counts"] == {
        "skills": 3, "occupations": 1, "onet_occupations": 2, "employees": 2, "roles": 2,
        "opportunities": 1, "moves": 1, "evidence": 2, "courses": 1,
    }


def test_unknown_path_is_a_json_404(tmp_path: Path, sqlite_url: str) -> None:
    settings = Settings(database_url=sqlite_url, artifact_dir=tmp_path / "models",
                        secret_key=SECRET)
    with TestClient(create_app(settings)) as client:
        response = client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
