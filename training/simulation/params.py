"""Parameters of the simulated organization: ``params.yaml`` section ``simulate``, CLI overrides."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from features.domain import Sex


class SimulationParams(BaseModel):
    """Every knob of the simulator. Defaults match ``params.yaml``; see docs/simulation.md."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = 7
    employees: int = Field(default=5000, ge=50)
    years_of_history: int = Field(default=5, ge=1, le=20)
    as_of: date = date(2026, 11, 1)

    # historical bias (docs/simulation.md, "Historical bias")
    bias_group: Sex = Sex.FEMALE
    bias_strength: float = Field(default=0.35, ge=0.0)
    proxy_strength: float = Field(default=0.35, ge=0.0)
    proxy_rate_group: float = Field(default=0.30, ge=0.0, le=1.0)
    proxy_rate_other: float = Field(default=0.06, ge=0.0, le=1.0)
    sourcing_bias_strength: float = Field(default=0.0, ge=0.0)
    """Log-odds penalty on a group member being put forward for an opening (sourcing bias)."""
    sourcing_proxy_strength: float = Field(default=0.0, ge=0.0)
    """Log-odds penalty on part-time staff being put forward for an opening."""

    # selection and outcomes
    fit_strength: float = Field(default=12.0, ge=0.0)
    """Log-odds of being chosen per unit of skill fit (fit is in [0, 1]; applicants' fit has a
    standard deviation of about 0.08, so one SD of fit is worth about one unit of log-odds)."""
    external_fit: float = Field(default=0.08, ge=0.0, le=1.0)
    """The fit an external candidate is worth: the outside option in every selection."""
    outcome_fit_strength: float = Field(default=12.0, ge=0.0)
    """How strongly the one-year outcome of a move depends on fit."""
    outcome_fit_center: float = Field(default=0.12, ge=0.0, le=1.0)
    """The fit at which a move's expected outcome is average (about the movers' median fit)."""

    # volumes
    openings_per_employee_year: float = Field(default=0.09, gt=0.0)
    applicants_mean: float = Field(default=5.0, ge=1.0)
    open_opportunities_per_employee: float = Field(default=0.06, gt=0.0)
    discoverable_rate: float = Field(default=0.70, ge=0.0, le=1.0)
    recruiter_share: float = Field(default=0.006, ge=0.0, le=0.1)

    # crosswalk
    crosswalk_min_score: float = Field(default=0.35, ge=0.0)

    def version(self) -> str:
        """A short hash of every parameter (seed included): the organization's dataset version."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def load_params(path: Path | None, **overrides: Any) -> SimulationParams:
    """Read ``simulate:`` from ``path`` (if given and present), then apply non-None overrides."""
    values: dict[str, Any] = {}
    if path is not None and path.is_file():
        document = yaml.safe_load(path.read_text()) or {}
        values.update(document.get("simulate") or {})
    values.update({key: value for key, value in overrides.items() if value is not None})
    return SimulationParams.model_validate(values)
