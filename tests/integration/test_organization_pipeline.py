"""The small hand-written company through the pipeline: import ->
skill profiles (a real small engine) -> the point-in-time learning-to-rank set; and the pipeline
verbs in order (organization, skills profiles, dataset, train, audit, promote) on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import inference.skills.artifacts
from features.settings import REPO_ROOT, get_settings
from inference.artifacts.profiles import read_profile_artifacts
from inference.skills.engine import SkillEngine
from tests.support.organization_factory import SMALL_COMPANY, TODAY, reference_store
from tests.support.params_factory import profile_params, ranker_params
from tests.support.skills_factory import uri_of
from training.organization.importer import import_organization
from training.ranking.stage import build_training_set
from training.skills.profiles import build_all_profiles
from waypoint.cli import main

pytestmark = pytest.mark.model


def test_imported_company_profiles_and_training_set(tmp_path: Path, sqlite_url: str,
                                                    small_skill_engine: SkillEngine) -> None:
    store, index = reference_store(sqlite_url, tmp_path)
    try:
        import_organization(SMALL_COMPANY, store, title_index=index, today=TODAY)
        out = tmp_path / "profiles"
        build_all_profiles(store, small_skill_engine, tmp_path / "reference", TODAY, out,
                           profile_params())
        profiles = read_profile_artifacts(out, observations=True)
        assert set(profiles.employee_profiles) == {f"E{i:02d}" for i in range(1, 13)}
        python = uri_of(small_skill_engine, "Python (computer programming)")
        ana = {e.skill_uri: e for e in profiles.employee_profiles["E03"].entries}
        assert python in ana and "REV-01" in ana[python].evidence_ids  # from her review
        assert set(profiles.role_requirements) == {"R-DEV", "R-DEV-SR", "R-ANL", "R-ACC",
                                                   "R-FIN-LEAD"}
        data = build_training_set(store, profiles, ranker_params(negatives=3,
                                                                  random_negatives=1))
        # the filled analyst opening (two applicants, one moved) and the three moves without
        # an opening become queries
        assert "opp:O-2024-01" in data.query_ids
        assert sum(q.startswith("move:") for q in data.query_ids) >= 1
        assert "E09" in data.employee_ids
    finally:
        store.dispose()


def test_the_pipeline_verbs_run_on_the_imported_company_and_say_why_nothing_is_promoted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        small_skill_engine: SkillEngine) -> None:
    """``organization.source: import`` on the small company, then the pipeline's verbs in
    ``dvc repro`` order (the skills engine is the small real one). Six historical decisions, none
    a year old with an outcome in the held-out period: train writes its ranker, bundle and
    reports but registers nothing and says why; the advisory audit runs on the bundle; promote
    refuses, naming the reason."""
    url = f"sqlite:///{tmp_path / 'w.db'}"
    reference_store(url, tmp_path)[0].dispose()
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["organization"] = {"source": "import", "path": str(SMALL_COMPANY),
                              "as_of": TODAY.isoformat()}
    params["ranker"].update(negatives=3, random_negatives=1)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    for name, value in (("DATABASE_URL", url), ("ARTIFACT_DIR", str(tmp_path)),
                        ("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}"),
                        ("PARAMS", str(tmp_path / "params.yaml")),
                        ("DATA_DIR", str(tmp_path / "reference"))):
        monkeypatch.setenv(f"WAYPOINT_{name}", value)
    monkeypatch.setattr(inference.skills.artifacts, "load_engine",
                        lambda *_args, **_kw: small_skill_engine)
    monkeypatch.chdir(tmp_path)  # MLflow's default artifact root is ./mlruns
    get_settings.cache_clear()
    try:
        assert main(["organization"]) == 0
        summary = json.loads((tmp_path / "organization_summary.json").read_text())
        assert summary["source"] == "import" and summary["counts"]["employees"] == 12
        assert main(["skills", "profiles"]) == 0
        assert len(read_profile_artifacts(tmp_path / "profiles").employee_profiles) == 12
        assert main(["dataset"]) == 0
        capsys.readouterr()

        assert main(["train"]) == 1
        out = capsys.readouterr().out
        assert "nothing to gate on: of the 6 historical decisions" in out
        trained = json.loads((tmp_path / "train_summary.json").read_text())
        assert trained["gate"]["decisions"] == 0 and "version" not in trained
        assert (tmp_path / "bundle" / "manifest.json").is_file()

        assert main(["audit", "--advisory"]) == 0
        assert (tmp_path / "reports" / "fairness_audit.json").is_file()
        capsys.readouterr()
        assert main(["promote"]) == 2
        err = capsys.readouterr().err
        assert "no registered versions" in err and "passes its quality gate" in err
    finally:
        get_settings.cache_clear()
