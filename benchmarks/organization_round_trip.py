"""The organization round trip of issue 17, end to end through the real ``waypoint`` command.

1. ``waypoint export --protected --out DIR`` from the source store (default the demo store,
   ``models/waypoint.db``, copied first so nothing can write to it; or ``--database-url``);
2. for each target, an empty store elsewhere (a temporary SQLite file; with ``--postgres URL``
   also a scratch database created on that server and dropped afterwards):
   ``waypoint ingest``, then ``waypoint import DIR``, timed;
3. the target is compared with the source table by table (row count and a hash of the sorted
   rows, `benchmarks.store_fingerprint`; the one excluded column is named there);
4. a second ``waypoint import DIR`` must report no change and leave every hash as it was;
5. a copy of DIR with one corrupted line (a ``hired_on`` of 2019-02-30 in the middle of
   employees.csv) must make ``waypoint import`` exit non-zero naming ``employees.csv:LINE``,
   leaving every hash as it was;
6. ``waypoint export`` of the target gives the same files, byte for byte, as DIR.

The simulator writes no ``locations`` or ``role_occupations`` rows (its locations are free text,
its roles carry their O*NET code): the export derives locations.csv from the names used and the
import records each role's given code, so those two tables are "derived" when the source holds
none, and step 6 checks them. Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/organization_round_trip.py \\
        [--database-url sqlite:///models/waypoint.db] \\
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test] [--json OUT.json]

``--source-folder DIR`` builds the source store by importing an organization folder first (the
test runs this on tests/data/organization/small-company). Exit 0 when every check holds.
"""

from __future__ import annotations

import argparse
import csv
import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.store_fingerprint import EXCLUDED, TableFingerprint, fingerprint
from features.settings import REPO_ROOT
from tests.support.postgres import scratch_database

WAYPOINT = str(Path(sys.executable).with_name("waypoint"))
CORRUPT_FILE, CORRUPT_COLUMN, CORRUPT_VALUE = "employees.csv", "hired_on", "2019-02-30"


@dataclass(frozen=True)
class CliRun:
    """One ``waypoint`` process: exit status, wall and CPU seconds, peak memory, output."""

    args: tuple[str, ...]
    code: int
    wall_s: float
    cpu_s: float
    max_rss_mb: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.stdout))


LAUNCHER = """
import os, resource, subprocess, sys
code = subprocess.call(sys.argv[1:])
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(os.environ["ROUND_TRIP_USAGE"], "w") as out:
    out.write(f"{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}")
sys.exit(code)
"""
"""Runs the command as its child and writes that child's peak memory (KiB) and CPU seconds.
Measured from a small launcher because Linux counts the memory a child had before ``exec`` (a
copy of its parent's) in its peak: measured from this process, every command would seem to use
at least what this process holds."""


