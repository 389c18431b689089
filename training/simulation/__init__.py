"""The simulated demo organization, built on real ESCO and O*NET data (docs/simulation.md)."""

from training.simulation.build import SimulationResult, simulate, simulate_organization
from training.simulation.params import SimulationParams, load_params

__all__ = ["SimulationParams", "SimulationResult", "load_params", "simulate",
           "simulate_organization"]
