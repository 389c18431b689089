"""HTTP load on the served API: requests per second, p50 / p99 and errors, 1 and 2 workers.

Starts ``waypoint serve --workers N`` on a free loopback port over a store and a bundle (the
bundle is registered as the champion of a throw-away MLflow registry, so the server loads it
the way production does), waits until every request of a warm-up run answers 200, then for
each concurrency level runs that many closed-loop clients (each sends its next request as soon
as the last one answered) for ``--seconds``. A bounded, local-only generator: asyncio + httpx,
nothing listens beyond 127.0.0.1, every run stops after ``--seconds`` (and ``--max-requests``).
Two clients: ``--client raw`` (the default) writes each GET by hand on one keep-alive
HTTP/1.1 connection per client and reads the status line, the headers and a
``Content-Length`` (or chunked) body, so the generator takes little of the cores it shares with
the server; ``--client httpx`` is the general-purpose client of the earlier figures. Each level
also reports the CPU time per request of the server's workers (``/proc/PID/stat``) and of the
generator itself, so the server's own capacity reads off the figures even where the generator
shares its cores.

- ``recommendations``: ``GET /v1/employees/{id}/recommendations?limit=20`` for employees
  drawn at random, each with their own employee token;
- ``candidates``: ``GET /v1/roles/{id}/candidates?limit=20`` for roles with an open opening, as
  ``hr-admin``.

Rate limits are lifted for the run (``WAYPOINT_RATE_LIMIT_PER_MINUTE``, ``WAYPOINT_RATE_LIMITS``:
the limiter is not what is measured); every other setting is the shipped one (two heavy slots
per worker, the served-list audit log). Memory: RSS and PSS (shared pages split among the
processes that map them) of each worker after the run. The load generator runs on the same
cores as the server: figures are for the pair. ::

    WAYPOINT_DATABASE_URL=sqlite:///models/waypoint.db \\
    PYTHONPATH=. .venv/bin/python benchmarks/http_load.py --bundle models/bundle \\
        --workers 1 2 --concurrency 1 4 16 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

from api.security import issue_token
from features.domain import OpportunityStatus
from features.settings import REPO_ROOT, Settings, get_settings
from features.store import Store
from inference.artifacts.bundle import load_bundle

MODEL = "waypoint-load"
LIMITED = ("employees.recommendations", "roles.candidates", "auth.me")


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    client_cpu_s: float = 0.0
    server_cpu_s: float = 0.0

    def line(self, label: str) -> str:
        lat = np.asarray(self.latencies_ms or [float("nan")])
        per = max(self.requests, 1)
        return (f"{label:<34} {self.requests / self.seconds:8.1f} req/s  "
                f"p50 {np.percentile(lat, 50):7.1f} ms  p99 {np.percentile(lat, 99):7.1f} ms  "
                f"errors {self.errors}/{self.requests}  CPU/request: server "
                f"{1000 * self.server_cpu_s / per:5.2f} ms, generator "
                f"{1000 * self.client_cpu_s / per:5.2f} ms")


class RawConnection:
    """One keep-alive HTTP/1.1 connection: a GET written by hand, the response read by its
    ``Content-Length`` (or chunks). Only what the load needs: no redirects, no TLS."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, token: str) -> int:
        """The status code of ``GET path``; reconnects once where the server closed the
        connection; raises ``OSError`` / ``asyncio.IncompleteReadError`` on a broken one."""
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None and self.writer is not None
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n"
                          f"Authorization: Bearer {token}\r\n\r\n".encode())
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            await self.close()
            raise ConnectionResetError("the server closed the connection")
        status = int(status_line.split()[1])
        length, chunked, close = 0, False, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                chunked = "chunked" in value
            elif name == "connection":
                close = value == "close"
        if chunked:
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                await self.reader.readexactly(size + 2)
            await self.reader.readline()
        elif length:
            await self.reader.readexactly(length)
        if close:
            await self.close()
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far (``/proc/PID/stat``)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def register(tracking_uri: str, bundle_dir: Path, artifacts: Path) -> None:
    from training.registry import log_and_register, promote, record_fairness

    bundle = load_bundle(bundle_dir)
    run = log_and_register(tracking_uri=tracking_uri, model_name=MODEL, ranker=bundle.ranker,
                           bundle_dir=bundle_dir, params={}, metrics={"ndcg_at_10": 0.5},
                           feature_names=bundle.manifest.feature_names, data_version="load",
                           artifact_root=artifacts)
    record_fairness(tracking_uri, MODEL, run.version, passed=True,
                    metrics={"min_impact_ratio": 0.9})
    promote(tracking_uri, MODEL, run.version, tolerance=1.0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(p) for p in (task / "children").read_text().split()]
    return out


