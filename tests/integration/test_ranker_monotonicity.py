"""Issue 13: skill fit moves the score up. Hand-built cases: the same person, the same
opening, more and more of its required skills (everything else unchanged) -> a higher score."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from features.domain import Organization
from features.ranking import employee_context, feature_row, target_from_opportunity
from features.ranking_history import history_before
from features.ranking_model import Ranker
from inference.retrieval.indexes import SkillProfileVectorizer
from tests.support.factories import (
    FAMILIES,
    SKILLS,
    make_opportunity,
    make_org,
    make_profile,
    make_requirements,
)
from tests.support.params_factory import ranker_params
from training.ranking.dataset import build_dataset
from training.ranking.ranker import train_and_evaluate

AS_OF = date(2024, 6, 1)


@pytest.fixture(scope="module")
def org() -> Organization:
    return make_org(seed=1, employees=240, years=4)


@pytest.fixture(scope="module")
def models(org: Organization) -> dict[str, Ranker]:
    data = build_dataset(org, negatives=12, random_negatives=3)
    out = {}
    for name, labels, monotone in (("shipped", "success", True), ("legacy", "legacy", False)):
        params = ranker_params(min_data_in_leaf=5, num_threads=1, labels=labels,
                              monotone=monotone,  # the old recipe had no skill prior either
                              **({} if monotone else {"prior_scales": [0.0]}))
        out[name], _ = train_and_evaluate(data, params)
    return out


def ladders(org: Organization) -> list[np.ndarray]:
    """Per case: feature rows with 0, 1, ... all of the opening's required skills."""
    roles = {r.id: r for r in org.roles}
    vectorizer = SkillProfileVectorizer()
    cases = []
    for family, employee_index, level in (("engineering", 0, 2), ("data", 1, 3),
                                          ("finance", 2, 2), ("engineering", 4, 3)):
        required = FAMILIES[family][1][:4]
        opp = make_opportunity(id=f"probe-{family}-{level}", level=level,
                               role_id=f"role-{family}-{level}", skill_uris=required)
        reqs = make_requirements(opp.id, {uri: (1.0 - 0.1 * i, 0.6, i < 2)
                                          for i, uri in enumerate(required)})
        target = target_from_opportunity(opp, roles)
        employee = org.employees[employee_index]
        other = [s for s in SKILLS if s not in required][:3]  # unrelated skills, held fixed
        rows = []
        for n in range(len(required) + 1):
            skills = {**dict.fromkeys(other, 0.7), **dict.fromkeys(required[:n], 0.8)}
            profile = make_profile(employee.id, AS_OF, skills)
            ctx = employee_context(employee, profile, history_before(AS_OF), AS_OF,
                                   current_role=roles.get(employee.role_id),
                                   vector=vectorizer.employee(profile))
            rows.append(feature_row(ctx, target, reqs, vectorizer.requirements(reqs)))
        cases.append(np.vstack(rows))
    return cases


def test_more_required_skills_never_lowers_the_score(org: Organization,
                                                     models: dict[str, Ranker]) -> None:
    for rows in ladders(org):
        scores = models["shipped"].score(rows)
        assert np.all(np.diff(scores) >= 0.0), scores
        assert scores[-1] > scores[0], scores  # all of the skills beats none of them


def test_the_check_catches_a_model_that_learned_the_wrong_lesson(
        org: Organization, models: dict[str, Ranker]) -> None:
    # the pre-issue-13 objective, unconstrained: on these cases, more skills score lower
    drops = [bool(np.any(np.diff(models["legacy"].score(rows)) < 0.0)) for rows in ladders(org)]
    assert any(drops)