def waypoint(args: Sequence[str], env: dict[str, str]) -> CliRun:
    """Run ``waypoint ARGS`` with ``env`` added to this process's environment (and this
    checkout first on ``PYTHONPATH``, so the code measured is the code beside this script)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err, \
            tempfile.NamedTemporaryFile("r", suffix=".usage") as usage:
        path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
        started = time.perf_counter()
        code = subprocess.call([sys.executable, "-c", LAUNCHER, WAYPOINT, *args], stdout=out,
                               stderr=err, env={**os.environ, "PYTHONPATH": path,
                                                "ROUND_TRIP_USAGE": usage.name, **env})
        wall = time.perf_counter() - started
        rss_kib, cpu = usage.read().split()
        out.seek(0)
        err.seek(0)
        return CliRun(tuple(args), code, round(wall, 1), round(float(cpu), 1),
                      int(rss_kib) // 1024, out.read(), err.read())


def check(run: CliRun) -> CliRun:
    if run.code:
        raise RuntimeError(f"waypoint {' '.join(run.args)} exited {run.code}:\n{run.stderr}")
    return run


def corrupt_copy(export: Path, target: Path) -> int:
    """A copy of ``export`` with the ``hired_on`` of the middle employee made an impossible
    date; the 1-based line number changed (line 1 is the header)."""
    shutil.copytree(export, target)
    path = target / CORRUPT_FILE
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    index = max(1, len(rows) // 2)
    rows[index][rows[0].index(CORRUPT_COLUMN)] = CORRUPT_VALUE
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return index + 1


def same_files(a: Path, b: Path) -> bool:
    names = sorted(p.name for p in a.iterdir())
    if names != sorted(p.name for p in b.iterdir()):
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    return not mismatch and not errors


def changes(report: dict[str, Any]) -> int:
    return sum(c["inserted"] + c["updated"] for c in report["tables"].values())


DERIVED = {"locations", "role_occupations"}
"""Tables a simulated source holds no rows of; the import derives them (see the module)."""


@dataclass
class TargetResult:
    """One target store through steps 2 to 6."""

    name: str
    runs: dict[str, CliRun] = field(default_factory=dict)
    imported: dict[str, TableFingerprint] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    bad_line: int = 0


def run_target(name: str, url: str, export: Path, source: dict[str, TableFingerprint],
               work: Path, env: dict[str, str]) -> TargetResult:
    result = TargetResult(name)
    env = {**env, "WAYPOINT_DATABASE_URL": url}
    result.runs["ingest"] = check(waypoint(["ingest"], env))
    first = result.runs["import"] = check(waypoint(["import", str(export)], env))
    if not first.json()["changed"]:
        result.failures.append("the first import reported no change")
    result.imported = fingerprint(url)
    for table, want in source.items():
        got = result.imported[table]
        if got != want and not (want.rows == 0 and table in DERIVED):
            result.failures.append(f"{table}: {got.rows} rows {got.short()} != "
                                   f"source {want.rows} rows {want.short()}")
    second = result.runs["import again"] = check(waypoint(["import", str(export)], env))
    if second.json()["changed"] or changes(second.json()):
        result.failures.append(f"the second import changed {changes(second.json())} rows")
    if fingerprint(url) != result.imported:
        result.failures.append("the second import changed the store")
    bad = work / f"{name}-corrupt"
    result.bad_line = corrupt_copy(export, bad)
    broken = result.runs["corrupted import"] = waypoint(["import", str(bad)], env)
    if broken.code == 0 or f"{CORRUPT_FILE}:{result.bad_line}:" not in broken.stderr:
        result.failures.append(f"the corrupted import exited {broken.code} without naming "
                               f"{CORRUPT_FILE}:{result.bad_line}: {broken.stderr[-500:]}")
    if fingerprint(url) != result.imported:
        result.failures.append("the corrupted import changed the store")
    again = work / f"{name}-export"
    result.runs["export"] = check(waypoint(["export", "--protected", "--out", str(again)], env))
    if not same_files(export, again):
        result.failures.append("the target's export differs from the source's")
    return result


def table_report(source: dict[str, TableFingerprint], targets: list[TargetResult]) -> str:
    head = ["table", "source rows", *[f"{r.name} rows" for r in targets], "equal"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for table, want in source.items():
        got = [r.imported[table] for r in targets]
        if all(g == want for g in got):
            verdict = f"yes ({want.short()})"
        elif want.rows == 0 and table in DERIVED and len({g for g in got}) == 1:
            verdict = "derived by the import (source holds none); same on every target"
        else:
            verdict = "NO"
        excluded = f" (without {', '.join(EXCLUDED[table])})" if table in EXCLUDED else ""
        lines.append(f"| {table}{excluded} | {want.rows:,} | "
                     + " | ".join(f"{g.rows:,}" for g in got) + f" | {verdict} |")
    return "\n".join(lines)


def runs_report(targets: list[TargetResult]) -> str:
    lines = ["| target | step | exit | wall s | CPU s | peak MB | note |",
             "|---|---|---|---|---|---|---|"]
    for r in targets:
        for step, run in r.runs.items():
            note = ""
            if step.startswith("import"):
                report = run.json()
                note = f"changed={report['changed']}, rows written={changes(report)}, " \
                       f"stages={report['seconds']}"
            elif step == "corrupted import":
                note = next((line for line in run.stderr.splitlines()
                             if line.startswith(CORRUPT_FILE)), run.stderr[-200:])
            lines.append(f"| {r.name} | {step} | {run.code} | {run.wall_s} | {run.cpu_s} | "
                         f"{run.max_rss_mb} | {note} |")
    return "\n".join(lines)


def prepare_source(source_url: str, work: Path, env: dict[str, str],
                   source_folder: Path | None = None
                   ) -> tuple[Path, dict[str, TableFingerprint]]:
    """Step 1 (importing ``source_folder`` into the source store first when given): the
    export folder and the source's fingerprint."""
    source_env = {**env, "WAYPOINT_DATABASE_URL": source_url}
    if source_folder is not None:
        check(waypoint(["ingest"], source_env))
        check(waypoint(["import", str(source_folder)], source_env))
    export = work / "export"
    check(waypoint(["export", "--protected", "--out", str(export)], source_env))
    return export, fingerprint(source_url)


