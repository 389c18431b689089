"""Employee-facing lists for the fairness audit: what a sample of employees is served.

The lists come from the serving pipeline itself (`inference.ranking.recommender.Recommender`
over the audited bundle and the store: `Recommender.scored_opportunities`, the same retrieval depth,
filters, owned / mentored exclusions, rejected skills, features and order as
``GET /v1/employees/{id}/recommendations``), for a seeded sample of employees:

1. the top ``top_k`` of the served slate are what the employee sees;
2. **fit** (the stratifier "employees of equal fit") = mean cosine between the employee's
   profile vector and the 10 closest open opportunities *regardless of level*, so fit is not
   shaped by the level a biased history left someone at; **level** = the opportunity's level;
   **quality** = the percentile of the model score among every scored (employee, opportunity)
   pair of the audit (LambdaRank scores are per-query log-odds, not probabilities; a percentile
   in (0, 1] makes the "quality impact ratio" a ratio of comparable positive numbers).

A model other than the bundle's (the arms of `waypoint audit --compare`) is audited by passing
its ``score``; ``extra`` appends per-employee HR-field columns first (the naive ranker).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from features.domain import Opportunity
from inference.fairness.metrics import EmployeeRecommendations, RecommendedOpportunity
from inference.ranking.recommender import Recommender
from inference.retrieval.indexes import normalize

Scorer = Callable[[np.ndarray], np.ndarray]


def employee_recommendations(
    recommender: Recommender,
    *,
    score: Scorer | None = None,
    extra: Mapping[str, Sequence[float]] | None = None,
    sample: int = 0,
    seed: int = 0,
    top_k: int = 10,
    fit_top: int = 10,
) -> list[EmployeeRecommendations]:
    """The top ``top_k`` open opportunities serving shows a sample of employees.

    ``sample`` <= 0 (or >= the headcount) audits every employee hired before the serving date."""
    rec = recommender
    if not rec.opportunities:
        return []
    unit = normalize(rec.catalog.vectors)
    people = sorted((e for e in rec.employees.values() if e.hired_on < rec.as_of),
                    key=lambda e: e.id)
    chosen = (people if sample <= 0 or sample >= len(people)
              else random.Random(seed).sample(people, sample))
    chosen.sort(key=lambda e: e.id)

    raw: list[tuple[str, float, list[tuple[Opportunity, float]]]] = []
    for emp in chosen:
        vec = rec.context(emp).vector
        fit = 0.0 if vec is None else float(np.mean(np.sort(unit @ normalize(vec)[0])[::-1]
                                                    [:fit_top]))
        scorer = score or rec.ranker.score
        if extra is not None:
            values = np.asarray(extra[emp.id], dtype=np.float64)

            def scorer(x: np.ndarray, base: Scorer = scorer,
                       values: np.ndarray = values) -> np.ndarray:
                return base(np.hstack([x, np.tile(values, (len(x), 1))]))

        slate = rec.scored_opportunities(emp.id, score=scorer).top(top_k)
        raw.append((emp.id, fit, [(rec.opportunities[r], float(s))
                                  for r, s in zip(slate.rows, slate.scores.tolist(),
                                                  strict=True)]))
    return with_score_percentiles(raw)


def with_score_percentiles(
    raw: Sequence[tuple[str, float, Sequence[tuple[Opportunity, float]]]],
) -> list[EmployeeRecommendations]:
    """Replace each score by its percentile among all scores (ties share the upper rank)."""
    pooled = np.sort(np.array([s for _, _, recs in raw for _, s in recs], dtype=np.float64))
    n = max(len(pooled), 1)

    def pct(s: float) -> float:
        return float(np.searchsorted(pooled, s, side="right")) / n

    return [EmployeeRecommendations(
        employee_id=emp_id, fit=fit,
        recommendations=tuple(RecommendedOpportunity(o.id, float(o.level), pct(s))
                              for o, s in recs))
        for emp_id, fit, recs in raw]
