"""Latency of a light request under a burst of heavy ones, without and with the heavy-request
slots (``settings.heavy_concurrency``), in one run on one machine.

A real app (the small serving world of ``tests/support/serving_factory.py``, a real champion, a real
skills engine over the packaged encoder and a small catalog) is served by uvicorn on loopback.
The light request is ``GET /v1/auth/me`` (token check and store look-up); the heavy one is
``POST /v1/skills/infer`` with a 20,000-character text. For each configuration: the light
request's median idle, then its median and p95 while ``--burst`` clients send heavy requests
back to back. Rate limits are lifted for the run (the limiter is not what is measured)::

    PYTHONPATH=. .venv/bin/python benchmarks/light_latency.py [--burst 8] [--samples 40]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import issue_token
from features.settings import PACKAGED_ENCODER
from inference.skills.encoder import load_encoder
from tests.support.authz_matrix import never_limited
from tests.support.product_app import register_champion, settings_for
from tests.support.serving_factory import OWNER, build_world
from tests.support.skills_factory import make_skill_engine

TEXT = ("Designed Python data pipelines and SQL reporting, led code reviews, mentored two "
        "engineers and presented quarterly results to finance stakeholders. ") * 140


@contextmanager
def served(app: object) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def light_ms(http: httpx.Client, token: str, samples: int) -> list[float]:
    out = []
    for _ in range(samples):
        start = time.perf_counter()
        response = http.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        out.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.text
        time.sleep(0.05)
    return out


def measure(folder: Path, engine: object, slots: int, burst: int, samples: int) -> str:
    world = build_world(folder)
    settings = settings_for(folder, world).model_copy(update={
        "heavy_concurrency": slots, "heavy_wait_seconds": 600.0})
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        register_champion(settings.mlflow_tracking_uri, world.bundle_dir)
        app = create_app(settings)
        never_limited(app)
        with TestClient(app):  # runs the lifespan; uvicorn then serves the started app
            assert app.state.serving_model.wait(120)
            app.state.skills_engine = engine
            token = issue_token(settings, OWNER, "employee")[0]
            with served(app) as url, httpx.Client(base_url=url, timeout=600) as http:
                idle = light_ms(http, token, samples)
                stop = threading.Event()
                heavy: list[float] = []

                def hammer() -> None:
                    with httpx.Client(base_url=url, timeout=600) as own:
                        while not stop.is_set():
                            start = time.perf_counter()
                            r = own.post("/v1/skills/infer", json={"text": TEXT[:20_000]},
                                         headers={"Authorization": f"Bearer {token}"})
                            assert r.status_code == 200, r.text
                            heavy.append(time.perf_counter() - start)

                threads = [threading.Thread(target=hammer, daemon=True) for _ in range(burst)]
                for t in threads:
                    t.start()
                time.sleep(2.0)  # let the burst build up
                loaded = light_ms(http, token, samples)
                stop.set()
                for t in threads:
                    t.join(600)
    q = statistics.quantiles(loaded, n=20)
    label = f"heavy_concurrency={slots}" + (" (no limit)" if slots == 0 else "")
    return (f"{label}: light idle median {statistics.median(idle):.1f} ms; under {burst} "
            f"heavy clients median {statistics.median(loaded):.1f} ms, p95 {q[18]:.1f} ms; "
            f"{len(heavy)} heavy requests, median {statistics.median(heavy):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=8)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--slots", type=int, nargs="+", default=[0, 2])
    args = parser.parse_args()
    engine = make_skill_engine(load_encoder(PACKAGED_ENCODER))
    with tempfile.TemporaryDirectory() as tmp:
        for n, slots in enumerate(args.slots):
            print(measure(Path(tmp) / f"run-{n}", engine, slots, args.burst, args.samples),
                  flush=True)


if __name__ == "__main__":
    main()