def _descendants(pid: int) -> list[int]:
    out: list[int] = []
    for child in _children(pid):
        out += [child, *_descendants(child)]
    return out


def _memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, PSS) in MiB from /proc/PID/smaps_rollup."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        parts = line.split()
        if parts and parts[0] in ("Rss:", "Pss:"):
            values[parts[0]] = int(parts[1]) / 1024
    return values.get("Rss:", 0.0), values.get("Pss:", 0.0)


@contextmanager
def server(env: dict[str, str], workers: int, port: int, log: Path) -> Iterator[subprocess.Popen]:
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "waypoint", "serve", "--port", str(port), "--workers",
             str(workers)], env=env, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


Send = Callable[[int, str, str], Awaitable[bool]]
"""One GET by client ``k`` of ``path`` with ``token``: whether it answered 200."""


async def closed_loop(send: Send, requests: list[tuple[str, str]], concurrency: int,
                      seconds: float, max_requests: int) -> Result:
    """``concurrency`` clients, each sending its next request as soon as the last answered."""
    latencies: list[float] = []
    errors = 0
    sent = 0
    stop_at = time.monotonic() + seconds

    async def client(k: int) -> None:
        nonlocal errors, sent
        i = k
        while time.monotonic() < stop_at and sent < max_requests:
            sent += 1
            path, token = requests[i % len(requests)]
            i += concurrency
            start = time.perf_counter()
            ok = await send(k, path, token)
            latencies.append((time.perf_counter() - start) * 1000)
            errors += not ok

    began = time.monotonic()
    await asyncio.gather(*(client(k) for k in range(concurrency)))
    return Result(len(latencies), errors, time.monotonic() - began, latencies)


async def run_load_raw(url: str, requests: list[tuple[str, str]], concurrency: int,
                       seconds: float, max_requests: int) -> Result:
    host, port = url.removeprefix("http://").split(":")
    connections = [RawConnection(host, int(port)) for _ in range(concurrency)]

    async def send(k: int, path: str, token: str) -> bool:
        try:
            return await connections[k].get(path, token) == 200
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            await connections[k].close()
            return False

    try:
        return await closed_loop(send, requests, concurrency, seconds, max_requests)
    finally:
        for connection in connections:
            await connection.close()


async def run_load(url: str, requests: list[tuple[str, str]], concurrency: int, seconds: float,
                   max_requests: int) -> Result:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:

        async def send(k: int, path: str, token: str) -> bool:
            try:
                response = await http.get(path, headers={"Authorization": f"Bearer {token}"})
            except httpx.HTTPError:
                return False
            return response.status_code == 200

        return await closed_loop(send, requests, concurrency, seconds, max_requests)


async def warm_up(url: str, requests: list[tuple[str, str]], deadline_s: float) -> None:
    """Until 20 requests in a row answer 200 (every worker has loaded the model)."""
    deadline = time.monotonic() + deadline_s
    in_a_row = 0
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        i = 0
        while in_a_row < 20:
            if time.monotonic() > deadline:
                raise SystemExit("the server did not become ready; see the server log")
            path, token = requests[i % len(requests)]
            i += 1
            try:
                ok = (await http.get(path, headers={"Authorization": f"Bearer {token}"})
                      ).status_code == 200
            except httpx.HTTPError:
                ok = False
            in_a_row = in_a_row + 1 if ok else 0
            if not ok:
                await asyncio.sleep(1.0)