def round_trip(source_url: str, work: Path, *, postgres: str | None = None,
               source_folder: Path | None = None, env: dict[str, str] | None = None
               ) -> tuple[dict[str, TableFingerprint], list[TargetResult]]:
    """Steps 1 to 6 (see the module); the source's fingerprint and each target's result."""
    env = {"WAYPOINT_ARTIFACT_DIR": str(work / "artifacts"), **(env or {})}
    export, source = prepare_source(source_url, work, env, source_folder)
    targets = [run_target("sqlite", f"sqlite:///{work / 'target.db'}", export, source, work,
                          env)]
    if postgres:
        with scratch_database(postgres, "waypoint_round_trip") as url:
            targets.append(run_target("postgresql", url, export, source, work, env))
    return source, targets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="the source store (default: the demo store, "
                        "models/waypoint.db; a SQLite file is copied first; with "
                        "--source-folder, default a new SQLite file under --work)")
    parser.add_argument("--postgres", help="a PostgreSQL server URL (a scratch database is "
                        "created on it and dropped), e.g. "
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--source-folder", type=Path,
                        help="import this organization folder into the source store first")
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="org-round-trip-"))
    work.mkdir(parents=True, exist_ok=True)
    demo = f"sqlite:///{REPO_ROOT / 'models' / 'waypoint.db'}"
    source_url = args.database_url or (demo if args.source_folder is None
                                       else f"sqlite:///{work / 'source.db'}")
    if source_url.startswith("sqlite:///") and args.source_folder is None:
        copy = work / "source.db"
        shutil.copyfile(source_url.removeprefix("sqlite:///"), copy)
        source_url = f"sqlite:///{copy}"
    source, targets = round_trip(source_url, work, postgres=args.postgres,
                                 source_folder=args.source_folder)
    print(table_report(source, targets), end="\n\n")
    print(runs_report(targets))
    failures = [f"{r.name}: {f}" for r in targets for f in r.failures]
    print("\n" + ("\n".join(failures) if failures else "every check holds"))
    if args.json:
        args.json.write_text(json.dumps({
            "source": {k: [v.rows, v.sha256] for k, v in source.items()},
            "targets": {r.name: {"tables": {k: [v.rows, v.sha256] for k, v in r.imported.items()},
                                 "runs": {s: {"code": x.code, "wall_s": x.wall_s,
                                              "cpu_s": x.cpu_s, "max_rss_mb": x.max_rss_mb}
                                          for s, x in r.runs.items()},
                                 "failures": r.failures} for r in targets}}, indent=2) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
