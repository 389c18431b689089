"""Serving artifacts for a large simulated organization, without running the skills engine on it.

``waypoint simulate --employees 100000`` writes a large organization to a store in minutes, but
the profiles stage (the skills engine over every evidence text) takes about 40 minutes per
100,000 people on this 2-core machine. For the serving benchmarks this script writes, next to
that store, what the profiles stage and the train stage would:

- profiles: each employee's evidence-count profile (`features.ranking_history.basic_profile`,
  over the evidence before the snapshot date) merged with the skills their current role
  requires, at a seeded proficiency around the required level (the engine infers those from the
  person's review texts); roles' requirement profiles from a demo run's ``models/profiles``
  (real, inferred from O*NET tasks), opportunities' from their role's (re-titled to the
  opportunity) or, without a role, the skills the poster named;
- a bundle (`inference.artifacts.bundle.write_bundle`) with the demo bundle's ranker, feature
  list and re-ranking policy, params.yaml's serving settings (depths, index), the profiles
  above and their snapshot date.

Nothing here reads the simulation's hidden truth. Usage::

    WAYPOINT_DATABASE_URL=sqlite:////tmp/scale/org100k.db \\
    PYTHONPATH=. .venv/bin/python benchmarks/scale_world.py --out /tmp/scale/bundle \\
        [--demo-bundle models/bundle] [--demo-profiles models/profiles]
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

import numpy as np

from features.domain import (
    Employee,
    EmployeeProfile,
    Evidence,
    ProfileEntry,
    Requirement,
    RequirementProfile,
)
from features.params import load_params
from features.ranking_history import basic_profile, basic_requirements, history_before
from features.settings import get_settings
from features.store import Store
from inference.artifacts.bundle import load_bundle, write_bundle
from inference.artifacts.profiles import PROFILES, REQUIREMENTS, SUMMARY, read_profile_artifacts


def employee_profile(employee: Employee, evidence: list[Evidence], as_of: date,
                     role: RequirementProfile | None, courses: dict, seed: int) -> EmployeeProfile:
    """Evidence-count profile plus the current role's skills near their required level."""
    base = basic_profile(employee.id, history_before(as_of, evidence), courses, as_of=as_of)
    entries = {e.skill_uri: e for e in base.entries}
    if role is not None:
        rng = np.random.default_rng([seed, int.from_bytes(employee.id.encode()[-6:], "little")])
        for req in role.requirements:
            if req.skill_uri in entries or rng.random() < 0.25:
                continue
            entries[req.skill_uri] = ProfileEntry(
                skill_uri=req.skill_uri,
                proficiency=float(np.clip(req.level * rng.uniform(0.6, 1.2), 0.05, 1.0)),
                confidence=float(rng.uniform(0.35, 0.8)))
    return EmployeeProfile(employee_id=employee.id, as_of=as_of,
                           entries=tuple(entries[k] for k in sorted(entries)))


def build(store: Store, out: Path, demo_bundle: Path, demo_profiles: Path, seed: int) -> None:
    started = time.perf_counter()
    demo = load_bundle(demo_bundle)
    as_of = load_params().simulate.as_of
    demo_reqs = read_profile_artifacts(demo_profiles).role_requirements
    roles = store.roles()
    courses = {c.id: c for c in store.courses()}
    opportunities = store.opportunities()
    by_role: dict[str, list[str]] = defaultdict(list)
    for o in opportunities:
        if o.role_id:
            by_role[o.role_id].extend(o.skill_uris)
    role_reqs: dict[str, RequirementProfile] = {}
    for role in roles:
        found = demo_reqs.get(role.id)
        if found is None:
            named = list(dict.fromkeys(by_role.get(role.id, [])))[:15]
            found = RequirementProfile(subject_id=role.id, requirements=tuple(
                Requirement(skill_uri=u, importance=1.0 - 0.5 * i / max(len(named), 1),
                            level=0.6, essential=i < 2) for i, u in enumerate(named)))
        role_reqs[role.id] = found
    evidence: dict[str, list[Evidence]] = defaultdict(list)
    for ev in store.evidence():
        evidence[ev.employee_id].append(ev)
    employees = store.employees()
    print(f"read {len(employees)} employees, {sum(map(len, evidence.values()))} evidence, "
          f"{len(opportunities)} opportunities in {time.perf_counter() - started:.0f} s",
          flush=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        folder = Path(tmp) / "profiles"
        folder.mkdir()
        with gzip.open(folder / PROFILES, "wt", encoding="utf-8", compresslevel=1) as handle:
            for emp in employees:
                profile = employee_profile(emp, evidence.pop(emp.id, []), as_of,
                                           role_reqs.get(emp.role_id), courses, seed)
                handle.write(json.dumps(profile.model_dump(mode="json")) + "\n")
        with gzip.open(folder / REQUIREMENTS, "wt", encoding="utf-8", compresslevel=1) as handle:
            for reqs in role_reqs.values():
                handle.write(json.dumps({"kind": "role", **reqs.model_dump(mode="json")}) + "\n")
            for o in opportunities:
                own = role_reqs.get(o.role_id or "")
                reqs = (own.model_copy(update={"subject_id": o.id})
                        if own is not None and own.requirements else basic_requirements(o))
                handle.write(json.dumps({"kind": "opportunity", **reqs.model_dump(mode="json")})
                             + "\n")
        (folder / SUMMARY).write_text(json.dumps({
            "as_of": as_of.isoformat(), "encoder": "scale-world (evidence + role skills)"}) + "\n")
        policy = demo.manifest.policy.model_copy(update={  # serving settings as shipped
            "profiles_as_of": as_of, "profiles_engine": "scale-world",
            "serving": load_params().serving})
        write_bundle(out, model_name=demo.manifest.model_name, ranker=demo.ranker,
                     feature_names=demo.manifest.feature_names, encoder=demo.manifest.encoder,
                     data_versions={"organization": store.dataset_version("organization")},
                     extra_files={f"profiles/{n}": folder / n for n in (PROFILES, REQUIREMENTS,
                                                                        SUMMARY)},
                     policy=policy, rerank_offsets=demo.manifest.rerank_offsets)
    print(f"bundle written to {out} in {time.perf_counter() - started:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    settings = get_settings()
    parser.add_argument("--out", type=Path, required=True, help="bundle folder to write")
    parser.add_argument("--demo-bundle", type=Path, default=settings.artifact_dir / "bundle")
    parser.add_argument("--demo-profiles", type=Path, default=settings.artifact_dir / "profiles")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    build(Store(settings.database_url), args.out, args.demo_bundle, args.demo_profiles, args.seed)


if __name__ == "__main__":
    main()
