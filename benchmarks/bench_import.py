"""Import time of an organization export: `waypoint import`'s own code
(`training.organization.importer.import_organization`) into a fresh store.

``--synthetic N`` writes a synthetic export of N employees first (deterministic, seeded), with
the demo company's per-employee volumes (3.2 reviews of about 400 characters, 1.7 course
completions, 1.2 endorsements, 4 self-declared skills, 0.34 moves, 5.1 events, 0.5
opportunities; 923 roles with O*NET codes, a 5,000-course catalog), real ESCO skill URIs from
the store, and times the first import (everything inserted), the second (nothing changes) and
one after 1% of employees changed. ``--folder DIR`` times an existing export (e.g. the demo
company's, ``models/org_export``) the same way::

    .venv/bin/python benchmarks/bench_import.py --synthetic 100000
    .venv/bin/python benchmarks/bench_import.py --folder models/org_export
    PYTHONPATH=. .venv/bin/python benchmarks/bench_import.py --synthetic 100000 --cli

``--cli`` times the ``waypoint import`` command itself (a subprocess per import: what a user
runs, start-up included; wall and CPU seconds and peak memory of that process).

The store is a fresh SQLite file under ``--work`` (default a temporary folder) with the
reference data ingested from ``WAYPOINT_DATA_DIR`` (not timed; ``--template`` copies a
reference-only SQLite store instead), or ``--database-url`` (an empty PostgreSQL database, say).
Each import reports wall and CPU seconds (the CPU figure is what an idle machine would take,
roughly, when the cores are shared) and the process's peak memory.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from features import tables as t
from features.settings import get_settings
from features.store import Store
from training.ingest import ingest_reference_data
from training.organization.importer import import_organization

WORDS = ("builds", "pipelines", "in", "Python", "and", "SQL", "communicates", "with",
         "stakeholders", "leads", "reviews", "of", "the", "design", "mentors", "juniors",
         "needs", "to", "improve", "planning", "estimation", "works", "spreadsheets",
         "analyses", "data", "tests", "software", "writes", "documentation")


def _writer(folder: Path, name: str, header: list[str]) -> tuple[Any, Any]:
    handle = (folder / name).open("w", encoding="utf-8", newline="")
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(header)
    return handle, writer


def write_synthetic_export(folder: Path, employees: int, store: Store, seed: int = 7) -> None:
    """A synthetic organization folder of ``employees`` people (see the module)."""
    rng = random.Random(seed)
    with store.engine.connect() as conn:
        skills = sorted(conn.execute(select(t.skills.c.uri)).scalars())
        codes = sorted(conn.execute(select(t.onet_occupations.c.code)).scalars())[:923]
    folder.mkdir(parents=True, exist_ok=True)
    today = date(2026, 11, 1)

    def day(start: date) -> date:
        return start + timedelta(days=rng.randrange(max(1, (today - start).days)))

    def text(n: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(n))

    depts = [f"D{i:02d}" for i in range(50)]
    locs = [f"L{i:02d}" for i in range(20)]
    (folder / "departments.csv").write_text("id,name\n" + "".join(
        f"{d},Department {d}\n" for d in depts))
    (folder / "locations.csv").write_text("id,name\n" + "".join(
        f"{loc},Location {loc}\n" for loc in locs))
    handle, w = _writer(folder, "roles.csv", ["id", "title", "description", "level",
                                              "job_family", "department_id", "onet_code"])
    roles = [f"R{i:04d}" for i in range(len(codes))]
    for role, code in zip(roles, codes, strict=True):
        w.writerow([role, f"Role {code}", text(60), rng.randint(1, 5), "family",
                    rng.choice(depts), code])
    handle.close()
    handle, w = _writer(folder, "courses.csv", ["id", "title", "description", "skill_uris",
                                                "hours"])
    courses = [f"C{i:05d}" for i in range(5000)]
    for course in courses:
        w.writerow([course, f"Course {course}", text(30), " ".join(rng.sample(skills, 3)),
                    rng.randint(2, 40)])
    handle.close()
    ids = [f"E{i:07d}" for i in range(employees)]
    hired = {e: day(date(2005, 1, 1)) for e in ids}
    handle, w = _writer(folder, "employees.csv", [
        "id", "name", "role_id", "level", "hired_on", "role_since", "department_id",
        "location", "manager_id", "aspirations", "discoverable", "part_time", "is_recruiter"])
    for i, emp in enumerate(ids):
        manager = ids[(i - 1) // 8] if i else ""
        w.writerow([emp, f"Person {i}", rng.choice(roles), rng.randint(1, 5), hired[emp],
                    day(hired[emp]), rng.choice(depts), rng.choice(locs), manager, text(8),
                    "true" if rng.random() < 0.7 else "false", "false", "false"])
    handle.close()
    handle, w = _writer(folder, "protected_attributes.csv", ["employee_id", "sex",
                                                             "race_ethnicity", "age_band"])
    for emp in ids:
        w.writerow([emp, rng.choice(["female", "male"]), "unknown", "30-39"])
    handle.close()
    handle, w = _writer(folder, "opportunities.csv", [
        "id", "kind", "title", "description", "department_id", "location", "level", "status",
        "posted_on", "closes_on", "role_id", "owner_id", "skill_uris"])
    opps = [f"O{i:07d}" for i in range(employees // 2)]
    for opp in opps:
        posted = day(date(2021, 1, 1))
        w.writerow([opp, "open_role", "Opening", text(80), rng.choice(depts), rng.choice(locs),
                    rng.randint(1, 5), rng.choice(["open", "filled", "closed"]), posted,
                    posted + timedelta(days=45), rng.choice(roles), rng.choice(ids),
                    " ".join(rng.sample(skills, 2))])
    handle.close()
    with (folder / "reviews.jsonl").open("w", encoding="utf-8") as out:
        for n in range(int(employees * 3.2)):
            emp = ids[n % employees]
            out.write(json.dumps({"id": f"V{n:08d}", "employee_id": emp,
                                  "reviewed_on": day(hired[emp]).isoformat(),
                                  "text": text(60), "rating": rng.randint(1, 5),
                                  "reviewer_id": ids[0]}) + "\n")
    for name, header, per, row in (
        ("course_completions.csv", ["id", "employee_id", "course_id", "completed_on", "text"],
         1.7, lambda n, e: [f"CC{n:08d}", e, rng.choice(courses), day(hired[e]), ""]),
        ("endorsements.csv", ["id", "employee_id", "skill_uri", "endorsed_on", "endorser_id",
                              "text"],
         1.2, lambda n, e: [f"EN{n:08d}", e, rng.choice(skills), day(hired[e]), ids[0], ""]),
        ("self_declared_skills.csv", ["id", "employee_id", "skill_uri", "declared_on", "text"],
         4.0, lambda n, e: [f"SD{n:08d}", e, rng.choice(skills), day(hired[e]), ""]),
        ("moves.csv", ["id", "employee_id", "from_role_id", "to_role_id", "moved_on",
                       "promotion", "outcome_rating", "retained_one_year"],
         0.34, lambda n, e: [f"M{n:08d}", e, rng.choice(roles), rng.choice(roles),
                             day(hired[e]), "false", rng.randint(1, 5), "true"]),
        ("events.csv", ["id", "kind", "employee_id", "occurred_at", "opportunity_id"],
         5.1, lambda n, e: [f"EV{n:08d}", rng.choice(["impression", "click", "application"]),
                            e, f"{day(date(2021, 1, 1))}T09:00:00+00:00", rng.choice(opps)]),
    ):
        handle, w = _writer(folder, name, header)
        for n in range(int(employees * per)):
            w.writerow(row(n, ids[rng.randrange(employees)]))
        handle.close()


def change_one_percent(src: Path, dst: Path) -> None:
    """A copy of the export with every hundredth employee's level changed."""
    shutil.copytree(src, dst)
    path = dst / "employees.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    level = rows[0].index("level")
    for row in rows[1::100]:
        row[level] = str(int(row[level]) % 5 + 1)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def timed(folder: Path, store: Store, index: Path) -> dict[str, Any]:
    started, cpu = time.perf_counter(), time.process_time()
    report = import_organization(folder, store, title_index=index)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    rows = sum(c.inserted + c.updated for c in report.result.tables.values())
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "rows_written": rows,
            "changed": report.result.changed, "stages_s": report.seconds,
            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}


