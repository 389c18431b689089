"""The skill-fit prior the ranker boosts from (training.ranking.prior), on a small real history."""

from __future__ import annotations

import numpy as np
import pytest

from features.ranking import FEATURE_NAMES
from tests.support.factories import make_org
from tests.support.params_factory import ranker_params
from training.ranking.dataset import RankingDataset, build_dataset
from training.ranking.evaluation import SKILL_FEATURES
from training.ranking.labels import training_view
from training.ranking.prior import Prior, choose_prior, prior_tree, validation_score
from training.ranking.ranker import time_split, train_lambdarank

NAMES = list(FEATURE_NAMES)


@pytest.fixture(scope="module")
def split() -> tuple[RankingDataset, RankingDataset, RankingDataset]:
    data = build_dataset(make_org(seed=2, employees=240, years=4), negatives=6,
                         random_negatives=2)
    return time_split(data, 0.2, 0.2)


def test_one_tree_reproduces_a_count_feature_exactly() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, len(NAMES)))
    j = NAMES.index("missing_essentials")
    x[:, j] = rng.integers(0, 9, size=400)
    prior = Prior(name="missing_essentials", terms=(("missing_essentials", -1.0 / 2.0),))
    tree = prior_tree(prior, 3.0, x, NAMES, seed=0, threads=1)
    assert tree.num_trees() == 1
    np.testing.assert_allclose(tree.predict(x), -1.5 * x[:, j], atol=1e-9)


def test_the_prior_is_the_skill_score_that_orders_the_validation_applicants_best(
        split: tuple[RankingDataset, RankingDataset, RankingDataset]) -> None:
    train, valid, _ = split
    rows = training_view(train, "success").features
    prior = choose_prior(rows, valid, NAMES, 10, 10)
    assert prior is not None
    best = validation_score(valid, prior.target(valid.features, NAMES, 1.0), 10, 10)
    for feature, direction in SKILL_FEATURES.items():
        single = direction * valid.features[:, NAMES.index(feature)]
        assert validation_score(valid, single, 10, 10) <= best + 1e-12


def test_the_ranker_keeps_the_scale_that_does_best_on_validation(
        split: tuple[RankingDataset, RankingDataset, RankingDataset]) -> None:
    train, valid, _ = split

    def score(scales: list[float]) -> float:
        params = ranker_params(min_data_in_leaf=5, num_threads=1, prior_scales=scales)
        booster = train_lambdarank(train, valid, params, NAMES)
        return validation_score(valid, np.asarray(booster.predict(valid.features)), 10, 10)

    alone = score([0.0])
    assert score([0.0, 1.0, 4.0]) >= alone  # never worse than no prior on validation
    with_prior = ranker_params(min_data_in_leaf=5, num_threads=1, prior_scales=[4.0])
    booster = train_lambdarank(train, valid, with_prior, NAMES)
    assert booster.num_trees() >= 1  # the prior's tree is part of the one shipped model
