"""Parameters for tests: the project's own params.yaml, with a test's overrides validated.

Tests never rely on code defaults (there are none): they start from what ships and change only
what the test is about, so a test cannot pass on settings the product does not use.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from features.params import (
    GateThresholds,
    Params,
    ProfileParams,
    RankerParams,
    RerankPolicy,
    SimulationParams,
    load_params,
)
from inference.artifacts.bundle import ServingPolicy
from training.fairness.audit import AuditSettings


def repo_params() -> Params:
    return load_params()


def _merged(model: Any, overrides: dict[str, Any]) -> dict[str, Any]:
    values = model.model_dump()
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(values.get(key), dict):
            values[key] = {**values[key], **value}
        else:
            values[key] = value
    return values


def rerank_policy(**overrides: Any) -> RerankPolicy:
    """The shipped re-ranking policy with ``overrides`` (``offsets`` merges key by key)."""
    return RerankPolicy.model_validate(_merged(repo_params().fairness.rerank, overrides))


def gate_thresholds(**overrides: Any) -> GateThresholds:
    return GateThresholds.model_validate(_merged(repo_params().fairness.gate, overrides))


def audit_settings(rerank: dict[str, Any] | None = None, gate: dict[str, Any] | None = None,
                   fitted_offsets: dict[str, float] | None = None,
                   **overrides: Any) -> AuditSettings:
    """The shipped ``fairness:`` section with overrides; ``rerank`` / ``gate`` merge."""
    fairness = repo_params().fairness
    values = _merged(fairness, overrides)
    values["rerank"] = rerank_policy(**(rerank or {})).model_dump()
    values["gate"] = gate_thresholds(**(gate or {})).model_dump()
    return AuditSettings.model_validate({**values, "fitted_offsets": dict(fitted_offsets or {})})


def ranker_params(**overrides: Any) -> RankerParams:
    return RankerParams.model_validate(_merged(repo_params().ranker, overrides))


def simulation_params(**overrides: Any) -> SimulationParams:
    return SimulationParams.model_validate(_merged(repo_params().simulate, overrides))


def profile_params(**overrides: Any) -> ProfileParams:
    return ProfileParams.model_validate(_merged(repo_params().profiles, overrides))


def serving_policy(profiles_as_of: date, serving: dict[str, Any] | None = None,
                   **rerank: Any) -> ServingPolicy:
    """The shipped serving policy for a bundle whose profiles are dated ``profiles_as_of``
    (``serving``: overrides of the shipped ``serving:`` keys)."""
    params = repo_params()
    return ServingPolicy(serving=params.serving.model_copy(update=serving or {}),
                         rerank=rerank_policy(**rerank),
                         small_group_threshold=params.fairness.small_group_threshold,
                         profiles_as_of=profiles_as_of, profiles_engine="test")
