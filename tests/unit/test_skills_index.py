"""The label-embedding index on seeded synthetic vectors, checked against exact numpy search."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from features.domain import Skill
from inference.skills.catalog import SkillCatalog, TextKind
from inference.skills.index import SkillIndex, StaleIndexError

DIM = 32


def synthetic(n_skills: int = 300, seed: int = 0) -> tuple[SkillCatalog, np.ndarray]:
    rng = np.random.default_rng(seed)
    skills = [Skill(uri=f"urn:s{i}", label=f"skill {i}",
                    alt_labels=tuple(f"alias {i}.{j}" for j in range(i % 3)),
                    description=f"what skill {i} is about")
              for i in range(n_skills)]
    catalog = SkillCatalog(skills=skills)
    vectors = rng.normal(size=(len(catalog.texts), DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return catalog, vectors


def brute_force(catalog: SkillCatalog, vectors: np.ndarray, queries: np.ndarray,
                weights: dict[TextKind, float]) -> np.ndarray:
    sims = queries @ vectors.T
    w = np.array([weights[TextKind(k)] for k in catalog.kinds], dtype=np.float32)
    sims = sims * w
    out = np.full((len(queries), len(catalog)), -np.inf, dtype=np.float32)
    for text_id, owner in enumerate(catalog.owners):
        out[:, owner] = np.maximum(out[:, owner], sims[:, text_id])
    return out


def test_texts_are_grouped_by_skill() -> None:
    catalog, _ = synthetic(20)
    assert np.all(np.diff(catalog.owners) >= 0)
    assert catalog.kinds[catalog.offsets[5]] == TextKind.LABEL
    assert catalog.texts[catalog.offsets[5]] == "skill 5"


def test_dense_scores_equal_brute_force() -> None:
    catalog, vectors = synthetic()
    weights = {TextKind.LABEL: 1.0, TextKind.ALT: 0.9, TextKind.HIDDEN: 0.8,
               TextKind.DESCRIPTION: 0.7}
    index = SkillIndex(catalog, vectors, "synthetic", weights)
    queries = vectors[[0, 10, 50]] + 0.01
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    expected = brute_force(catalog, vectors, queries, weights)
    np.testing.assert_allclose(index.all_skill_scores(queries), expected, rtol=1e-5, atol=1e-5)
    for row, found in enumerate(index.top_skills(queries, k=5, k_texts=len(catalog.texts))):
        best = np.argsort(-expected[row])[:5]
        assert list(found) == best.tolist()
        np.testing.assert_allclose(list(found.values()), expected[row][best], atol=1e-5)


def test_ivf_recall_against_exact() -> None:
    catalog, vectors = synthetic(2000, seed=1)
    index = SkillIndex(catalog, vectors, "synthetic", {k: 1.0 for k in TextKind})
    rng = np.random.default_rng(2)
    queries = vectors[rng.choice(len(vectors), 200, replace=False)]
    queries = queries + rng.normal(scale=0.05, size=queries.shape).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact = [next(iter(found)) for found in index.top_skills(queries, k=1)]
    index.use_ivf(nlist=64, nprobe=16)
    approx = [next(iter(found)) for found in index.top_skills(queries, k=1)]
    recall = np.mean([a == b for a, b in zip(exact, approx, strict=True)])
    assert recall >= 0.95


def test_save_load_roundtrip_and_stale_cache(tmp_path: Path) -> None:
    catalog, vectors = synthetic(50)
    index = SkillIndex(catalog, vectors, "synthetic", {k: 1.0 for k in TextKind})
    index.save(tmp_path / "idx")
    loaded = SkillIndex.load(tmp_path / "idx", catalog)
    np.testing.assert_allclose(loaded.embeddings, vectors, atol=1e-3)  # stored as float16
    assert loaded.encoder_name == "synthetic"
    other, _ = synthetic(51)
    with pytest.raises(StaleIndexError):
        SkillIndex.load(tmp_path / "idx", other)


def test_two_stage_scores_exact_for_candidates_and_below_them_otherwise() -> None:
    catalog, vectors = synthetic(400, seed=3)
    weights = {TextKind.LABEL: 1.0, TextKind.ALT: 0.9, TextKind.HIDDEN: 0.8,
               TextKind.DESCRIPTION: 0.7}
    index = SkillIndex(catalog, vectors, "synthetic", weights)
    queries = vectors[[1, 40, 300, 777]] + 0.02
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    expected = brute_force(catalog, vectors, queries, weights)
    two_stage = index.all_skill_scores(queries, candidates=20)
    for row in range(len(queries)):
        exact = np.isclose(two_stage[row], expected[row], atol=1e-5)
        assert exact.sum() >= 20
        assert two_stage[row][~exact].max() < two_stage[row][exact].min()
        # the query's own skill is a candidate and ranks first, as with exact scoring
        assert np.argmax(two_stage[row]) == np.argmax(expected[row])
    np.testing.assert_allclose(index.all_skill_scores(queries, candidates=0), expected,
                               rtol=1e-5, atol=1e-5)


def test_two_stage_top_skills_are_the_dense_two_stage_ranking() -> None:
    catalog, vectors = synthetic()
    weights = {TextKind.LABEL: 1.0, TextKind.ALT: 0.9, TextKind.HIDDEN: 0.8,
               TextKind.DESCRIPTION: 0.7}
    index = SkillIndex(catalog, vectors, "synthetic", weights)
    queries = vectors[[3, 40, 41, 200]] + 0.05
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact = brute_force(catalog, vectors, queries, weights)
    # with every skill a candidate, the two-stage search is exact
    for row, found in enumerate(index.top_skills_two_stage(queries, k=5,
                                                           candidates=len(catalog))):
        best = np.argsort(-exact[row])[:5]
        assert list(found) == best.tolist()
        assert np.allclose(list(found.values()), exact[row, best], atol=1e-5)
    # with fewer candidates it returns what the benchmark's two-stage dense ranking ranks first
    dense = index.all_skill_scores(queries, candidates=16)
    for row, found in enumerate(index.top_skills_two_stage(queries, k=5, candidates=16)):
        assert list(found) == np.argsort(-dense[row], kind="stable")[:5].tolist()
