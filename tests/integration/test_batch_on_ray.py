"""The batch stages on a local Ray instance give what they give in-process (`training.batch`):
the same skill inferences, observations, requirements and profiles, the same learning-to-rank
set. The instance is started by the fixture (2 CPUs) and stopped when the module is done."""

from __future__ import annotations

import gzip
import importlib.util
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from features.settings import REPO_ROOT
from features.store import Store
from inference.artifacts.profiles import read_profile_artifacts
from inference.skills.engine import SkillEngine
from tests.conftest import require
from tests.support.factories import make_org
from tests.support.organization_factory import SMALL_COMPANY, TODAY, reference_store
from tests.support.params_factory import profile_params, ranker_params
from tests.support.skills_factory import load_small_engine
from training.batch import IN_PROCESS, BatchRunner, OnRay
from training.organization.importer import import_organization
from training.ranking.dataset import RankingDataset, build_dataset
from training.ranking.stage import build_training_set
from training.skills.profiles import build_all_profiles

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def on_ray() -> Iterator[BatchRunner]:
    require(importlib.util.find_spec("ray") is not None,
            "Ray is not installed (the [scale] extra: pip install -e '.[scale]')")
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(REPO_ROOT)}})  # tests.support
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        yield OnRay(actors=2)
    finally:
        ray.shutdown()


def unpacked(folder: Path) -> dict[str, bytes]:
    """Every artifact but the summary (timings), gzip unpacked (its header holds a time)."""
    return {p.name: gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
            for p in sorted(folder.iterdir()) if p.name != "summary.json"}


def profiles_with(runner: BatchRunner, store: Store, engine: SkillEngine,
                  tmp_path: Path) -> Path:
    """The profiles stage over the small company with ``runner``, in small parts (so that
    every actor or process gets several); the folder it wrote."""
    folder = tmp_path / runner.name
    summary = build_all_profiles(store, engine, tmp_path / "reference", TODAY, folder,
                                 profile_params(), runner=runner,
                                 engine_loader=load_small_engine, text_chunk=4,
                                 profile_chunk=3)
    assert summary["rows"]["employee_profiles"] == 12
    return folder


def assert_same_dataset(a: RankingDataset, b: RankingDataset) -> None:
    assert a.query_ids == b.query_ids and a.query_dates == b.query_dates
    assert a.employee_ids == b.employee_ids
    np.testing.assert_array_equal(a.features, b.features)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.group_sizes, b.group_sizes)
    assert a.stats == b.stats and a.outcomes == b.outcomes and a.dismissed == b.dismissed


def test_profiles_and_training_set_on_ray_match_in_process(
        tmp_path: Path, sqlite_url: str, small_skill_engine: SkillEngine,
        on_ray: BatchRunner) -> None:
    store, index = reference_store(sqlite_url, tmp_path)
    try:
        import_organization(SMALL_COMPANY, store, title_index=index, today=TODAY)
        folders = {runner.name: profiles_with(runner, store, small_skill_engine, tmp_path)
                   for runner in (IN_PROCESS, on_ray)}
        local, remote = (unpacked(folders[n]) for n in (IN_PROCESS.name, on_ray.name))
        assert set(local) >= {"employee_profiles.jsonl.gz", "inferred_skills.jsonl.gz",
                              "observations.jsonl.gz", "requirements.jsonl.gz"}
        assert local == remote

        profiles = read_profile_artifacts(folders[IN_PROCESS.name], observations=True)
        params = ranker_params(negatives=3, random_negatives=1)
        data = build_training_set(store, profiles, params)
        assert data.stats["queries"] >= 2
        assert_same_dataset(data, build_training_set(store, profiles, params, runner=on_ray))
    finally:
        store.dispose()


def test_dataset_over_many_quarters_on_ray_matches_in_process(on_ray: BatchRunner) -> None:
    org = make_org(seed=3, employees=60, years=3)
    data = build_dataset(org, negatives=4, random_negatives=2)
    assert len({(d.year, (d.month - 1) // 3) for d in data.query_dates}) >= 8  # many parts
    assert_same_dataset(data, build_dataset(org, negatives=4, random_negatives=2,
                                            runner=on_ray))
