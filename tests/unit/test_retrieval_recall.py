"""Approximate retrieval with the business filters keeps >= 0.95 recall against exact search at
the shipped serving depths (params.yaml ``serving``), on clustered skill-profile vectors."""

from __future__ import annotations

import numpy as np
import pytest

from features.domain import (
    Employee,
    Opportunity,
    OpportunityKind,
    OpportunityStatus,
)
from features.params import load_params
from inference.retrieval.indexes import EmployeeIndex, OpportunityIndex, SkillProfileVectorizer
from tests.support.factories import make_employee, make_opportunity

N = 12_000
FAMILIES = 30
SKILLS_PER_FAMILY = 40
LOCATIONS = ("Lisbon", "Porto", "Berlin")


def _skills(rng: np.random.Generator, family: int, n: int) -> list[str]:
    own = family * SKILLS_PER_FAMILY + rng.integers(0, SKILLS_PER_FAMILY, size=n)
    other = rng.integers(0, FAMILIES * SKILLS_PER_FAMILY, size=n)
    picked = np.where(rng.random(n) < 0.75, own, other)
    return [f"http://example.org/skill/{int(s)}" for s in np.unique(picked)]


def _weights(rng: np.random.Generator, family: int) -> list[tuple[str, float]]:
    """A profile's (skill, weight) pairs as `SkillProfileVectorizer.employee` weighs them."""
    return [(u, float(rng.uniform(0.2, 1.0)) * float(rng.uniform(0.65, 1.0)))
            for u in _skills(rng, family, int(rng.integers(5, 25)))]


@pytest.fixture(scope="module")
def people() -> tuple[list[Employee], np.ndarray]:
    rng = np.random.default_rng(11)
    vectorizer = SkillProfileVectorizer(dim=64)
    employees, vectors = [], []
    for i in range(N):
        family = int(rng.integers(FAMILIES))
        level = int(rng.integers(1, 6))
        employees.append(make_employee(
            id=f"e{i}", level=level, role_id=f"role-{family}-{level}",
            location=LOCATIONS[i % 3], discoverable=bool(rng.random() < 0.7)))
        vectors.append(vectorizer.from_weights(_weights(rng, family)))
    return employees, np.stack(vectors)


def _recall(found: list[str], exact: list[str]) -> float:
    return len(set(found) & set(exact)) / max(1, len(exact))


def test_candidate_retrieval_recall_at_serving_depth(people: tuple) -> None:
    employees, vectors = people
    serving = load_params().serving
    options = serving.index.model_dump()
    hnsw = EmployeeIndex(employees, vectors, **{**options, "exact_threshold": 1000})
    exact = EmployeeIndex(employees, vectors, **{**options, "exact_threshold": N})
    assert hnsw.index.kind == "hnsw" and exact.index.kind == "exact"
    rng = np.random.default_rng(5)
    recalls = []
    for q in rng.choice(N, size=40, replace=False):
        query = vectors[q] + rng.normal(0, 0.02, size=vectors.shape[1]).astype(np.float32)
        level, role = int(rng.integers(1, 6)), f"role-{int(rng.integers(FAMILIES))}-3"
        found = hnsw.retrieve(level, role, query, serving.candidate_depth,
                              locations=["Lisbon", "Porto"])
        truth = exact.retrieve(level, role, query, serving.candidate_depth,
                               locations=["Lisbon", "Porto"])
        assert all(employees[c.row].discoverable for c in found)
        assert len(found) == len(truth)
        recalls.append(_recall([c.id for c in found], [c.id for c in truth]))
    assert float(np.mean(recalls)) >= 0.95, recalls


def test_opportunity_retrieval_recall_at_serving_depth(people: tuple) -> None:
    employees, vectors = people
    rng = np.random.default_rng(8)
    kinds = list(OpportunityKind)
    opportunities: list[Opportunity] = [make_opportunity(
        id=f"o{i}", kind=kinds[i % len(kinds)], level=int(rng.integers(1, 6)),
        location=LOCATIONS[i % 3], role_id=f"role-{i % FAMILIES}-{1 + i % 5}",
        status=OpportunityStatus.OPEN if rng.random() < 0.85 else OpportunityStatus.FILLED)
        for i in range(N)]
    serving = load_params().serving
    options = serving.index.model_dump()
    hnsw = OpportunityIndex(opportunities, vectors, **{**options, "exact_threshold": 1000})
    exact = OpportunityIndex(opportunities, vectors, **{**options, "exact_threshold": N})
    recalls = []
    for q in rng.choice(N, size=40, replace=False):
        me = employees[int(q)]
        wanted = None if q % 2 else [OpportunityKind.OPEN_ROLE, OpportunityKind.PROJECT]
        found = hnsw.retrieve(me, vectors[q], serving.opportunity_depth, kinds=wanted)
        truth = exact.retrieve(me, vectors[q], serving.opportunity_depth, kinds=wanted)
        assert len(found) == len(truth)
        assert all(opportunities[c.row].status is OpportunityStatus.OPEN for c in found)
        recalls.append(_recall([c.id for c in found], [c.id for c in truth]))
    assert float(np.mean(recalls)) >= 0.95, recalls
