"""Indexes shared through a memory-mapped file: built once per content key, loaded read-only,
searching exactly like the in-process index they were saved from."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from inference.retrieval.indexes import VectorIndex
from inference.retrieval.shared import content_key, rejected_digest, shared_vector_index

VECTORS = np.random.default_rng(4).standard_normal((3000, 32)).astype(np.float32)


@pytest.mark.parametrize("threshold", [10_000, 100])
def test_saved_index_searches_like_the_built_one(tmp_path: Path, threshold: int) -> None:
    built = VectorIndex(VECTORS, exact_threshold=threshold)
    built.save(tmp_path / "i.faiss")
    loaded = VectorIndex.load(tmp_path / "i.faiss")
    assert loaded.kind == built.kind == ("exact" if threshold > 3000 else "hnsw")
    queries = VECTORS[:20] + 0.1
    assert np.array_equal(loaded.search(queries, 50)[1], built.search(queries, 50)[1])
    assert np.array_equal(loaded.exact_search(queries, 50)[1], built.exact_search(queries, 50)[1])
    allowed = np.zeros(len(VECTORS), dtype=bool)
    allowed[::9] = True
    assert np.array_equal(loaded.exact_filtered(queries[0], 30, allowed)[1],
                          built.exact_filtered(queries[0], 30, allowed)[1])
    assert not loaded.vectors.flags.writeable
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_built_once_per_key_then_mapped(tmp_path: Path) -> None:
    calls: list[int] = []

    def vectors() -> np.ndarray:
        calls.append(1)
        return VECTORS

    first = shared_vector_index(tmp_path, "k1", vectors, exact_threshold=100)
    second = shared_vector_index(tmp_path, "k1", vectors, exact_threshold=100)
    assert len(calls) == 1 and first.kind == second.kind == "hnsw"
    assert np.array_equal(first.search(VECTORS[:5], 10)[1], second.search(VECTORS[:5], 10)[1])
    shared_vector_index(tmp_path, "k2", vectors, exact_threshold=100)
    assert len(calls) == 2
    assert sorted(p.name for p in tmp_path.glob("*.faiss")) == ["k1.faiss", "k2.faiss"]


def test_unwritable_folder_keeps_the_index_in_process(tmp_path: Path) -> None:
    if os.geteuid() == 0:  # root writes anywhere: make the folder a file instead
        blocked = tmp_path / "blocked"
        blocked.write_text("not a folder")
    else:
        blocked = tmp_path / "ro"
        blocked.mkdir()
        blocked.chmod(0o500)
    index = shared_vector_index(blocked, "k", lambda: VECTORS, exact_threshold=10_000)
    assert index.n == len(VECTORS)
    assert index.search(VECTORS[:1], 1)[1][0, 0] == 0


def test_keys_follow_content() -> None:
    base = content_key("employees", 256, {"m": 32}, "abc", ids=["a", "b"])
    assert base == content_key("employees", 256, {"m": 32}, "abc", ids=["a", "b"])
    assert base != content_key("employees", 256, {"m": 32}, "abc", ids=["b", "a"])
    assert base != content_key("employees", 256, {"m": 16}, "abc", ids=["a", "b"])
    assert rejected_digest({"e1": {"s1"}}) != rejected_digest({"e1": {"s2"}})
    assert rejected_digest({"e1": set()}) == rejected_digest({})


def _build_counting(folder: str, counter: str) -> int:
    def vectors() -> np.ndarray:
        with open(counter, "a") as handle:
            handle.write("built\n")
        return VECTORS

    return shared_vector_index(Path(folder), "same", vectors, exact_threshold=100).n


def test_two_processes_build_one_file(tmp_path: Path) -> None:
    import multiprocessing

    counter = tmp_path / "builds.txt"
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        sizes = pool.starmap(_build_counting, [(str(tmp_path / "arrays"), str(counter))] * 2)
    assert sizes == [len(VECTORS)] * 2
    assert counter.read_text().splitlines() == ["built"]  # the second waited and mapped it
