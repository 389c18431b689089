"""Recommendation latency: retrieval + features + ranking for one employee's top 20.

Builds a synthetic but realistic catalog (skills clustered by job family, requirement profiles of
8-20 skills, employee profiles of 5-25 skills, levels 1-5, a few locations, every opportunity
kind, 85% open), vectorises it with the deterministic skill-profile vectorizer, trains a small
LambdaRank model on synthetic rows, then times per-employee requests:

- ``ours``: the serving pipeline itself, ``inference.ranking.pipeline.rank_opportunities``
  (retrieval exact below the threshold, HNSW above -> ``feature_matrix`` -> ``Ranker.score``
  -> order), top 20, with the shipped depth and index settings (``params.yaml`` ``serving:``);
- ``baseline``: exact brute-force numpy scoring of every opportunity + the same filters ->
  the same features and ranking.

Prints p50/p99 per size and the ratio baseline/ours of the medians, plus the approximate index's
recall@depth against exact search. Single-threaded search (one request per core is how the API
serves); run on an otherwise idle machine for stable p99::

    .venv/bin/python benchmarks/bench_recommend.py --sizes 5000 100000

``--recommender`` instead times the real serving path (``inference.ranking.recommender.Recommender``
over the store and a bundle, default ``models/bundle``, served with the policy the bundle
carries): ``recommend()`` top 20 for employees of the store, ``candidates()`` for roles with an
open opening (fair re-ranking included), and the audit-log record cost::

    .venv/bin/python benchmarks/bench_recommend.py --recommender [--bundle models/bundle]
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from datetime import date
from pathlib import Path

import faiss
import lightgbm as lgb
import numpy as np

from features.domain import (
    Employee,
    EmployeeProfile,
    Opportunity,
    OpportunityKind,
    OpportunityStatus,
    ProfileEntry,
    Requirement,
    RequirementProfile,
)
from features.params import load_params
from features.ranking import (
    FEATURE_NAMES,
    employee_context,
    feature_matrix,
    target_from_opportunity,
)
from features.ranking_history import history_before
from features.ranking_model import Ranker
from inference.ranking.pipeline import OpportunityCatalog, rank_opportunities
from inference.retrieval.indexes import OpportunityIndex, SkillProfileVectorizer, recall_at_depth

AS_OF = date(2026, 11, 1)
LOCATIONS = ("Lisbon", "Porto", "Berlin", "Remote")
KINDS = tuple(OpportunityKind)
N_SKILLS, N_FAMILIES = 3000, 40


def _skill(i: int) -> str:
    return f"http://data.europa.eu/esco/skill/bench-{i:05d}"


def _draw_skills(rng: np.random.Generator, family: int, n: int) -> np.ndarray:
    span = N_SKILLS // N_FAMILIES
    own = family * span + rng.integers(0, span, size=n)
    other = rng.integers(0, N_SKILLS, size=n)
    return np.unique(np.where(rng.random(n) < 0.75, own, other))


def build_catalog(n: int, seed: int = 0) -> tuple[list[Opportunity], list[RequirementProfile]]:
    rng = np.random.default_rng(seed)
    opps: list[Opportunity] = []
    reqs: list[RequirementProfile] = []
    for i in range(n):
        fam = int(rng.integers(N_FAMILIES))
        skills = _draw_skills(rng, fam, int(rng.integers(8, 21)))
        oid = f"opp-{i}"
        opps.append(Opportunity.model_construct(
            id=oid, kind=KINDS[i % len(KINDS)], title=f"Family {fam} opening {i}",
            description=f"work in family {fam} with data and people", department_id=f"d{fam % 8}",
            location=LOCATIONS[int(rng.integers(len(LOCATIONS)))],
            level=int(rng.integers(1, 6)),
            status=OpportunityStatus.OPEN if rng.random() < 0.85 else OpportunityStatus.FILLED,
            posted_on=AS_OF, closes_on=None, role_id=f"role-{fam}-{int(rng.integers(1, 6))}",
            owner_id=None, mentor_id=None, skill_uris=()))
        reqs.append(RequirementProfile.model_construct(subject_id=oid, requirements=tuple(
            Requirement.model_construct(skill_uri=_skill(int(s)),
                                        importance=float(rng.uniform(0.2, 1.0)),
                                        level=float(rng.uniform(0.2, 0.9)),
                                        essential=bool(k < 3))
            for k, s in enumerate(skills))))
    return opps, reqs


def build_employee(i: int, seed: int = 1) -> tuple[Employee, EmployeeProfile]:
    rng = np.random.default_rng([seed, i])
    fam = int(rng.integers(N_FAMILIES))
    level = int(rng.integers(1, 6))
    emp = Employee(id=f"emp-{i}", name="x", role_id=f"role-{fam}-{level}", level=level,
                   hired_on=date(2018, 1, 1), role_since=date(2023, 1, 1),
                   department_id=f"d{fam % 8}", location=LOCATIONS[int(rng.integers(3))],
                   manager_id=None, aspirations=f"grow in family {fam} and lead data work",
                   discoverable=True)
    skills = _draw_skills(rng, fam, int(rng.integers(5, 26)))
    profile = EmployeeProfile(employee_id=emp.id, as_of=AS_OF, entries=tuple(
        ProfileEntry(skill_uri=_skill(int(s)), proficiency=float(rng.uniform(0.2, 1.0)),
                     confidence=float(rng.uniform(0.3, 1.0))) for s in skills))
    return emp, profile


def train_ranker(seed: int = 0) -> Ranker:
    rng = np.random.default_rng(seed)
    x = rng.random((20_000, len(FEATURE_NAMES)))
    y = np.minimum(3, (3 * x[:, 1] + x[:, 0] + rng.random(20_000)).astype(int))
    booster = lgb.train({"objective": "lambdarank", "num_leaves": 15, "verbosity": -1,
                         "num_threads": 1, "seed": seed},
                        lgb.Dataset(x, y, group=[25] * 800, feature_name=list(FEATURE_NAMES)),
                        num_boost_round=200)
    return Ranker(booster=booster)


def baseline_retrieve(index: OpportunityIndex, emp: Employee, vec: np.ndarray,
                      depth: int) -> np.ndarray:
    scores = index.index.vectors @ vec
    scores[~index.allowed(emp)] = -np.inf
    top = np.argpartition(-scores, depth)[:depth]
    return top[np.argsort(-scores[top])]


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs) * 1e3, q))


def bench(n: int, queries: int, depth: int, top: int, dim: int, ranker: Ranker,
          threshold: int) -> dict[str, float]:
    t0 = time.perf_counter()
    opps, reqs = build_catalog(n)
    vectorizer = SkillProfileVectorizer(dim=dim)
    vecs = vectorizer.requirement_profiles(reqs)
    t1 = time.perf_counter()
    index_params = load_params().serving.index.model_copy(update={"exact_threshold": threshold})
    targets = [target_from_opportunity(o) for o in opps]
    catalog = OpportunityCatalog(opps, reqs, targets, vecs, index_params)
    index = catalog.index
    t2 = time.perf_counter()
    employees = [build_employee(i) for i in range(queries)]
    emp_vecs = vectorizer.employees([p for _, p in employees])
    recall = recall_at_depth(index.index, emp_vecs[: min(200, queries)], depth)
    history = history_before(AS_OF)

    def served(emp: Employee, profile: EmployeeProfile, vec: np.ndarray) -> list[str]:
        ctx = employee_context(emp, profile, history, AS_OF, vector=vec)
        slate = rank_opportunities(catalog, ctx, ranker.score, depth).top(top)
        return [opps[r].id for r in slate.rows]

    def recommend(emp: Employee, profile: EmployeeProfile, vec: np.ndarray,
                  rows: np.ndarray) -> list[str]:
        """The baseline's features and ranking over its own retrieved rows."""
        ctx = employee_context(emp, profile, history, AS_OF, vector=vec)
        x = feature_matrix(ctx, [(targets[r], reqs[r]) for r in rows], index.index.vectors[rows])
        scores = ranker.score(x)
        best = np.argsort(-scores, kind="stable")[:top]
        return [opps[rows[b]].id for b in best]

    ours: list[float] = []
    base: list[float] = []
    retr_ours: list[float] = []
    retr_base: list[float] = []
    for warm in range(min(10, queries)):  # warm caches and code paths
        emp, profile = employees[warm]
        served(emp, profile, emp_vecs[warm])
    gc.disable()
    for i, (emp, profile) in enumerate(employees):
        vec = emp_vecs[i]
        s = time.perf_counter()
        index.retrieve(emp, vec, depth)
        m = time.perf_counter()
        retr_ours.append(m - s)
        s = time.perf_counter()
        served(emp, profile, vec)
        ours.append(time.perf_counter() - s)
        s = time.perf_counter()
        rows = baseline_retrieve(index, emp, vec, depth)
        m = time.perf_counter()
        recommend(emp, profile, vec, rows)
        e = time.perf_counter()
        base.append(e - s)
        retr_base.append(m - s)
    gc.enable()
    return {
        "n": n, "index": 0.0 if index.index.exact else 1.0, "build_catalog_s": t1 - t0,
        "build_index_s": t2 - t1, "recall": recall,
        "p50": pct(ours, 50), "p99": pct(ours, 99), "base_p50": pct(base, 50),
        "base_p99": pct(base, 99), "retr_p50": pct(retr_ours, 50), "retr_p99": pct(retr_ours, 99),
        "retr_base_p50": pct(retr_base, 50), "retr_base_p99": pct(retr_base, 99),
    }


