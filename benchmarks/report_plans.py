"""Development-plan statistics toward each employee's most reachable next role, as served.

For a seeded sample of employees, the serving ``Recommender`` (bundle default
``models/bundle``) gives their top-10 open roles; a plan is built toward each role with
``inference.ranking.development.development_plan`` exactly as ``GET
/v1/employees/{id}/development-plan`` builds it, and the role with the highest readiness (fewest
weeks on ties) is the employee's most reachable next role. Reports the median and quartiles of
weeks to readiness at the shipped weekly hours, the share of plans with a complete estimate, and
the mean counts of requirements and gaps.

    PYTHONPATH=. .venv/bin/python benchmarks/report_plans.py [--employees 200]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.report_lists_truth import sample
from features.domain import OpportunityKind
from features.settings import get_settings
from features.store import Store
from inference.artifacts.bundle import load_bundle
from inference.ranking.development import DevelopmentPlan, development_plan
from inference.ranking.recommender import Recommender


def plan_for(rec: Recommender, employee_id: str, role_id: str) -> DevelopmentPlan:
    """The plan the API serves (``api/routes/development.py``)."""
    return development_plan(
        employee_id=employee_id, role=rec.roles[role_id],
        requirements=rec.requirements_for_role(role_id),
        entries=rec.skill_entries(employee_id), label=rec.label,
        courses_by_skill=rec.courses_by_skill, opportunities=rec.open_opportunities(),
        model_version=rec.version, as_of=rec.as_of)


def most_reachable_plan(rec: Recommender, employee_id: str) -> DevelopmentPlan | None:
    """The plan toward the employee's most reachable open role among their top 10 as served:
    the highest readiness, the fewest weeks on ties; None when no open role is listed."""
    items = rec.recommend(employee_id, kinds=[OpportunityKind.OPEN_ROLE], limit=10).items
    plans = [plan_for(rec, employee_id, item.role_id) for item in items
             if item.role_id and item.role_id in rec.roles]
    if not plans:
        return None
    return min(plans, key=lambda p: (-p.readiness, p.weeks_to_readiness or float("inf")))


def _rounded(value: float | np.floating[Any], digits: int) -> float:
    return round(float(value), digits)


def plan_statistics(plans: Sequence[DevelopmentPlan]) -> dict[str, Any]:
    """The report's figures over the plans (one per employee): weeks to readiness (median and
    quartiles, over the plans with an estimate), the share with a complete estimate, the mean
    requirements, gaps, readiness and share of requirements met (one figure by construction)."""
    weeks = np.array([p.weeks_to_readiness for p in plans if p.weeks_to_readiness is not None])
    counted = [p for p in plans if p.requirements]

    def quantile(q: float) -> float | None:
        return _rounded(np.percentile(weeks, q), 1) if len(weeks) else None

    def mean(values: Sequence[float], digits: int) -> float | None:
        return _rounded(np.mean(values), digits) if len(values) else None

    return {
        "employees_with_a_plan": len(plans),
        "weekly_learning_hours": plans[0].weekly_learning_hours if plans else None,
        "weeks_to_readiness": {"median": quantile(50), "p25": quantile(25), "p75": quantile(75)},
        "share_complete_estimate": mean([float(p.estimate_complete) for p in plans], 3),
        "mean_requirements": mean([float(p.requirements) for p in plans], 1),
        "mean_gaps": mean([float(len(p.gaps)) for p in plans], 1),
        "mean_readiness": mean([p.readiness for p in counted], 3),
        "mean_share_met": mean([p.met / p.requirements for p in counted], 3),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=None)
    parser.add_argument("--employees", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    settings = get_settings()
    rec = Recommender(load_bundle(args.bundle or settings.artifact_dir / "bundle"),
                      Store(settings.database_url))
    plans = [plan for emp_id in sample(rec.employees, args.employees, args.seed)
             if (plan := most_reachable_plan(rec, emp_id)) is not None]
    print(json.dumps({"model_version": rec.version, **plan_statistics(plans)}, indent=2))


if __name__ == "__main__":
    main()
