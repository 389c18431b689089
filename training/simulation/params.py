"""Parameters of the simulated organization: ``params.yaml``'s ``simulate:`` and CLI overrides.

The model itself (`SimulationParams`) is part of the one params schema in `features.params`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from features.params import SimulationParams, with_overrides
from features.params import load_params as load_all_params

__all__ = ["SimulationParams", "load_params"]


def load_params(path: Path | None, **overrides: Any) -> SimulationParams:
    """``simulate:`` of ``path`` (default: the project's params.yaml), then the non-None
    overrides (validated again)."""
    result: SimulationParams = with_overrides(load_all_params(path).simulate, **overrides)
    return result