def workload(settings: Settings, store: Store, n: int, seed: int
             ) -> dict[str, list[tuple[str, str]]]:
    rng = np.random.default_rng(seed)
    employees = [e.id for e in store.employees()]
    picks = [employees[i] for i in rng.choice(len(employees), size=min(n, len(employees)),
                                              replace=False)]
    roles = sorted({o.role_id for o in store.opportunities(status=OpportunityStatus.OPEN)
                    if o.role_id})
    admin = issue_token(settings, "hr-admin", "hr_admin")[0]
    return {
        "recommendations": [(f"/v1/employees/{e}/recommendations?limit=20",
                             issue_token(settings, e, "employee")[0]) for e in picks],
        "candidates": [(f"/v1/roles/{r}/candidates?limit=20", admin)
                       for r in [roles[i] for i in rng.permutation(len(roles))[:n]]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    base = get_settings()
    parser.add_argument("--bundle", type=Path, default=base.artifact_dir / "bundle")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--max-requests", type=int, default=20_000)
    parser.add_argument("--endpoints", nargs="+", default=["recommendations", "candidates"])
    parser.add_argument("--subjects", type=int, default=2000,
                        help="distinct employees (and at most as many roles) requested")
    parser.add_argument("--ready-timeout", type=float, default=900.0)
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw",
                        help="the load generator's HTTP client (raw: hand-written keep-alive "
                             "HTTP/1.1, light on the shared cores)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="waypoint-load-") as tmp:
        folder = Path(tmp)
        tracking = f"sqlite:///{folder / 'mlflow.db'}"
        register(tracking, args.bundle, folder / "mlartifacts")
        settings = base.model_copy(update={"secret_key": secrets.token_urlsafe(48),
                                           "mlflow_tracking_uri": tracking,
                                           "model_name": MODEL})
        store = Store(settings.database_url)
        work = workload(settings, store, args.subjects, seed=0)
        store.dispose()
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT),
               "WAYPOINT_DATABASE_URL": settings.database_url,
               "WAYPOINT_MLFLOW_TRACKING_URI": tracking, "WAYPOINT_MODEL_NAME": MODEL,
               "WAYPOINT_ARTIFACT_DIR": str(folder / "models"),
               "WAYPOINT_SECRET_KEY": settings.secret_key,
               "WAYPOINT_RATE_LIMIT_PER_MINUTE": str(10**9),
               "WAYPOINT_RATE_LIMITS": json.dumps(dict.fromkeys(LIMITED, 10**9))}
        env.pop("WAYPOINT_DEMO_MODE", None)
        print(f"bundle {args.bundle}, store {settings.database_url}; "
              f"{args.seconds:.0f} s per level; {args.client} client", flush=True)
        load = run_load_raw if args.client == "raw" else run_load
        for workers in args.workers:
            port = _free_port()
            url = f"http://127.0.0.1:{port}"
            log = folder / f"server-{workers}.log"
            with server(env, workers, port, log) as proc:
                started = time.monotonic()
                asyncio.run(warm_up(url, work["recommendations"], args.ready_timeout))
                print(f"--- {workers} worker(s): ready in {time.monotonic() - started:.0f} s",
                      flush=True)
                serving = [proc.pid, *_descendants(proc.pid)]
                for endpoint in args.endpoints:
                    for concurrency in args.concurrency:
                        before = [_cpu_seconds([pid]) for pid in serving]
                        client_before = time.process_time()
                        result = asyncio.run(load(url, work[endpoint], concurrency,
                                                  args.seconds, args.max_requests))
                        result.client_cpu_s = time.process_time() - client_before
                        spent = [_cpu_seconds([pid]) - b for pid, b in zip(serving, before,
                                                                           strict=True)]
                        result.server_cpu_s = sum(spent)
                        print(result.line(f"{endpoint} x{concurrency} clients"), flush=True)
                        print("    CPU share per server process: " + ", ".join(
                            f"{c / result.seconds:.0%}" for c in spent if c > 0.05), flush=True)
                for pid in _children(proc.pid):
                    rss, pss = _memory_mb(pid)
                    if rss > 200:  # the workers (not uvicorn's small helper processes)
                        print(f"worker {pid}: RSS {rss:.0f} MiB, PSS {pss:.0f} MiB", flush=True)
            if proc.returncode not in (0, -signal.SIGINT, None):
                print(log.read_text()[-3000:], file=sys.stderr)


if __name__ == "__main__":
    main()
