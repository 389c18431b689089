"""Point-in-time slate scoring (``waypoint rank``): score listed employees for one opportunity
with features as known strictly before a date, exactly as the training rows were computed.

Input, one JSON object per line: ``{"id", "opportunity_id", "as_of", "employee_ids"}``; output,
one per input line, in order: ``{"id", "scores": {employee_id: score}}``. The model's score is
returned as is (no fair re-ranking, no retrieval, no eligibility filters: the caller chose the
slate). Each employee is rebuilt as they were on ``as_of`` (role and level from the move
history), their profile from the observations dated strictly before it, without the skills they
had rejected before it; ``as_of`` itself is excluded, as for a historical decision.

A malformed line, an unknown opportunity or employee, or an employee not yet hired on
``as_of`` stops the run with `SlateError` naming the line; nothing is written for that line
(earlier lines are already complete on the output).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any, TextIO

import numpy as np

from features.domain import Employee, EmployeeProfile, Organization, RequirementProfile
from features.errors import WaypointError
from features.ranking import employee_context, feature_row, target_from_opportunity
from features.ranking_history import EmployeeHistory, basic_profile, basic_requirements
from features.ranking_model import Ranker
from inference.artifacts.profiles import ProfileArtifacts
from inference.retrieval.indexes import SkillProfileVectorizer
from training.ranking.dataset import OrgIndex, ProfileBuilder

KEYS = frozenset({"id", "opportunity_id", "as_of", "employee_ids"})
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class SlateError(WaypointError):
    """A request line that cannot be scored; the message starts with its line number."""


class SlateScorer:
    """The organization indexed once; `score` rebuilds features per (employee, date)."""

    def __init__(self, org: Organization, ranker: Ranker, *,
                 profiles: ProfileArtifacts | None = None,
                 profile_builder: ProfileBuilder | None = None,
                 adjacency: Mapping[tuple[str, str], int] | None = None,
                 vectorizer: SkillProfileVectorizer | None = None) -> None:
        self.world = OrgIndex(org)
        self.ranker = ranker
        self.opportunities = {o.id: o for o in org.opportunities}
        self.requirements = dict(profiles.opportunity_requirements) if profiles else {}
        self.adjacency = adjacency
        self.vectorizer = vectorizer or SkillProfileVectorizer()
        courses = self.world.courses

        def basic(emp: Employee, hist: EmployeeHistory) -> EmployeeProfile:
            return basic_profile(emp.id, hist, courses, as_of=hist.as_of - timedelta(days=1))

        self.build = profile_builder or basic

    def score(self, opportunity_id: str, as_of: date,
              employee_ids: Iterable[str]) -> dict[str, float]:
        """``{employee id: score}``; ValueError names the first id that cannot be scored."""
        opp = self.opportunities.get(opportunity_id)
        if opp is None:
            raise ValueError(f"unknown opportunity_id {opportunity_id!r}")
        reqs: RequirementProfile = self.requirements.get(opp.id) or basic_requirements(opp)
        target = target_from_opportunity(opp, self.world.roles)
        target_vec = self.vectorizer.requirements(reqs)
        ids = list(employee_ids)
        rows = []
        for emp_id in ids:
            if emp_id not in self.world.employees:
                raise ValueError(f"unknown employee id {emp_id!r}")
            emp = self.world.as_of(emp_id, as_of)
            if emp is None:
                raise ValueError(f"employee {emp_id!r} was not hired before {as_of}")
            hist = self.world.history(emp_id, as_of)
            profile = self.build(emp, hist)
            ctx = employee_context(emp, profile, hist, as_of,
                                   current_role=self.world.roles.get(emp.role_id),
                                   courses=self.world.courses,
                                   vector=self.vectorizer.employee(profile))
            rows.append(feature_row(ctx, target, reqs, target_vec, self.adjacency))
        if not rows:
            return {}
        scores = self.ranker.score(np.vstack(rows))
        return {e: float(s) for e, s in zip(ids, scores.tolist(), strict=True)}


def parse_request(line: str) -> tuple[Any, str, date, list[str]]:
    """(id, opportunity id, as_of, employee ids) of one request line; ValueError if malformed."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg}") from None
    if not isinstance(obj, dict):
        raise ValueError("expected a JSON object")
    missing, extra = KEYS - set(obj), set(obj) - KEYS
    if missing or extra:
        raise ValueError(f"keys must be exactly {sorted(KEYS)} (missing {sorted(missing)}, "
                         f"unexpected {sorted(extra)})")
    rid, opp, as_of, emps = obj["id"], obj["opportunity_id"], obj["as_of"], obj["employee_ids"]
    if not isinstance(rid, str | int) or isinstance(rid, bool):
        raise ValueError("id must be a string or an integer")
    if not isinstance(opp, str):
        raise ValueError("opportunity_id must be a string")
    if not isinstance(as_of, str) or not _DATE.fullmatch(as_of):
        raise ValueError("as_of must be a date YYYY-MM-DD")
    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        raise ValueError(f"as_of {as_of!r} is not a valid date") from None
    if not isinstance(emps, list) or not all(isinstance(e, str) for e in emps):
        raise ValueError("employee_ids must be a list of strings")
    if len(set(emps)) != len(emps):
        raise ValueError("employee_ids has duplicates")
    return rid, opp, day, list(emps)


def score_lines(scorer: SlateScorer, lines: Iterable[str], out: TextIO) -> int:
    """Score every request line into ``out``; returns the number of lines written. Blank lines
    are skipped. Raises `SlateError` ("line N: ...") at the first line that cannot be scored,
    after flushing the complete lines before it."""
    written = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rid, opp, day, emps = parse_request(line)
            scores = scorer.score(opp, day, emps)
        except ValueError as exc:
            out.flush()
            raise SlateError(f"line {number}: {exc}") from None
        out.write(json.dumps({"id": rid, "scores": scores}) + "\n")
        written += 1
    out.flush()
    return written