def bench_recommender(bundle_dir: Path | None, queries: int, top: int) -> None:
    """p50/p99 of the real serving calls on the store (settings.database_url) and a bundle."""
    from features.settings import get_settings
    from features.store import Store
    from inference.artifacts.bundle import load_bundle
    from inference.ranking.recommender import Recommender
    from inference.serving.audit_log import ServedListLog, served_list

    settings = get_settings()
    folder = bundle_dir or settings.artifact_dir / "bundle"
    if not (folder / "manifest.json").is_file():
        raise SystemExit(f"no bundle at {folder}: run `dvc repro` (or pass --bundle)")
    store = Store(settings.database_url)
    t0 = time.perf_counter()
    rec = Recommender(load_bundle(folder), store)
    print(f"Recommender built in {time.perf_counter() - t0:.1f} s: {len(rec.employees)} "
          f"employees, {len(rec.opportunities)} open opportunities, model {rec.version}")
    rng = np.random.default_rng(0)
    ids = list(rec.employees)
    picks = [ids[i] for i in rng.choice(len(ids), size=min(queries, len(ids)), replace=False)]
    roles = sorted({o.role_id for o in rec.opportunities if o.role_id})[:max(1, queries // 5)]
    timings: dict[str, list[float]] = {"recommend (cold context)": [], "recommend (warm)": [],
                                       "candidates": [], "audit record": []}
    audit = ServedListLog(Store(f"sqlite:///{Path(tempfile.mkdtemp()) / 'audit.db'}"))
    audit.store.create_schema()
    for phase in ("recommend (cold context)", "recommend (warm)"):
        for emp_id in picks:
            s = time.perf_counter()
            result = rec.recommend(emp_id, limit=top)
            timings[phase].append(time.perf_counter() - s)
            s = time.perf_counter()
            audit.record(served_list(user_id=emp_id, requester_role="employee",
                                     endpoint="recommendations", subject_id=emp_id,
                                     model_version=result.model_version,
                                     items=[(i.opportunity_id, i.score) for i in result.items]))
            timings["audit record"].append(time.perf_counter() - s)
    for role_id in roles:
        s = time.perf_counter()
        rec.candidates(role_id, limit=top)
        timings["candidates"].append(time.perf_counter() - s)
    audit.close()
    for name, values in timings.items():
        print(f"{name:>26}: n={len(values):>4} p50 {pct(values, 50):7.2f} ms   "
              f"p99 {pct(values, 99):7.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 100_000])
    parser.add_argument("--queries", type=int, default=300)
    serving = load_params().serving
    parser.add_argument("--depth", type=int, default=serving.opportunity_depth,
                        help="retrieval depth (default: params.yaml serving.opportunity_depth)")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--dim", type=int, default=384, help="vector size (MiniLM: 384)")
    parser.add_argument("--exact-threshold", type=int, default=serving.index.exact_threshold,
                        help="default: params.yaml serving.index.exact_threshold")
    parser.add_argument("--threads", type=int, default=1, help="FAISS search threads")
    parser.add_argument("--recommender", action="store_true",
                        help="time the real Recommender on the store and a bundle instead")
    parser.add_argument("--bundle", type=Path, default=None,
                        help="bundle folder for --recommender (default: models/bundle)")
    args = parser.parse_args()
    faiss.omp_set_num_threads(args.threads)
    if args.recommender:
        bench_recommender(args.bundle, args.queries, args.top)
        return
    ranker = train_ranker()
    print(f"depth={args.depth} top={args.top} dim={args.dim} queries={args.queries} "
          f"faiss_threads={args.threads} features={len(FEATURE_NAMES)}")
    header = (f"{'items':>8} {'index':>6} {'recall@d':>9} {'build_s':>8} | {'p50 ms':>7} "
              f"{'p99 ms':>7} | {'base p50':>8} {'base p99':>8} {'ratio':>6} | "
              f"{'retr p50':>8} {'retr p99':>8} {'base retr p50':>13} {'ratio':>6}")
    print(header)
    for n in args.sizes:
        r = bench(n, args.queries, args.depth, args.top, args.dim, ranker, args.exact_threshold)
        kind = "hnsw" if r["index"] else "flat"
        print(f"{n:>8} {kind:>6} {r['recall']:>9.4f} {r['build_index_s']:>8.1f} | "
              f"{r['p50']:>7.2f} {r['p99']:>7.2f} | {r['base_p50']:>8.2f} {r['base_p99']:>8.2f} "
              f"{r['base_p50'] / r['p50']:>6.2f} | {r['retr_p50']:>8.2f} {r['retr_p99']:>8.2f} "
              f"{r['retr_base_p50']:>13.2f} {r['retr_base_p50'] / r['retr_p50']:>6.2f}",
              flush=True)


if __name__ == "__main__":
    main()
