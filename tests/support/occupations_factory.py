"""A small hand-made occupation graph and job-title index for serving tests (the real ones need
the reference data and are built by ``waypoint paths build`` / ``waypoint titles build``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from pathlib import Path

import numpy as np

from inference.paths.graph import OccupationGraph
from inference.paths.service import graph_folder
from inference.titles import MatchSettings, Occupation, TitleMatcher

ELEMENTS = ["Mathematics", "Programming", "Speaking"]


def small_graph(codes: Sequence[str], logits: Mapping[tuple[str, str], float],
                zones: Mapping[str, int] | None = None) -> OccupationGraph:
    """Logits for the given (source, target) pairs, -6 elsewhere; Programming rated highly by
    every code, Mathematics at a level rising with the code's position (a gap upward)."""
    codes = list(codes)
    n = len(codes)
    index = {c: i for i, c in enumerate(codes)}
    matrix = np.full((n, n), -6.0, dtype=np.float32)
    for (a, b), value in logits.items():
        matrix[index[a], index[b]] = value
    ranked = matrix.astype(np.float64).copy()
    np.fill_diagonal(ranked, -np.inf)
    k = max(1, n - 1)
    neighbours = np.argsort(-ranked, axis=1, kind="stable")[:, :k].astype(np.int32)
    contributions = np.ones((n, k, 1), dtype=np.float16)
    importance = np.tile(np.array([3.0, 4.5, 2.0], dtype=np.float32), (n, 1))
    level = np.array([[1.0 + i, 5.0, 2.0] for i in range(n)], dtype=np.float32)
    return OccupationGraph(
        codes=codes, titles=[f"Occupation {c}" for c in codes],
        job_zones=np.array([(zones or {}).get(c, 3) for c in codes], dtype=np.int8),
        logits=matrix, signals=["tasks"], neighbours=neighbours, contributions=contributions,
        elements=list(ELEMENTS), importance=importance, level=level,
        meta={"version": "paths-test"})


def write_small_graph(artifact_dir: Path, codes: Sequence[str]) -> OccupationGraph:
    """Every code related to the next one in sorted order (logit 2), the first to all (1)."""
    ordered = sorted(set(codes))
    pairs = {(a, b): 2.0 for a, b in pairwise(ordered)}
    pairs.update({(ordered[0], c): 1.0 for c in ordered[2:]})
    graph = small_graph(ordered, pairs)
    graph.save(graph_folder(artifact_dir))
    return graph


def write_small_title_index(artifact_dir: Path) -> TitleMatcher:
    """Three ESCO-like occupations and their labels, saved where serving looks."""
    occupations = [Occupation("esco:software-developer", "software developer", "15-1252.00"),
                   Occupation("esco:nurse", "general nurse", "29-1141.00"),
                   Occupation("esco:accountant", "accountant", None)]
    labels = [("software developer", 0), ("programmer", 0), ("general nurse", 1),
              ("registered nurse", 1), ("accountant", 2)]
    matcher = TitleMatcher.build(occupations, labels, [], MatchSettings())
    matcher.save(artifact_dir / "occupations" / "titles")
    return matcher