def timed_cli(folder: Path, url: str) -> dict[str, Any]:
    """The same as `timed`, through the ``waypoint import`` command (a subprocess: its own wall
    and CPU seconds and peak memory)."""
    from benchmarks.organization_round_trip import changes, check, waypoint

    run = check(waypoint(["import", str(folder)], {"WAYPOINT_DATABASE_URL": url}))
    report = run.json()
    return {"command": f"waypoint import {folder}", "wall_s": run.wall_s, "cpu_s": run.cpu_s,
            "rows_written": changes(report), "changed": report["changed"],
            "stages_s": report["seconds"], "max_rss_mb": run.max_rss_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--synthetic", type=int, metavar="N", help="employees to generate")
    source.add_argument("--folder", type=Path, help="an existing organization export")
    parser.add_argument("--work", type=Path, help="folder for the store and the export")
    parser.add_argument("--database-url", help="an empty store (default: SQLite under --work)")
    parser.add_argument("--cli", action="store_true",
                        help="time the `waypoint import` command (a subprocess) instead of "
                        "calling the importer in this process")
    parser.add_argument("--template", type=Path,
                        help="a SQLite store holding only the reference data, copied as the "
                        "starting store instead of ingesting (saves minutes on 2 cores)")
    args = parser.parse_args()
    settings = get_settings()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-import-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.template is not None:
        (work / "bench.db").unlink(missing_ok=True)
        shutil.copyfile(args.template, work / "bench.db")
    url = args.database_url or f"sqlite:///{work / 'bench.db'}"
    store = Store(url)
    ingest_reference_data(settings.data_dir, store)  # a no-op on a template
    index = settings.artifact_dir / "occupations" / "titles"
    folder = args.folder
    result: dict[str, Any] = {}
    if folder is None:
        folder = work / f"synthetic-{args.synthetic}"
        started = time.perf_counter()
        write_synthetic_export(folder, args.synthetic, store)
        result["generate_s"] = round(time.perf_counter() - started, 1)
    result["files_mb"] = round(sum(p.stat().st_size for p in folder.iterdir()) / 1e6, 1)
    if args.cli:
        store.dispose()  # the command opens its own

    def run(path: Path) -> dict[str, Any]:
        return timed_cli(path, url) if args.cli else timed(path, store, index)

    result["first_import"] = run(folder)
    result["second_import"] = run(folder)
    changed = work / "changed"
    shutil.rmtree(changed, ignore_errors=True)
    change_one_percent(folder, changed)
    result["one_percent_changed"] = run(changed)
    store.dispose()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
