"""``waypoint serve --workers N``: N API processes, each accepting on its own listening socket.

uvicorn's own ``--workers`` binds one socket in the parent and hands it to every worker. A
worker's event loop accepts every connection that is waiting when it wakes, so a burst of
keep-alive connections (a proxy's pool, a load test's clients) lands on whichever worker woke
first and stays there: measured at 100,000 employees with 16 keep-alive clients, one worker ran
at 112% of a core and the other idled (``benchmarks/http_load.py``; docs/scale.md, "Two
workers"). Here each worker binds its own socket with ``SO_REUSEPORT``, and the kernel spreads
new connections over the listening sockets by a hash of their addresses, the set-up of nginx's
``reuseport`` and gunicorn's ``--reuse-port``.

The parent only supervises: it starts the workers (``spawn``: nothing of the parent's state is
shared), restarts one that dies, stops all of them on SIGINT / SIGTERM (each worker shuts down
as uvicorn does, finishing its requests), and gives up, exit 1, when a worker fails at start-up
(uvicorn's exit 3: the app could not load), rather than restart it in a loop. Linux only
(``SO_REUSEPORT``, as this project's servers).
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading
import time
from multiprocessing.process import BaseProcess
from types import FrameType

from features.errors import WaypointError

log = logging.getLogger("waypoint.workers")
STARTUP_FAILURE = 3
"""uvicorn's exit code for an app that could not start (``uvicorn.config.STARTUP_FAILURE``)."""
STOP_SECONDS = 30.0
"""How long a stopping worker may take to finish its requests before it is killed."""


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` with ``SO_REUSEPORT`` (not yet listening).
    ``IPPROTO_TCP`` named, so asyncio treats it as TCP (``api.http_protocol``)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def run_worker(app: str, host: str, port: int, log_level: str) -> None:
    """One worker process: its own socket, one uvicorn server on it (exit 3 if the app
    does not start)."""
    import sys

    import uvicorn

    from api.http_protocol import PROTOCOL

    config = uvicorn.Config(app, log_level=log_level, http=PROTOCOL)
    try:
        sock = reuse_port_socket(host, port)
    except OSError as exc:  # taken since the supervisor checked: a start-up failure, no retry
        print(f"cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        sys.exit(STARTUP_FAILURE)
    sock.listen(config.backlog)
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(STARTUP_FAILURE)


class Supervisor:
    """Starts, restarts and stops the worker processes (see the module notes)."""

    def __init__(self, app: str, host: str, port: int, workers: int,
                 log_level: str = "info") -> None:
        if workers < 1:
            raise WaypointError(f"--workers must be at least 1, not {workers}")
        self.app, self.host, self.port, self.log_level = app, host, port, log_level
        self.count = workers
        self.stopping = threading.Event()
        self._context = multiprocessing.get_context("spawn")
        self.processes: list[BaseProcess] = []

    def check_port(self) -> None:
        """Fail early, with the address, where the port is taken: by a process that did not
        ask to share it (the bind fails), or by another server that did (a second
        ``waypoint serve --workers`` on the same port would silently share its connections
        with the first: ``SO_REUSEPORT`` lets any process of the same user join)."""
        try:
            reuse_port_socket(self.host, self.port).close()
        except OSError as exc:
            raise WaypointError(f"cannot listen on {self.host}:{self.port}: {exc.strerror}"
                                ) from None
        probe = "127.0.0.1" if self.host in ("0.0.0.0", "") else (
            "::1" if self.host == "::" else self.host)
        try:
            with socket.create_connection((probe, self.port), timeout=1.0):
                pass
        except OSError:
            return  # nobody answers: the port is free to serve
        raise WaypointError(f"cannot listen on {self.host}:{self.port}: another server "
                            "already accepts connections there")

    def start_one(self, index: int) -> BaseProcess:
        process = self._context.Process(
            target=run_worker, args=(self.app, self.host, self.port, self.log_level),
            name=f"waypoint-worker-{index}", daemon=False)
        process.start()
        log.info("started worker %d [%s]", index, process.pid)
        return process

    def stop(self, signum: int = signal.SIGTERM, frame: FrameType | None = None) -> None:
        self.stopping.set()

    def run(self) -> int:
        """Serve until SIGINT / SIGTERM; 0, or 1 where a worker could not start."""
        self.check_port()
        previous = {s: signal.signal(s, self.stop) for s in (signal.SIGINT, signal.SIGTERM)}
        status = 0
        try:
            self.processes = [self.start_one(i) for i in range(self.count)]
            while not self.stopping.wait(0.5):
                for index, process in enumerate(self.processes):
                    if process.is_alive() or self.stopping.is_set():
                        continue
                    if process.exitcode == STARTUP_FAILURE:
                        log.error("worker %d [%s] could not start the app; stopping",
                                  index, process.pid)
                        status = 1
                        self.stopping.set()
                        break
                    log.warning("worker %d [%s] exited with %s; restarting", index,
                                process.pid, process.exitcode)
                    self.processes[index] = self.start_one(index)
        finally:
            self.stop_all()
            for s, handler in previous.items():
                signal.signal(s, handler)
        return status

    def stop_all(self) -> None:
        for process in self.processes:
            if process.is_alive() and process.pid is not None:
                process.terminate()  # SIGTERM: uvicorn finishes its requests and exits
        deadline = time.monotonic() + STOP_SECONDS
        for process in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.warning("worker [%s] did not stop in %.0f s; killing it", process.pid,
                            STOP_SECONDS)
                process.kill()
                process.join(5)


def serve_workers(app: str, host: str, port: int, workers: int, log_level: str = "info") -> int:
    """Run ``workers`` processes of the ASGI app ``app`` (an import string) on ``host:port``."""
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s:     %(message)s")
    return Supervisor(app, host, port, workers, log_level).run()
