"""`waypoint serve --workers N`: each worker accepts on its own socket, so a burst of keep-alive
connections reaches every worker (`api.workers`).

uvicorn's shared listening socket let the first worker awake accept a whole burst: at 100,000
employees, 16 keep-alive clients kept one worker at 112% of a core while the other idled
(docs/scale.md). These tests run the real supervisor in a subprocess over a tiny ASGI app that
answers with its process id (`tests.support.pid_app`).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from api.workers import Supervisor
from features.errors import WaypointError
from features.settings import REPO_ROOT

APP = "tests.support.pid_app:app"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def supervisor(port: int, workers: int, app: str = APP) -> Iterator[subprocess.Popen[bytes]]:
    code = ("import sys; from api.workers import serve_workers; "
            f"sys.exit(serve_workers({app!r}, '127.0.0.1', {port}, {workers}, 'warning'))")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO_ROOT,
                            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


async def _pid_over(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> int:
    writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")))
    return int(await reader.readexactly(length))


async def _burst(port: int, connections: int) -> list[int]:
    """Open ``connections`` keep-alive connections at once, then one request on each, twice."""
    opened = await asyncio.gather(*(asyncio.open_connection("127.0.0.1", port)
                                    for _ in range(connections)))
    try:
        first = await asyncio.gather(*(_pid_over(r, w) for r, w in opened))
        again = await asyncio.gather(*(_pid_over(r, w) for r, w in opened))
        assert first == again  # a keep-alive connection stays with its worker
        return first
    finally:
        for _, writer in opened:
            writer.close()


def _wait_for_workers(port: int, workers: int, timeout: float = 90.0) -> set[int]:
    """Until ``workers`` distinct processes have answered (each started and listening)."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout
    while len(seen) < workers:
        if time.monotonic() > deadline:
            raise AssertionError(f"only {len(seen)} of {workers} workers answered")
        try:
            seen |= set(asyncio.run(_burst(port, 8)))
        except (OSError, asyncio.IncompleteReadError):  # not listening yet, or just died
            time.sleep(0.2)
    return seen


def test_a_burst_of_keep_alive_connections_reaches_every_worker() -> None:
    port = _free_port()
    with supervisor(port, workers=2) as proc:
        _wait_for_workers(port, 2)
        served = Counter(asyncio.run(_burst(port, 32)))
        assert proc.poll() is None
    # the kernel hashes connections over the two sockets: fewer than 4 of 32 on one worker
    # has a chance of about 3 in a million
    assert len(served) == 2 and min(served.values()) >= 4, served
    assert proc.returncode == 0  # SIGTERM: the workers stopped and the supervisor exited cleanly


def test_a_worker_that_dies_is_replaced() -> None:
    port = _free_port()
    with supervisor(port, workers=2):
        first = _wait_for_workers(port, 2)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 90
        while True:
            now = _wait_for_workers(port, 2)
            if victim not in now:
                break
            assert time.monotonic() < deadline, "the dead worker was not replaced"
        assert len(now - first) == 1  # one new process, the other worker untouched


def test_an_app_that_cannot_start_stops_the_supervisor_with_an_error() -> None:
    port = _free_port()
    with supervisor(port, workers=2, app="tests.support.pid_app:no_such_app") as proc:
        assert proc.wait(90) == 1


def test_a_port_taken_by_a_process_that_does_not_share_it_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(WaypointError, match=f"cannot listen on 127.0.0.1:{port}"):
            Supervisor(APP, "127.0.0.1", port, 2).check_port()


def test_a_second_supervisor_on_a_served_port_refuses_to_join_it() -> None:
    port = _free_port()
    with supervisor(port, workers=2):
        _wait_for_workers(port, 2)
        with pytest.raises(WaypointError, match="another server already accepts"):
            Supervisor(APP, "127.0.0.1", port, 2).check_port()


def test_a_worker_that_cannot_bind_is_a_start_up_failure() -> None:
    """Taken between the supervisor's check and the worker's bind: exit 3, not a restart loop."""
    from api.workers import STARTUP_FAILURE, run_worker

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(SystemExit) as stopped:
            run_worker(APP, "127.0.0.1", taken.getsockname()[1], "warning")
    assert stopped.value.code == STARTUP_FAILURE


def test_workers_must_be_positive() -> None:
    with pytest.raises(WaypointError, match="at least 1"):
        Supervisor(APP, "127.0.0.1", 8000, 0)
