"""Served lists against the simulator's truth: the "Done when" figures of what a list shows.

Builds the real serving ``Recommender`` from a bundle (default ``models/bundle``) over the store
(``settings.database_url``) and, for a seeded sample of employees, takes their top-10
recommendations; for a sample of roles with an open opening, the top-10 candidates. Then, with
the hidden true skills (``models/simulation_truth.json.gz``, evaluation only):

- **items with a truly held required skill**: share of items whose shown skills (matched or
  missing) include a skill the person truly holds; and the stricter share whose *matched* skills
  include one;
- **matched skills truly held**: share of all skills shown as matched that the person truly holds.

    PYTHONPATH=. .venv/bin/python benchmarks/report_lists_truth.py [--employees 100] [--roles 40]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from benchmarks.simulation_truth import true_skills
from features.domain import OpportunityKind
from features.settings import get_settings
from features.store import Store
from inference.artifacts.bundle import load_bundle
from inference.ranking.recommender import Recommender
from inference.ranking.responses import MatchedSkill, MissingSkill


class Tally:
    """Counts over the items of one kind of list."""

    def __init__(self) -> None:
        self.items = 0
        self.items_listing_held = 0
        self.items_matching_held = 0
        self.matched = 0
        self.matched_held = 0
        self.items_without_skills = 0

    def add(self, held: frozenset[str], matched: Sequence[MatchedSkill],
            missing: Sequence[MissingSkill]) -> None:
        self.items += 1
        shown = [m.uri for m in matched] + [m.uri for m in missing]
        self.items_without_skills += not shown
        self.items_listing_held += any(uri in held for uri in shown)
        self.items_matching_held += any(m.uri in held for m in matched)
        self.matched += len(matched)
        self.matched_held += sum(m.uri in held for m in matched)

    def figures(self) -> dict[str, float | int]:
        def share(part: int, whole: int) -> float:
            return round(part / whole, 3) if whole else 0.0
        return {"items": self.items,
                "items_listing_a_truly_held_skill": share(self.items_listing_held, self.items),
                "items_matching_a_truly_held_skill": share(self.items_matching_held, self.items),
                "matched_skills_shown": self.matched,
                "matched_skills_truly_held": share(self.matched_held, self.matched),
                "items_without_skills": self.items_without_skills}


def sample(ids: Iterable[str], size: int, seed: int) -> list[str]:
    pool = sorted(ids)
    rng = np.random.default_rng(seed)
    return [pool[i] for i in sorted(rng.choice(len(pool), size=min(size, len(pool)),
                                               replace=False))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=None)
    parser.add_argument("--truth", type=Path, default=None)
    parser.add_argument("--employees", type=int, default=100)
    parser.add_argument("--roles", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    settings = get_settings()
    folder = args.bundle or settings.artifact_dir / "bundle"
    rec = Recommender(load_bundle(folder), Store(settings.database_url))
    truth = true_skills(args.truth or settings.artifact_dir / "simulation_truth.json.gz",
                        rec.profiles_as_of)

    employees = Tally()
    for emp_id in sample(rec.employees, args.employees, args.seed):
        held = truth.get(emp_id, frozenset())
        for item in rec.recommend(emp_id, limit=10).items:
            employees.add(held, item.matched_skills, item.missing_skills)

    candidates = Tally()
    roles = {o.role_id for o in rec.opportunities
             if o.kind is OpportunityKind.OPEN_ROLE and o.role_id}
    for role_id in sample(roles, args.roles, args.seed):
        for cand in rec.candidates(role_id, limit=10).items:
            candidates.add(truth.get(cand.employee_id, frozenset()), cand.matched_skills,
                           cand.missing_skills)
    print(json.dumps({"model_version": rec.version, "profiles_as_of": str(rec.profiles_as_of),
                      "employee_lists": employees.figures(),
                      "candidate_lists": candidates.figures()}, indent=2))


if __name__ == "__main__":
    main()
