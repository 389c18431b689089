"""The one way career paths are served: ``PathService`` over a store and the built occupation
graph. ``waypoint paths`` and ``GET /v1/roles/{id}/paths`` both call ``PathService.paths``, so
the same role gets the same steps from either.

The lattice is built from the store's roles and moves and the graph folder (under the artifact
directory, ``occupations/paths``), and rebuilt when the store's role or move count changes.
"""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import func, inspect, select

from features import tables as t
from features.errors import WaypointError
from features.store import Store
from inference.paths.graph import OccupationGraph, load_graph
from inference.paths.lattice import CareerLattice, PathWeights
from inference.paths.models import CareerPathList

GRAPH_FOLDER = Path("occupations") / "paths"


def graph_folder(artifact_dir: Path) -> Path:
    return artifact_dir / GRAPH_FOLDER


def lattice_from_store(store: Store, graph: OccupationGraph | None,
                       weights: PathWeights | None = None) -> CareerLattice:
    """Roles and moves from the store, relatedness from the graph (the Career Changers
    Matrix in the store when ``graph`` is None)."""
    if not inspect(store.engine).has_table(t.roles.name):
        raise WaypointError(f"no roles in the store at {store.url}: run `waypoint ingest` and "
                            "`waypoint simulate` first")
    changes = store.career_changes() if graph is None else []
    return CareerLattice(store.roles(), store.moves(), changes, weights=weights, graph=graph)


def _fingerprint(store: Store) -> tuple[int, int]:
    with store.engine.connect() as conn:
        roles = conn.execute(select(func.count()).select_from(t.roles)).scalar_one()
        moves = conn.execute(select(func.count()).select_from(t.moves)).scalar_one()
    return int(roles), int(moves)


class PathService:
    """Career paths for one store and one artifact directory; thread-safe."""

    def __init__(self, store: Store, artifact_dir: Path,
                 weights: PathWeights | None = None) -> None:
        self.store = store
        self.folder = graph_folder(artifact_dir)
        self.weights = weights or PathWeights()
        self._lock = threading.Lock()
        self._graph: OccupationGraph | None = None
        self._lattice: CareerLattice | None = None
        self._key: tuple[int, int] | None = None

    def lattice(self) -> CareerLattice:
        """The current lattice; raises ``GraphUnavailable`` when the graph was not built."""
        key = _fingerprint(self.store)
        with self._lock:
            if self._graph is None:
                self._graph = load_graph(self.folder)
            if self._lattice is None or key != self._key:
                self._lattice = lattice_from_store(self.store, self._graph, self.weights)
                self._key = key
            return self._lattice

    def paths(self, role_id: str, limit: int = 10) -> CareerPathList:
        """Next roles from ``role_id``; ``KeyError`` for an unknown role."""
        return self.lattice().paths(role_id, limit)
