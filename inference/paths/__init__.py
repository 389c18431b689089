"""Career paths: the occupation graph (reference relatedness, precomputed), the lattice over an
organization's roles, and the one place that builds it from the store (``paths_from_store``),
used by both ``waypoint paths`` and ``GET /v1/roles/{id}/paths``."""

from inference.paths.graph import GraphUnavailable, OccupationGraph, load_graph
from inference.paths.lattice import CareerLattice, PathWeights, career_changer_score
from inference.paths.models import CareerPathList, CareerPathStep
from inference.paths.service import PathService, lattice_from_store

__all__ = ["CareerLattice", "CareerPathList", "CareerPathStep", "GraphUnavailable",
           "OccupationGraph", "PathService", "PathWeights", "career_changer_score",
           "lattice_from_store", "load_graph"]
