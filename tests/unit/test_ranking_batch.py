"""The vectorised feature rows (`features.ranking_batch.TargetTable`) equal `feature_row`'s, bit
for bit."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from features.domain import EmployeeProfile, EvidenceKind, Organization, RequirementProfile
from features.ranking import (
    FEATURE_NAMES,
    EmployeeContext,
    Target,
    employee_context,
    feature_matrix,
    target_from_opportunity,
    target_from_role,
)
from features.ranking_batch import TargetTable
from features.ranking_history import basic_profile, basic_requirements, history_before
from inference.retrieval.indexes import SkillProfileVectorizer
from tests.support.factories import (
    SKILLS,
    make_employee,
    make_evidence,
    make_opportunity,
    make_org,
    make_profile,
    make_requirements,
)

AS_OF = date(2024, 1, 1)
COSINE = FEATURE_NAMES.index("embedding_cosine")


def _org() -> Organization:
    org = make_org(seed=5, employees=40)
    # course completions and recent learning, so the learning columns are not all defaults
    for i, emp in enumerate(org.employees[:25]):
        org.evidence.append(make_evidence(
            id=f"course-ev-{i}", employee_id=emp.id, kind=EvidenceKind.COURSE_COMPLETION,
            course_id=org.courses[i % len(org.courses)].id, skill_uri=None,
            occurred_on=AS_OF - timedelta(days=30 + 40 * (i % 12))))
    return org


def _world() -> tuple[list[EmployeeContext], list[Target], list[RequirementProfile],
                      np.ndarray, dict[tuple[str, str], int]]:
    org = _org()
    roles = {r.id: r for r in org.roles}
    courses = {c.id: c for c in org.courses}
    vectorizer = SkillProfileVectorizer(dim=64)
    targets = [target_from_opportunity(o, roles) for o in org.opportunities]
    requirements = [basic_requirements(o) for o in org.opportunities]
    for role in org.roles:  # roles as targets: no location, other requirement shapes
        targets.append(target_from_role(role))
        requirements.append(make_requirements(role.id, {
            SKILLS[(role.level * 7 + k) % len(SKILLS)]: (1.0 - 0.1 * k, 0.2 * k, k == 0)
            for k in range(role.level + 1)}))
    targets.append(target_from_opportunity(make_opportunity(id="bare")))
    requirements.append(RequirementProfile(subject_id="bare"))  # no requirements at all
    vectors = vectorizer.requirement_profiles(requirements)
    contexts = []
    for emp in org.employees:
        evidence = [ev for ev in org.evidence if ev.employee_id == emp.id]
        history = history_before(AS_OF, evidence,
                                 [m for m in org.moves if m.employee_id == emp.id])
        profile = basic_profile(emp.id, history, courses, as_of=AS_OF)
        contexts.append(employee_context(emp, profile, history, AS_OF,
                                         current_role=roles.get(emp.role_id), courses=courses,
                                         vector=vectorizer.employee(profile)))
    # a newcomer: no role, elsewhere, no skills, no aspirations, zero vector
    newcomer = make_employee(id="new", role_id="unknown", location="Nowhere", aspirations="")
    empty = EmployeeProfile(employee_id="new", as_of=AS_OF)
    contexts.append(employee_context(newcomer, empty, history_before(AS_OF), AS_OF,
                                     vector=vectorizer.employee(empty)))
    # a wish in generic title words and distinctive ones (`aspiration_share` takes the lower)
    climber = make_employee(id="climber", aspirations="First-Line Supervisor of data analysts")
    contexts.append(employee_context(climber, empty, history_before(AS_OF), AS_OF,
                                     vector=vectorizer.employee(empty)))
    codes = sorted({r.onet_code for r in org.roles if r.onet_code})
    adjacency = {(a, b): 1 + (i * 3 + j) % 12 for i, a in enumerate(codes)
                 for j, b in enumerate(codes) if (i + j) % 3}
    return contexts, targets, requirements, vectors, adjacency


@pytest.fixture(scope="module")
def world() -> tuple[list[EmployeeContext], list[Target], list[RequirementProfile],
                     np.ndarray, dict[tuple[str, str], int]]:
    return _world()


@pytest.mark.parametrize("with_adjacency", [True, False])
def test_rows_equal_feature_row(world: tuple, with_adjacency: bool) -> None:
    contexts, targets, requirements, vectors, adjacency = world
    table = TargetTable(targets, requirements)
    rng = np.random.default_rng(0)
    adj = adjacency if with_adjacency else None
    for ctx in contexts:
        rows = rng.permutation(len(targets))[: int(rng.integers(1, len(targets) + 1))]
        expected = feature_matrix(ctx, [(targets[r], requirements[r]) for r in rows],
                                  vectors[rows], adj)
        got = table.matrix(ctx, rows, vectors[rows], adj)
        assert np.array_equal(got, expected), ctx.employee.id


def test_columns_vary_on_this_world(world: tuple) -> None:
    """The comparison above means something: the world exercises every non-constant column."""
    contexts, targets, requirements, vectors, adjacency = world
    table = TargetTable(targets, requirements)
    rows = np.arange(len(targets))
    x = np.vstack([table.matrix(ctx, rows, vectors, adjacency) for ctx in contexts])
    varying = {name for i, name in enumerate(FEATURE_NAMES) if np.ptp(x[:, i]) > 0}
    assert varying >= {"embedding_cosine", "skill_coverage", "skill_gap", "essential_coverage",
                       "missing_essentials", "required_confidence", "level_delta",
                       "job_family_distance", "same_department", "same_location",
                       "days_since_relevant_learning", "relevant_learning_365d",
                       "days_since_relevant_evidence", "endorsements_on_required",
                       "aspiration_match", "career_changer_adjacency"}


def test_no_vector_gives_nan_cosine_and_empty_rows() -> None:
    emp = make_employee()
    profile = make_profile(employee_id=emp.id)
    ctx = employee_context(emp, profile, history_before(AS_OF), AS_OF)
    targets = [target_from_opportunity(make_opportunity(id="o1"))]
    reqs = [make_requirements("o1")]
    table = TargetTable(targets, reqs)
    got = table.matrix(ctx, [0])
    assert np.isnan(got[0, COSINE])
    assert np.array_equal(got[:, 1:], feature_matrix(ctx, list(zip(targets, reqs,
                                                                   strict=True)))[:, 1:])
    assert table.matrix(ctx, []).shape == (0, len(FEATURE_NAMES))
    with pytest.raises(ValueError, match="one requirement profile per target"):
        TargetTable(targets, [])
