"""Issue 13: success labels on applicant slates, and the old labelling's inverted lesson."""

from __future__ import annotations

import numpy as np
import pytest

from features.domain import EventKind, Organization
from tests.support.factories import make_org
from tests.support.params_factory import ranker_params
from training.ranking.dataset import RankingDataset, build_dataset, outcome_key
from training.ranking.evaluation import TruthKey
from training.ranking.labels import (
    FAILED,
    MOVED_OK,
    NOT_CHOSEN,
    THRIVED,
    applicant_slates,
    success_grade,
    training_view,
)
from training.ranking.ranker import train_and_evaluate


@pytest.fixture(scope="module")
def org() -> Organization:
    return make_org(seed=1, employees=240, years=4)


@pytest.fixture(scope="module")
def dataset(org: Organization) -> RankingDataset:
    return build_dataset(org, negatives=12, random_negatives=3)


def true_fit(org: Organization) -> dict[TruthKey, float]:
    """make_org's own fit (evidence on the opening's skills before its date) per applicant:
    how the small history chose its movers, known to the test and never to training."""
    opps = {o.id: o for o in org.opportunities}
    out: dict[TruthKey, float] = {}
    for ev in org.events:
        if ev.kind is EventKind.APPLICATION and ev.opportunity_id in opps:
            o = opps[ev.opportunity_id]
            assert o.closes_on is not None
            out[(f"opp:{o.id}", ev.employee_id)] = float(sum(
                1 for x in org.evidence if x.employee_id == ev.employee_id
                and x.occurred_on < o.closes_on and x.skill_uri in o.skill_uris))
    return out


def test_success_grades() -> None:
    assert NOT_CHOSEN < FAILED < MOVED_OK < THRIVED
    assert success_grade(1, None, None) == NOT_CHOSEN
    assert success_grade(2, None, None) == MOVED_OK  # outcome not known yet
    assert success_grade(3, 5, True) == THRIVED
    assert success_grade(2, 3, True) == MOVED_OK
    assert success_grade(2, 5, False) == FAILED  # left within the year
    assert success_grade(2, 2, True) == FAILED


def test_applicant_slates_drop_every_non_applicant(dataset: RankingDataset) -> None:
    slates = applicant_slates(dataset)
    considered = set(zip(dataset.row_query_ids(), dataset.employee_ids, strict=True))
    graded = {(q, e) for q, e, g in zip(dataset.row_query_ids(), dataset.employee_ids,
                                        dataset.labels.tolist(), strict=True) if g >= 1}
    rows = set(zip(slates.row_query_ids(), slates.employee_ids, strict=True))
    assert rows <= graded < considered  # retrieved and random negatives are gone
    assert len(slates.labels) == int(slates.group_sizes.sum())
    assert np.all(slates.group_sizes >= 2)
    assert set(np.unique(slates.labels).tolist()) <= {0, 1, 2, 3}
    # the grades follow the recorded outcome of each mover
    for q, e, g in zip(slates.row_query_ids(), slates.employee_ids, slates.labels.tolist(),
                       strict=True):
        rating, retained = dataset.outcomes.get(outcome_key(q, e), (None, None))
        if rating is not None:
            assert g == success_grade(2, rating, retained)
    assert training_view(dataset, "legacy") is dataset
    with pytest.raises(ValueError):
        training_view(dataset, "clicks")


def test_outcomes_survive_save_and_subset(dataset: RankingDataset, tmp_path) -> None:
    assert dataset.outcomes  # every mover's outcome is recorded
    dataset.save(tmp_path / "d.npz")
    loaded = RankingDataset.load(tmp_path / "d.npz")
    assert loaded.outcomes == dataset.outcomes
    half = loaded.subset(np.arange(len(loaded.group_sizes)) % 2 == 0)
    assert np.array_equal(applicant_slates(half).labels,
                          applicant_slates(dataset.subset(
                              np.arange(len(dataset.group_sizes)) % 2 == 0)).labels)


def test_old_labels_prefer_worse_fits_and_success_labels_do_not(
        org: Organization, dataset: RankingDataset) -> None:
    # Retrieval adds the closest skill matches as grade-0 rows: the legacy objective learns
    # that fitting well is what a non-applicant looks like. No monotone constraints on either
    # model: the labels alone must make the difference.
    truth = true_fit(org)
    figures = {}
    for labels in ("legacy", "success"):
        # the labels alone: no monotone constraint, no skill prior (training.ranking.prior)
        params = ranker_params(min_data_in_leaf=5, num_threads=1, labels=labels, monotone=False,
                               prior_scales=[0.0])
        _, report = train_and_evaluate(dataset, params, truth=truth)
        figures[labels] = report
    legacy, success = figures["legacy"], figures["success"]
    assert legacy.counts["truth.spearman"] >= 15
    assert legacy.metrics["ranker"]["truth.spearman"] < 0.0
    assert legacy.skill_sweep["mean_gain_none_to_all"] < 0.0  # more skills, lower score
    assert success.metrics["ranker"]["truth.spearman"] > 0.5
    assert success.metrics["ranker"]["truth.top1"] > legacy.metrics["ranker"]["truth.top1"]
    assert success.skill_sweep["mean_gain_none_to_all"] > 0.0
    # and the legacy model fails the gate on the within-applicant outcome metric
    assert not legacy.passed
