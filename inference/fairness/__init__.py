"""Fairness measurement and mitigation: pure functions shared by the audit, the gate and serving.

Modules:
- `groups`: protected attributes -> group labels per dimension (sex, race/ethnicity, both);
- `metrics`: selection / scoring rates and impact ratios for candidate lists (checked
  against fairlearn), equal-opportunity measures for employee-facing lists;
- `ranking_metrics`: exposure, skew@k, NDKL, NDCG;
- `rerank`: prefix-floor constrained re-ranking at serving time;
- `models`: typed (pydantic) result models, JSON-serializable;
- `gate`: thresholds -> pass/fail with violations in plain words;
- `export`: figures -> MLflow-compatible ``{name: float}``;
- `significance`: person-level permutation p-values of low impact ratios (family-wise).

Importing the package is cheap: names are loaded on first use (PEP 562), so serving code that
only needs `rerank` does not pay for pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inference.fairness.export import mlflow_metrics
    from inference.fairness.gate import GateResult, GateThresholds, evaluate_gate
    from inference.fairness.groups import (
        INTERSECTION,
        RACE,
        SEX,
        UNKNOWN,
        Grouping,
        protected_groupings,
    )
    from inference.fairness.metrics import (
        EmployeeRecommendations,
        RankedList,
        RecommendedOpportunity,
        audit_candidate_lists,
        audit_employee_lists,
    )
    from inference.fairness.models import FairnessAudit
    from inference.fairness.ranking_metrics import (
        audit_rankings,
        exposure_by_group,
        ndcg_at_k,
        ndcg_change,
        ndkl,
        skew_at_k,
    )
    from inference.fairness.rerank import pool_shares, rerank_with_floors

_EXPORTS = {
    "EmployeeRecommendations": "inference.fairness.metrics",
    "FairnessAudit": "inference.fairness.models",
    "GateResult": "inference.fairness.gate",
    "GateThresholds": "inference.fairness.gate",
    "Grouping": "inference.fairness.groups",
    "INTERSECTION": "inference.fairness.groups",
    "RACE": "inference.fairness.groups",
    "RankedList": "inference.fairness.metrics",
    "RecommendedOpportunity": "inference.fairness.metrics",
    "SEX": "inference.fairness.groups",
    "UNKNOWN": "inference.fairness.groups",
    "audit_candidate_lists": "inference.fairness.metrics",
    "audit_employee_lists": "inference.fairness.metrics",
    "audit_rankings": "inference.fairness.ranking_metrics",
    "evaluate_gate": "inference.fairness.gate",
    "exposure_by_group": "inference.fairness.ranking_metrics",
    "mlflow_metrics": "inference.fairness.export",
    "ndcg_at_k": "inference.fairness.ranking_metrics",
    "ndcg_change": "inference.fairness.ranking_metrics",
    "ndkl": "inference.fairness.ranking_metrics",
    "pool_shares": "inference.fairness.rerank",
    "protected_groupings": "inference.fairness.groups",
    "rerank_with_floors": "inference.fairness.rerank",
    "skew_at_k": "inference.fairness.ranking_metrics",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "INTERSECTION",
    "RACE",
    "SEX",
    "UNKNOWN",
    "EmployeeRecommendations",
    "FairnessAudit",
    "GateResult",
    "GateThresholds",
    "Grouping",
    "RankedList",
    "RecommendedOpportunity",
    "audit_candidate_lists",
    "audit_employee_lists",
    "audit_rankings",
    "evaluate_gate",
    "exposure_by_group",
    "mlflow_metrics",
    "ndcg_at_k",
    "ndcg_change",
    "ndkl",
    "pool_shares",
    "protected_groupings",
    "rerank_with_floors",
    "skew_at_k",
]
