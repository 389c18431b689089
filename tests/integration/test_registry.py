"""Register, gate, promote, roll back and load the champion bundle through a real MLflow."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from features.params import load_params
from features.ranking import FEATURE_NAMES
from inference.artifacts.bundle import BundleError, BundleHolder, load_bundle, write_bundle
from inference.artifacts.registry import champion_version, load_champion_bundle
from tests.support.params_factory import serving_policy
from training.registry import (
    PromotionRefused,
    log_and_register,
    promote,
    record_fairness,
    rollback,
)

NAME = "test-ranker"


def tiny_ranker(seed: int) -> lgb.Booster:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(200, len(FEATURE_NAMES)))
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 1).astype(int)
    data = lgb.Dataset(x, label=y, group=[10] * 20, feature_name=list(FEATURE_NAMES))
    return lgb.train({"objective": "lambdarank", "verbose": -1, "num_leaves": 4,
                      "min_data_in_leaf": 5, "seed": seed}, data, num_boost_round=5)


def register(tmp_path: Path, uri: str, seed: int, ndcg: float, data: str = "v1") -> str:
    ranker = tiny_ranker(seed)
    bundle = tmp_path / f"bundle-{seed}"
    write_bundle(bundle, model_name=NAME, ranker=ranker, feature_names=FEATURE_NAMES,
                 encoder="packaged:all-MiniLM-L6-v2", data_versions={"organization": "v1"},
                 metrics={"ndcg_at_10": ndcg},
                 policy=serving_policy(date(2026, 11, 1)))
    run = log_and_register(tracking_uri=uri, model_name=NAME, ranker=ranker, bundle_dir=bundle,
                           params={"seed": seed}, metrics={"ndcg_at_10": ndcg},
                           feature_names=list(FEATURE_NAMES), data_version=data,
                           artifact_root=tmp_path / "artifacts")
    return run.version


def test_promotion_gate_and_rollback(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    first = register(tmp_path, uri, seed=1, ndcg=0.60)
    with pytest.raises(PromotionRefused, match="fairness audit missing"):
        promote(uri, NAME, first)
    record_fairness(uri, NAME, first, passed=True, metrics={"min_impact_ratio": 0.93})
    promote(uri, NAME, first)
    assert champion_version(uri, NAME) == first

    worse = register(tmp_path, uri, seed=2, ndcg=0.50)
    record_fairness(uri, NAME, worse, passed=True, metrics={"min_impact_ratio": 0.95})
    with pytest.raises(PromotionRefused, match="below the champion"):
        promote(uri, NAME, worse, tolerance=0.01)
    assert champion_version(uri, NAME) == first

    unfair = register(tmp_path, uri, seed=3, ndcg=0.70)
    record_fairness(uri, NAME, unfair, passed=False, metrics={"min_impact_ratio": 0.6})
    with pytest.raises(PromotionRefused, match="fairness audit failed"):
        promote(uri, NAME, unfair)

    better = register(tmp_path, uri, seed=4, ndcg=0.605)
    record_fairness(uri, NAME, better, passed=True, metrics={"min_impact_ratio": 0.9})
    promote(uri, NAME, better, tolerance=0.01)
    assert champion_version(uri, NAME) == better

    bundle = load_champion_bundle(uri, NAME, tmp_path / "cache")
    assert bundle.version == better
    assert bundle.manifest.feature_names == list(FEATURE_NAMES)
    assert bundle.ranker.num_feature() == len(FEATURE_NAMES)

    assert rollback(uri, NAME) == first
    assert champion_version(uri, NAME) == first
    with pytest.raises(PromotionRefused, match="no earlier champion"):
        rollback(uri, NAME)


def test_bundle_refuses_tampering_and_skew(tmp_path: Path) -> None:
    bundle = tmp_path / "b"
    write_bundle(bundle, model_name=NAME, ranker=tiny_ranker(1), feature_names=FEATURE_NAMES,
                 encoder="e", data_versions={}, policy=serving_policy(date(2026, 11, 1)))
    assert load_bundle(bundle).manifest.model_name == NAME
    ranker_file = bundle / "ranker.txt"
    ranker_file.write_text(ranker_file.read_text() + "\n")
    with pytest.raises(BundleError, match="does not match its hash"):
        load_bundle(bundle)
    manifest = bundle / "manifest.json"
    manifest.write_text(manifest.read_text().replace(FEATURE_NAMES[0], "shuffled"))
    with pytest.raises(BundleError):
        load_bundle(bundle, verify=False)


def test_bundle_carries_its_serving_policy(tmp_path: Path) -> None:
    # the policy a bundle was trained with is what it is served with, whatever params.yaml
    # says later; a bundle without one (an older layout) is refused, not served on defaults
    bundle = tmp_path / "b"
    policy = serving_policy(date(2026, 11, 1), dimension="sex_x_race_ethnicity", k=7)
    write_bundle(bundle, model_name=NAME, ranker=tiny_ranker(1), feature_names=FEATURE_NAMES,
                 encoder="e", data_versions={}, policy=policy)
    loaded = load_bundle(bundle).manifest.policy
    assert loaded == policy and loaded.rerank.k == 7
    assert loaded.serving.opportunity_depth == load_params().serving.opportunity_depth
    manifest = json.loads((bundle / "manifest.json").read_text())
    del manifest["policy"]
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="policy"):
        load_bundle(bundle)


def test_failed_reload_keeps_the_serving_bundle(tmp_path: Path) -> None:
    good = tmp_path / "good"
    write_bundle(good, model_name=NAME, ranker=tiny_ranker(1), feature_names=FEATURE_NAMES,
                 encoder="e", data_versions={}, policy=serving_policy(date(2026, 11, 1)))
    source = {"path": good}
    holder = BundleHolder(lambda: load_bundle(source["path"]))
    serving = holder.reload()
    source["path"] = tmp_path / "missing"
    with pytest.raises(BundleError):
        holder.reload()
    assert holder.current is serving
    assert holder.last_error is not None and "not a model bundle" in holder.last_error


def test_a_champion_evaluated_on_other_data_is_not_compared(tmp_path: Path) -> None:
    # A new import or a changed simulator gives another latest period: the champion's figure
    # on its own data says nothing about the candidate's, so the gate notes it and compares
    # nothing (the candidate's own quality and fairness gates still apply).
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    first = register(tmp_path, uri, seed=1, ndcg=0.60, data="ref/org-a")
    record_fairness(uri, NAME, first, passed=True, metrics={"min_impact_ratio": 0.93})
    promote(uri, NAME, first)
    same_data = register(tmp_path, uri, seed=2, ndcg=0.50, data="ref/org-a")
    record_fairness(uri, NAME, same_data, passed=True, metrics={"min_impact_ratio": 0.93})
    with pytest.raises(PromotionRefused, match="below the champion"):
        promote(uri, NAME, same_data, tolerance=0.01)
    other_data = register(tmp_path, uri, seed=3, ndcg=0.50, data="ref/org-b")
    unaudited = register(tmp_path, uri, seed=4, ndcg=0.50, data="ref/org-b")
    record_fairness(uri, NAME, other_data, passed=True, metrics={"min_impact_ratio": 0.93})
    decision = promote(uri, NAME, other_data, tolerance=0.01)
    assert champion_version(uri, NAME) == other_data
    assert decision.champion_value is None
    assert decision.note is not None and "other data" in decision.note
    with pytest.raises(PromotionRefused, match="fairness audit missing"):
        promote(uri, NAME, unaudited)
