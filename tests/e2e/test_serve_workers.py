"""``waypoint serve --workers 2``: two worker processes answer on one port, and stop with it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from features.settings import REPO_ROOT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(p) for p in text]
    return found


def test_two_workers_serve_one_port(tmp_path: Path) -> None:
    if not Path("/proc/self/task").is_dir():
        pytest.skip("needs /proc to count the worker processes")
    port = _free_port()
    env = {**os.environ, "WAYPOINT_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}",
           "WAYPOINT_ARTIFACT_DIR": str(tmp_path / "models"),
           "WAYPOINT_MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'none.db'}",
           "PYTHONPATH": str(REPO_ROOT)}
    env.pop("WAYPOINT_DEMO_MODE", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "waypoint", "serve", "--demo", "--port", str(port),
         "--workers", "2"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 180
        answered = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                answered = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                if answered.status_code == 200 and len(_children(server.pid)) >= 2:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        assert server.poll() is None, server.stdout.read() if server.stdout else ""
        assert answered is not None and answered.status_code == 200
        workers = _children(server.pid)
        assert len(workers) >= 2  # the multiprocessing helper may be a third child
        # demo mode reached the workers through the environment: the demo users endpoint exists
        demo = httpx.get(f"http://127.0.0.1:{port}/v1/auth/demo-users", timeout=10)
        assert demo.status_code != 404, demo.text
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
    assert server.returncode is not None
