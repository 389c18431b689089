"""Employee-facing lists for the fairness audit: what a sample of employees would be shown.

Design choice (docs/fairness.md): the lists are built the way serving builds them, not by
transposing the ranking dataset (a historical candidate appears in only a few queries, chosen by
who applied, so transposed lists are tiny and shaped by the history under audit). For a seeded
sample of employees, as of the audit date:

1. retrieval: the open opportunities in the employee's level window (not their own role),
   nearest to their skill-profile vector (`OpportunityIndex.retrieve`, depth 50);
2. the same pure feature functions as training (`features.ranking.feature_matrix`) and the
   ranker's scores; the top ``employee_top_k`` by score are what the employee sees;
3. **fit** (the stratifier "employees of equal fit") = mean cosine between the employee's
   profile vector and the 10 closest open opportunities *regardless of level*, so fit is not
   shaped by the level a biased history left someone at; **level** = the opportunity's level;
   **quality** = the percentile of the model score among every scored (employee, opportunity)
   pair of the audit (LambdaRank scores are per-query log-odds, not probabilities; a percentile
   in (0, 1] makes the "quality impact ratio" a ratio of comparable positive numbers).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import date

import numpy as np

from features.domain import (
    Employee,
    EmployeeProfile,
    Evidence,
    Move,
    Opportunity,
    OpportunityStatus,
    Organization,
    RequirementProfile,
)
from features.ranking import employee_context, feature_matrix, target_from_opportunity
from features.ranking_history import EmployeeHistory, basic_requirements, history_before
from inference.fairness.metrics import EmployeeRecommendations, RecommendedOpportunity
from inference.retrieval import OpportunityIndex, SkillProfileVectorizer, normalize

ProfileOf = Callable[[Employee, EmployeeHistory], EmployeeProfile]
Scorer = Callable[[np.ndarray], np.ndarray]


def employee_recommendations(
    score: Scorer,
    org: Organization,
    as_of: date,
    profile_of: ProfileOf,
    *,
    requirements: Mapping[str, RequirementProfile] | None = None,
    vectorizer: SkillProfileVectorizer | None = None,
    adjacency: Mapping[tuple[str, str], int] | None = None,
    sample: int = 0,
    seed: int = 0,
    depth: int = 50,
    top_k: int = 10,
    fit_top: int = 10,
    extra: Mapping[str, Sequence[float]] | None = None,
) -> list[EmployeeRecommendations]:
    """The top ``top_k`` open opportunities the ranker would show a sample of employees.

    ``sample`` <= 0 (or >= the headcount) audits every employee. ``extra`` gives per-employee
    values appended to every row (the HR-field columns of the naive ranker,
    `training.fairness_mitigation.with_hr_fields`)."""
    vectorizer = vectorizer or SkillProfileVectorizer()
    requirements = requirements or {}
    roles = {r.id: r for r in org.roles}
    courses = {c.id: c for c in org.courses}
    opened: list[Opportunity] = [o for o in org.opportunities
                                 if o.status is OpportunityStatus.OPEN]
    if not opened:
        return []
    reqs = [requirements.get(o.id) or basic_requirements(o) for o in opened]
    targets = [target_from_opportunity(o, roles) for o in opened]
    opp_vectors = np.stack([vectorizer.requirements(r) for r in reqs])
    index = OpportunityIndex(opened, opp_vectors)
    unit = normalize(opp_vectors)
    evidence: dict[str, list[Evidence]] = defaultdict(list)
    for ev in org.evidence:
        evidence[ev.employee_id].append(ev)
    moves: dict[str, list[Move]] = defaultdict(list)
    for mv in org.moves:
        moves[mv.employee_id].append(mv)
    people = sorted((e for e in org.employees if e.hired_on < as_of), key=lambda e: e.id)
    chosen = (people if sample <= 0 or sample >= len(people)
              else random.Random(seed).sample(people, sample))
    chosen.sort(key=lambda e: e.id)

    raw: list[tuple[str, float, list[tuple[Opportunity, float]]]] = []
    for emp in chosen:
        hist = history_before(as_of, evidence[emp.id], moves[emp.id])
        profile = profile_of(emp, hist)
        vec = vectorizer.employee(profile)
        sims = unit @ normalize(vec)[0]
        fit = float(np.mean(np.sort(sims)[::-1][:fit_top]))
        found = index.retrieve(emp, vec, depth)
        if not found:
            raw.append((emp.id, fit, []))
            continue
        rows = [c.row for c in found]
        ctx = employee_context(emp, profile, hist, as_of, current_role=roles.get(emp.role_id),
                               courses=courses, vector=vec)
        x = feature_matrix(ctx, [(targets[r], reqs[r]) for r in rows], opp_vectors[rows],
                           adjacency)
        if extra is not None:
            values = np.asarray(extra[emp.id], dtype=np.float64)
            x = np.hstack([x, np.tile(values, (len(x), 1))])
        s = np.asarray(score(x), dtype=np.float64)
        order = np.argsort(-s, kind="stable")[:top_k]
        raw.append((emp.id, fit, [(opened[rows[i]], float(s[i])) for i in order]))
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
