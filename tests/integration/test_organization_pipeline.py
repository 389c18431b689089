"""The small hand-written company through the pipeline as far as a test can take it: import ->
skill profiles (a real small engine) -> the point-in-time learning-to-rank set."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference.artifacts.profiles import read_profile_artifacts
from inference.skills.engine import SkillEngine
from tests.support.organization_factory import SMALL_COMPANY, TODAY, reference_store
from tests.support.params_factory import profile_params, ranker_params
from tests.support.skills_factory import uri_of
from training.organization.importer import import_organization
from training.ranking.stage import build_training_set
from training.skills.profiles import build_all_profiles

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
