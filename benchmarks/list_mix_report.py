"""The default mix on served lists: kinds in the top 10 with the shipped ``serving.mix`` against
the same pipeline without it, for a seeded sample of the store's employees.

Serves ``--bundle`` (default ``models/bundle``) over the store with `Recommender`, exactly as the
API does, and prints per kind its share of the top-10 items, and how many lists hold at least one
open role::

    .venv/bin/python benchmarks/list_mix_report.py --employees 100
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from pathlib import Path

from features.live_store import dismissed_ids
from features.params import ListMixParams
from features.settings import Settings
from features.store import Store
from inference.artifacts.bundle import load_bundle
from inference.ranking.pipeline import rank_opportunities
from inference.ranking.recommender import Recommender


def kinds_of(rec: Recommender, employee_id: str, mix: ListMixParams | None) -> list[str]:
    """Kinds of the employee's served list, in order (the serving pipeline, ``mix`` or none)."""
    catalog = rec.live_catalog()
    slate = rank_opportunities(catalog, rec.context(rec.employees[employee_id]),
                               rec.ranker.score, rec.options.opportunity_depth,
                               adjacency=rec.adjacency,
                               dismissed=dismissed_ids(rec.store, employee_id), mix=mix)
    return [catalog.opportunities[r].kind.value for r in slate.rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--employees", type=int, default=100)
    parser.add_argument("--bundle", type=Path, default=Path("models/bundle"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    store = Store(Settings().database_url)
    rec = Recommender(load_bundle(args.bundle), store)
    top = rec.options.mix.top
    people = sorted(rec.employees)
    sample = random.Random(args.seed).sample(people, min(args.employees, len(people)))
    counts = {"mixed": Counter[str](), "unmixed": Counter[str]()}
    with_role = Counter[str]()
    for employee_id in sample:
        for name, mix in (("mixed", rec.options.mix), ("unmixed", None)):
            kinds = kinds_of(rec, employee_id, mix)[:top]
            counts[name].update(kinds)
            with_role[name] += "open_role" in kinds
    print(f"{len(sample)} employees, top {top}, mix {rec.options.mix.model_dump()}")
    print("| kind | share with the mix | share without |")
    print("|---|---|---|")
    for kind in sorted(set(counts["mixed"]) | set(counts["unmixed"])):
        mixed = counts["mixed"][kind] / max(1, sum(counts["mixed"].values()))
        plain = counts["unmixed"][kind] / max(1, sum(counts["unmixed"].values()))
        print(f"| {kind} | {mixed:.1%} | {plain:.1%} |")
    print(f"lists with an open role in the top {top}: {with_role['mixed']} with the mix, "
          f"{with_role['unmixed']} without")
    store.dispose()


if __name__ == "__main__":
    main()
