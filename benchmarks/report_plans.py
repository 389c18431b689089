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
from pathlib import Path

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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=None)
    parser.add_argument("--employees", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    settings = get_settings()
    rec = Recommender(load_bundle(args.bundle or settings.artifact_dir / "bundle"),
                      Store(settings.database_url))
    best: list[DevelopmentPlan] = []
    for emp_id in sample(rec.employees, args.employees, args.seed):
        items = rec.recommend(emp_id, kinds=[OpportunityKind.OPEN_ROLE], limit=10).items
        plans = [plan_for(rec, emp_id, item.role_id) for item in items
                 if item.role_id and item.role_id in rec.roles]
        if plans:
            best.append(min(plans, key=lambda p: (-p.readiness,
                                                  p.weeks_to_readiness or float("inf"))))
    weeks = np.array([p.weeks_to_readiness for p in best if p.weeks_to_readiness is not None])
    print(json.dumps({
        "model_version": rec.version, "employees_with_a_plan": len(best),
        "weekly_learning_hours": best[0].weekly_learning_hours if best else None,
        "weeks_to_readiness": {
            "median": round(float(np.median(weeks)), 1) if len(weeks) else None,
            "p25": round(float(np.percentile(weeks, 25)), 1) if len(weeks) else None,
            "p75": round(float(np.percentile(weeks, 75)), 1) if len(weeks) else None},
        "share_complete_estimate": round(float(np.mean([p.estimate_complete for p in best])), 3)
        if best else None,
        "mean_requirements": round(float(np.mean([p.requirements for p in best])), 1)
        if best else None,
        "mean_gaps": round(float(np.mean([len(p.gaps) for p in best])), 1) if best else None,
        "mean_readiness": round(float(np.mean([p.readiness for p in best])), 3) if best else None,
        "mean_share_met": round(float(np.mean([p.met / p.requirements for p in best
                                                if p.requirements])), 3) if best else None,
    }, indent=2))


if __name__ == "__main__":
    main()
