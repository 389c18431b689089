"""The production path on PostgreSQL: the store (``WAYPOINT_DATABASE_URL``) and the MLflow
tracking and registry (``WAYPOINT_MLFLOW_TRACKING_URI``) each in a scratch PostgreSQL database,
the pipeline's stages through train, audit and promote on a small factory organization, then
one recommendation list served from the promoted champion. Runs when PostgreSQL is reachable,
required in CI (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.app import create_app
from features.settings import Settings, get_settings
from features.store import Store
from inference.skills.engine import SkillEngine
from tests.support.authz_matrix import SECRET, never_limited, sign_in
from tests.support.factories import make_org
from tests.support.params_factory import profile_params, ranker_params
from tests.support.postgres import scratch_database
from tests.support.reference_factory import write_reference_dataset
from tests.support.serving_factory import AS_OF, with_protected
from training.ingest import ingest_reference_data
from training.registry import promote
from training.skills.profiles import build_all_profiles

pytestmark = pytest.mark.store
MODEL = "waypoint-ranker"


@pytest.fixture
def on_postgres(postgres_server_url: str, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings whose store and MLflow are two scratch PostgreSQL databases (dropped after)."""
    with scratch_database(postgres_server_url, "waypoint_store") as store_url, \
            scratch_database(postgres_server_url, "waypoint_mlflow") as mlflow_url:
        monkeypatch.setenv("WAYPOINT_DATABASE_URL", store_url)
        monkeypatch.setenv("WAYPOINT_MLFLOW_TRACKING_URI", mlflow_url)
        monkeypatch.setenv("WAYPOINT_ARTIFACT_DIR", str(tmp_path / "models"))
        monkeypatch.setenv("WAYPOINT_DATA_DIR", str(tmp_path / "reference"))
        monkeypatch.setenv("WAYPOINT_MODEL_NAME", MODEL)
        monkeypatch.chdir(tmp_path)  # MLflow's default artifact root is ./mlruns
        get_settings.cache_clear()
        try:
            yield Settings(demo_mode=True, secret_key=SECRET)
        finally:
            get_settings.cache_clear()


def test_pipeline_on_postgres_trains_promotes_and_serves(
        on_postgres: Settings, small_skill_engine: SkillEngine) -> None:
    from features.params import load_params
    from training.fairness.audit import read_audit_settings
    from training.fairness.stage import run_audit_stage
    from training.ranking.stage import run_dataset_stage, run_train_stage

    settings = on_postgres
    assert settings.database_url.startswith("postgresql")
    assert settings.mlflow_tracking_uri.startswith("postgresql")
    store = Store(settings.database_url)
    try:
        ingest_reference_data(write_reference_dataset(settings.data_dir), store)  # ingest
        org = with_protected(make_org(seed=1, employees=240, years=4))  # organization
        store.replace_organization(org, version="postgres-demo")
        build_all_profiles(store, small_skill_engine, settings.data_dir, AS_OF,  # profiles
                           settings.artifact_dir / "profiles", profile_params())
    finally:
        store.dispose()
    # the quality gate is tested where the data supports it (test_ranker_eval); on this small
    # organization, whose moves follow skill fit exactly, a baseline can tie the ranker
    params = ranker_params(min_relative_improvement=-1.0)
    assert run_dataset_stage(settings, params)["queries"] > 50  # dataset
    summary = run_train_stage(settings, params)  # train, registered in MLflow on PostgreSQL
    assert summary["passed"] and summary["version"] == "1", summary
    result, extra = run_audit_stage(settings, params, read_audit_settings())  # audit
    assert result.passed and extra["recorded"], result.gate.violations
    gate = load_params().promote
    decision = promote(settings.mlflow_tracking_uri, MODEL, metric=gate.metric,  # promote
                       tolerance=gate.tolerance, require_fairness=gate.require_fairness)
    assert decision.version == "1"
    registry = create_engine(settings.mlflow_tracking_uri)  # MLflow's own tables
    try:
        with registry.connect() as conn:
            aliases = conn.execute(text("select alias, version from registered_model_aliases"))
            assert ("champion", 1) in {tuple(row) for row in aliases}
    finally:
        registry.dispose()

    app = create_app(settings)  # serve: the champion comes from the registry on PostgreSQL
    never_limited(app)
    with TestClient(app) as client:
        assert app.state.serving_model.wait(120)
        assert app.state.serving_model.current is not None, app.state.serving_model.last_error
        employee = org.employees[5].id
        token = sign_in(client, employee, "employee")
        response = client.get(f"/v1/employees/{employee}/recommendations",
                              params={"limit": 5},
                              headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["employee_id"] == employee and body["model_version"] == "1"
    assert 0 < len(body["items"]) <= 5
