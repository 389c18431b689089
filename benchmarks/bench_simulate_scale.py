"""Time and memory of ``waypoint simulate`` at scale: a subprocess per size, on a copy of an
ingested store (SQLite), with its wall and CPU seconds (the CPU figure is roughly what an idle
machine would take when the cores are shared), its peak RSS (``wait4``'s ``ru_maxrss``), the
summary's build / write seconds, the store's size on disk and whether its row counts and
organization version, read back after the run, are the summary's::

    cp models/waypoint.db /tmp/scale/ingested.db     # reference data ingested (an organization
                                                     # in it is replaced)
    PYTHONPATH=. .venv/bin/python benchmarks/bench_simulate_scale.py \\
        --template /tmp/scale/ingested.db --work /tmp/scale --employees 20000 100000

Each size gets its own store copy, summary and truth file under ``--work/<employees>/``; a
JSON line per size goes to stdout and to ``--work/results.jsonl``. ``--shard-employees``
overrides params.yaml's ``simulate.shard_employees``; ``--keep`` keeps each store (else it is
deleted after the size's figures are taken, to spare the disk).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any


def run_size(template: Path, work: Path, employees: int, shard: int | None,
             keep: bool) -> dict[str, Any]:
    folder = work / str(employees)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    store = folder / "org.db"
    shutil.copyfile(template, store)
    command = [sys.executable, "-m", "waypoint", "simulate", "--employees", str(employees),
               "--no-progress", "--summary", str(folder / "summary.json"),
               "--truth", str(folder / "truth.json.gz"),
               "--crosswalk", str(folder / "onet_esco.csv")]
    if shard is not None:
        command += ["--shard-employees", str(shard)]
    env = {**os.environ, "WAYPOINT_DATABASE_URL": f"sqlite:///{store}",
           "WAYPOINT_ARTIFACT_DIR": str(folder / "artifacts")}
    started = time.perf_counter()
    with (folder / "log.txt").open("w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"simulate failed ({process.returncode}); see {folder / 'log.txt'}")
    summary = json.loads((folder / "summary.json").read_text())
    with closing(sqlite3.connect(store)) as conn:  # what the store holds after the commit
        stored = {name: conn.execute(f'select count(*) from "{name}"').fetchone()[0]
                  for name in summary["rows_written"]}
        version = conn.execute("select version from dataset_versions "
                               "where name = 'organization'").fetchone()
    sizes = {p.name: p.stat().st_size for p in folder.iterdir() if p.name.startswith("org.db")}
    result = {
        "employees": employees, "divisions": summary["divisions"],
        "shard_employees": summary["params"]["shard_employees"],
        "wall_s": round(wall, 1), "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mib": round(usage.ru_maxrss / 1024), "seconds": summary["seconds"],
        "rows": sum(summary["rows_written"].values()), "counts": summary["counts"],
        "store_matches_summary": stored == summary["counts"]
        and version == (summary["version"],),
        "store_mib": round(sum(sizes.values()) / 2**20),
        "truth_mib": round((folder / "truth.json.gz").stat().st_size / 2**20, 1),
        "load_average": os.getloadavg(),
    }
    if not keep:
        for name in sizes:
            (folder / name).unlink()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", type=Path, required=True,
                        help="an ingested SQLite store, copied for each size")
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--employees", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--shard-employees", type=int)
    parser.add_argument("--keep", action="store_true", help="keep each size's store")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    for employees in args.employees:
        result = run_size(args.template, args.work, employees, args.shard_employees, args.keep)
        line = json.dumps(result)
        print(line, flush=True)
        with (args.work / "results.jsonl").open("a") as handle:
            handle.write(line + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
