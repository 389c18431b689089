"""The occupation graph: how related every O*NET occupation is to every other, precomputed.

Built by ``waypoint paths build`` (``training/occupations/path_model.py``) from the blended
reference-data signals and saved as ``graph.npz`` + ``graph.json`` in one folder; serving only
loads it. Besides the blended score it keeps what a step's reasons need: each signal's
contribution for the strongest neighbours, and the O*NET skill and knowledge ratings
(importance and level) behind "shared skills" and "the gap".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from features.errors import WaypointError

GRAPH_NPZ = "graph.npz"
GRAPH_JSON = "graph.json"
SIGNAL_REASONS = {
    "tasks": "similar task statements",
    "skills": "similar O*NET skill ratings",
    "knowledge": "similar O*NET knowledge ratings",
    "work_styles": "similar work styles",
    "technology": "shared technology",
    "job_zone": "similar preparation (job zone)",
    "esco_skills": "shared ESCO essential skills",
    "career_changers": "listed by O*NET's Career Changers Matrix",
    "career_changers_reverse": "the reverse move is in the Career Changers Matrix",
    "embedding": "similar description",
    "titles": "overlapping job titles",
    "soc": "same SOC occupation group",
}


class GraphUnavailable(WaypointError):
    """No occupation graph at the configured folder (built by ``dvc repro promote``)."""


@dataclass(frozen=True)
class Gap:
    element: str
    source_level: float
    target_level: float


@dataclass
class OccupationGraph:
    """Blended relatedness over ``codes`` (row: from, column: to) and the data behind reasons."""

    codes: list[str]
    titles: list[str]
    job_zones: np.ndarray
    """int8, 0 where O*NET gives none."""
    logits: np.ndarray
    """float32 N x N, the blended model's score; the diagonal is meaningless."""
    signals: list[str]
    neighbours: np.ndarray
    """int32 N x K: the K best targets of each source, best first."""
    contributions: np.ndarray
    """float16 N x K x F: weight x standardized signal for those neighbours."""
    elements: list[str]
    importance: np.ndarray
    """float32 N x E O*NET importance (1-5) of skills and knowledge; NaN when unrated."""
    level: np.ndarray
    """float32 N x E O*NET level (0-7)."""
    meta: dict[str, object] = field(default_factory=dict)
    _index: dict[str, int] = field(default_factory=dict, repr=False)
    _relatedness: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._index = {c: i for i, c in enumerate(self.codes)}
        logits = self.logits.astype(np.float64)
        np.fill_diagonal(logits, -np.inf)
        prob = 1.0 / (1.0 + np.exp(-logits))
        best = prob.max(axis=1, keepdims=True)
        rel = prob / np.where(best > 0, best, 1.0)
        np.fill_diagonal(rel, 1.0)
        self._relatedness = rel.astype(np.float32)

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "unversioned"))

    def __contains__(self, code: object) -> bool:
        return code in self._index

    def relatedness(self, source: str, target: str) -> float:
        """In [0, 1]: the blended probability that ``target`` is a related occupation of
        ``source``, relative to the source's best target (1.0 for the occupation itself);
        0.0 when either code is not in the graph."""
        i, j = self._index.get(source), self._index.get(target)
        if i is None or j is None or self._relatedness is None:
            return 0.0
        return float(self._relatedness[i, j])

    def ranked_targets(self, source: str, limit: int) -> list[tuple[str, float]]:
        """The ``limit`` most related occupations of ``source`` (itself excluded), best first."""
        i = self._index.get(source)
        if i is None or self._relatedness is None:
            return []
        row = self._relatedness[i].copy()
        row[i] = -1.0
        order = np.argsort(-row, kind="stable")[:limit]
        return [(self.codes[j], float(row[j])) for j in order]

    def top_signals(self, source: str, target: str, n: int = 2) -> list[str]:
        """The signals that most raised ``target`` for ``source`` (when it is among the stored
        neighbours), strongest first."""
        i, j = self._index.get(source), self._index.get(target)
        if i is None or j is None:
            return []
        where = np.flatnonzero(self.neighbours[i] == j)
        if not len(where):
            return []
        contrib = self.contributions[i, where[0]].astype(np.float32)
        order = np.argsort(-contrib, kind="stable")
        return [self.signals[f] for f in order[:n] if contrib[f] > 0]

    def shared_and_gaps(self, source: str, target: str, n: int = 3) -> tuple[list[str], list[Gap]]:
        """O*NET skills / knowledge both occupations rate important (importance >= 3.5, by the
        lower of the two), and those the target needs at a higher level (target importance
        >= 3, biggest level increase first)."""
        i, j = self._index.get(source), self._index.get(target)
        if i is None or j is None:
            return [], []
        imp_s, imp_t = self.importance[i], self.importance[j]
        both = np.fmin(imp_s, imp_t)
        shared_idx = [e for e in np.argsort(-np.nan_to_num(both, nan=-1.0), kind="stable")
                      if both[e] >= 3.5][:n]
        rise = np.nan_to_num(self.level[j] - self.level[i], nan=0.0)
        rise[~(np.nan_to_num(imp_t) >= 3.0)] = 0.0
        gap_idx = [e for e in np.argsort(-rise, kind="stable") if rise[e] >= 0.5][:n]
        return ([self.elements[e] for e in shared_idx],
                [Gap(self.elements[e], round(float(self.level[i, e]), 2),
                     round(float(self.level[j, e]), 2)) for e in gap_idx])

    def job_zone(self, code: str | None) -> int | None:
        i = self._index.get(code or "")
        if i is None or not self.job_zones[i]:
            return None
        return int(self.job_zones[i])

    # ------------------------------------------------------------------ files

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(folder / GRAPH_NPZ, job_zones=self.job_zones, logits=self.logits,
                            neighbours=self.neighbours, contributions=self.contributions,
                            importance=self.importance, level=self.level)
        (folder / GRAPH_JSON).write_text(json.dumps(
            {"codes": self.codes, "titles": self.titles, "signals": self.signals,
             "elements": self.elements, "meta": self.meta}, indent=1) + "\n")


def load_graph(folder: Path) -> OccupationGraph:
    """Load a graph saved by ``OccupationGraph.save``; ``GraphUnavailable`` when absent."""
    if not (folder / GRAPH_NPZ).is_file() or not (folder / GRAPH_JSON).is_file():
        raise GraphUnavailable(f"no occupation graph at {folder}: run `dvc repro promote` "
                               "(stage paths-model, `waypoint paths build`)")
    header = json.loads((folder / GRAPH_JSON).read_text())
    with np.load(folder / GRAPH_NPZ) as arrays:
        return OccupationGraph(
            codes=list(header["codes"]), titles=list(header["titles"]),
            job_zones=arrays["job_zones"], logits=arrays["logits"],
            signals=list(header["signals"]), neighbours=arrays["neighbours"],
            contributions=arrays["contributions"], elements=list(header["elements"]),
            importance=arrays["importance"], level=arrays["level"],
            meta=dict(header.get("meta", {})))
