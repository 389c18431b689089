"""Retrieval: vectorizer determinism, exact vs HNSW recall, and business filters."""

from __future__ import annotations

import numpy as np
import pytest
from faiss.contrib.datasets import SyntheticDataset

from features.domain import OpportunityKind, OpportunityStatus
from inference.retrieval.indexes import (
    EmployeeIndex,
    OpportunityIndex,
    SkillProfileVectorizer,
    VectorIndex,
    filtered_search,
    recall_at_depth,
)
from tests.support.factories import (
    SKILLS,
    make_employee,
    make_opportunity,
    make_profile,
    make_requirements,
)


@pytest.fixture(scope="module")
def synthetic() -> SyntheticDataset:
    return SyntheticDataset(64, 0, 12_000, 100, metric="IP", seed=1338)


def test_vectorizer_is_deterministic_and_unit_norm() -> None:
    a = SkillProfileVectorizer(dim=64).employee(make_profile())
    b = SkillProfileVectorizer(dim=64).employee(make_profile())
    assert np.array_equal(a, b)
    assert np.linalg.norm(a) == pytest.approx(1.0, abs=1e-6)
    assert not np.any(SkillProfileVectorizer(dim=64).employee(make_profile(skills={})))


def test_vectorizer_similarity_follows_skill_overlap() -> None:
    vec = SkillProfileVectorizer(dim=128)
    req = vec.requirements(make_requirements(skills={SKILLS[0]: (1, 0.5, True),
                                                     SKILLS[1]: (1, 0.5, False)}))
    close = vec.employee(make_profile(skills={SKILLS[0]: 0.8, SKILLS[1]: 0.8}))
    far = vec.employee(make_profile(skills={SKILLS[30]: 0.8, SKILLS[31]: 0.8}))
    assert float(req @ close) > 0.9 > float(req @ far)


def test_vectorizer_projects_onto_given_skill_vectors() -> None:
    table = {SKILLS[0]: np.array([1.0, 0.0, 0.0]), SKILLS[1]: np.array([0.0, 1.0, 0.0])}
    vec = SkillProfileVectorizer(skill_vectors=table)
    v = vec.employee(make_profile(skills={SKILLS[0]: 0.5, SKILLS[1]: 0.5, SKILLS[9]: 1.0},
                                  confidence=1.0))
    assert vec.dim == 3
    assert np.allclose(v, [2 ** -0.5, 2 ** -0.5, 0.0], atol=1e-6)


def test_small_catalog_is_exact(synthetic: SyntheticDataset) -> None:
    index = VectorIndex(synthetic.get_database()[:500], exact_threshold=1000)
    assert index.kind == "exact"
    assert recall_at_depth(index, synthetic.get_queries(), 50) == 1.0


@pytest.mark.parametrize("depth", [20, 100, 200])
def test_hnsw_recall_at_candidate_depth(synthetic: SyntheticDataset, depth: int) -> None:
    index = VectorIndex(synthetic.get_database(), exact_threshold=1000)
    assert index.kind == "hnsw"
    assert recall_at_depth(index, synthetic.get_queries(), depth) >= 0.98


def test_exact_search_matches_faiss_flat(synthetic: SyntheticDataset) -> None:
    index = VectorIndex(synthetic.get_database()[:2000], exact_threshold=5000)
    q = synthetic.get_queries()[:10]
    s1, i1 = index.search(q, 25)
    s2, i2 = index.exact_search(q, 25)
    assert np.array_equal(i1, i2)
    assert np.allclose(s1, s2, atol=1e-5)


@pytest.mark.parametrize("selectivity", [0.5, 0.02, 0.001])
def test_filtered_search_guarantees_depth(synthetic: SyntheticDataset, selectivity: float) -> None:
    index = VectorIndex(synthetic.get_database(), exact_threshold=1000)
    allowed = np.asarray(np.random.default_rng(3).random(index.n) < selectivity, dtype=bool)
    q = synthetic.get_queries()[0]
    depth = 50
    scores, rows = filtered_search(index, q, depth, allowed)
    assert len(rows) == min(depth, int(allowed.sum()))
    assert allowed[rows].all()
    assert len(set(rows.tolist())) == len(rows)
    assert np.all(np.diff(scores) <= 1e-6)
    _, exact = index.exact_search(q, depth, np.flatnonzero(allowed))
    assert len(set(rows.tolist()) & set(exact[0].tolist())) >= 0.98 * len(rows)


def _catalog(n: int = 200) -> tuple[list, np.ndarray]:
    rng = np.random.default_rng(0)
    opps = [make_opportunity(id=f"o{i}", level=1 + i % 5, location=["Lisbon", "Porto"][i % 2],
                             status=OpportunityStatus.OPEN if i % 7 else OpportunityStatus.FILLED,
                             role_id=f"r{i % 10}", kind=list(OpportunityKind)[i % 5])
            for i in range(n)]
    return opps, rng.standard_normal((n, 16)).astype(np.float32)


@pytest.mark.parametrize("threshold", [10_000, 50])
def test_opportunity_filters(threshold: int) -> None:
    opps, vecs = _catalog()
    index = OpportunityIndex(opps, vecs, exact_threshold=threshold)
    emp = make_employee(level=2, role_id="r3", location="Lisbon")
    found = index.retrieve(emp, vecs[3], depth=30, locations={"Lisbon"})
    by_id = {o.id: o for o in opps}
    assert len(found) == 30
    for c in found:
        o = by_id[c.id]
        assert o.status is OpportunityStatus.OPEN
        assert 1 <= o.level <= 4
        assert o.role_id != "r3"
        assert o.location == "Lisbon"
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)
    passing = int(index.allowed(emp, locations={"Lisbon"}).sum())
    assert len(index.retrieve(emp, vecs[3], depth=10_000, locations={"Lisbon"})) == passing


def test_opportunity_kinds_and_closing() -> None:
    opps, vecs = _catalog()
    index = OpportunityIndex(opps, vecs)
    emp = make_employee(level=3, role_id="none")
    gigs = index.retrieve(emp, vecs[0], depth=5, kinds={OpportunityKind.GIG})
    assert gigs and all(opps[c.row].kind is OpportunityKind.GIG for c in gigs)
    index.set_open([gigs[0].id], False)
    assert gigs[0].id not in {c.id for c in index.retrieve(emp, vecs[0], depth=500)}


@pytest.mark.parametrize("threshold", [10_000, 20])
def test_employee_search_only_opted_in(threshold: int) -> None:
    rng = np.random.default_rng(1)
    emps = [make_employee(id=f"e{i}", level=1 + i % 5, discoverable=i % 3 != 0,
                          role_id=f"r{i % 4}") for i in range(120)]
    vecs = rng.standard_normal((120, 16)).astype(np.float32)
    index = EmployeeIndex(emps, vecs, exact_threshold=threshold)
    found = index.retrieve(3, "r1", vecs[0], depth=20, exclude_ids={"e2"})
    by_id = {e.id: e for e in emps}
    assert len(found) == 20
    for c in found:
        e = by_id[c.id]
        assert e.discoverable and e.role_id != "r1" and c.id != "e2"
        assert -1 <= 3 - e.level <= 2
    assert "e0" not in {c.id for c in index.retrieve(3, None, vecs[0], depth=200)}
