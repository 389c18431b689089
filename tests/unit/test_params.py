"""The one params model: every key of params.yaml is required, nothing has a code default, and
what serving and the audits use is what params.yaml (or the bundle trained from it) says."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import lightgbm as lgb
import numpy as np
from pydantic import BaseModel

from features.params import Params, RerankPolicy, load_params
from features.ranking import FEATURE_NAMES
from inference.artifacts.bundle import load_bundle, write_bundle
from tests.support.params_factory import serving_policy
from training.fairness.audit import read_audit_settings
from training.fairness.stage import settings_for


def _fields(model: type[BaseModel], prefix: str = "") -> list[tuple[str, bool]]:
    out = []
    for name, field in model.model_fields.items():
        out.append((prefix + name, field.is_required()))
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out.extend(_fields(annotation, f"{prefix}{name}."))
    return out


def test_every_params_key_is_required() -> None:
    # a code default is a second source of truth that can drift from params.yaml (the old
    # RerankConfig / RerankSettings / FAIRNESS_DEFAULTS did: intersection, ceilings, 1.0)
    optional = [name for name, required in _fields(Params) if not required]
    assert optional == []
    assert len(_fields(Params)) > 100


def test_the_audit_runs_the_bundles_policy_not_params_yaml(tmp_path: Path) -> None:
    # `waypoint audit --version N` audits N with N's own policy: a bundle trained under another
    # re-ranking policy is audited under that one, whatever params.yaml says today
    shipped = load_params().fairness.rerank
    other = serving_policy(date(2026, 11, 1), dimension="sex_x_race_ethnicity", k=7,
                           floor_ratio=1.0, ceilings=True)
    assert other.rerank != shipped
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, len(FEATURE_NAMES)))
    ranker = lgb.train({"objective": "lambdarank", "verbose": -1, "num_leaves": 4,
                        "min_data_in_leaf": 5},
                       lgb.Dataset(x, label=(x[:, 0] > 0).astype(int), group=[10] * 10,
                                   feature_name=list(FEATURE_NAMES)), num_boost_round=3)
    write_bundle(tmp_path / "b", model_name="m", ranker=ranker, feature_names=FEATURE_NAMES,
                 encoder="e", data_versions={}, policy=other,
                 rerank_offsets={"sex_x_race_ethnicity": {"female | Asian": 0.1},
                                 "sex": {"female": 0.5}})
    settings = settings_for(read_audit_settings(), load_bundle(tmp_path / "b"))
    assert settings.rerank == other.rerank and isinstance(settings.rerank, RerankPolicy)
    assert settings.fitted_offsets == {"female | Asian": 0.1}
    assert settings.gate == load_params().fairness.gate  # the gate stays params.yaml's
