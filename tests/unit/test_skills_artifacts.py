"""Which engine is *the* engine: the pointer the pipeline writes, and the names that reach it."""

from __future__ import annotations

from pathlib import Path

import pytest

from features.errors import WaypointError
from inference.skills.artifacts import (
    PROFILES,
    VARIANTS,
    ArtifactMissing,
    resolve_variant,
    serving_pointer,
    write_serving_pointer,
)


def test_no_pointer_is_a_clear_error_naming_the_stage(tmp_path: Path) -> None:
    with pytest.raises(ArtifactMissing, match="dvc repro promote"):
        resolve_variant(tmp_path, None)


def test_default_and_profiles_both_mean_the_one_engine(tmp_path: Path) -> None:
    write_serving_pointer(tmp_path, "static")
    assert resolve_variant(tmp_path, None) == "static"
    assert resolve_variant(tmp_path, PROFILES) == "static"
    assert resolve_variant(tmp_path, "trained-int8") == "trained-int8"


def test_unknown_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(WaypointError, match="unknown skills variant"):
        write_serving_pointer(tmp_path, "large")
    with pytest.raises(WaypointError, match="profiles"):
        resolve_variant(tmp_path, "large")
    serving_pointer(tmp_path).parent.mkdir(parents=True)
    serving_pointer(tmp_path).write_text('{"variant": "large"}')
    with pytest.raises(ArtifactMissing, match="unknown variant"):
        resolve_variant(tmp_path, None)
    serving_pointer(tmp_path).write_text("not json")
    with pytest.raises(ArtifactMissing, match=r"serving\.json"):
        resolve_variant(tmp_path, None)


def test_shipped_variant_is_a_known_one() -> None:
    from tests.support.params_factory import repo_params

    assert repo_params().skills_engine.variant in VARIANTS
