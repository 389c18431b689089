"""Cost of identity-provider tokens against Waypoint's own, on the request path that is served.

A real app (`create_app` with the shipped settings, the authorization matrix's organization in a
SQLite store) is called in process (``TestClient``) on ``GET /v1/auth/me`` (the guard's token
check, the dependency's check and the store look-up): with a demo token, then with a token
from a local identity provider (tests/support/oidc_provider.py, a real HTTP server on
loopback). Reported: the first provider token (discovery and JWKS fetched), then the median and
p95 of ``--samples`` requests of each kind, and the verifier alone (`OidcVerifier.verify`, keys
cached)::

    PYTHONPATH=. .venv/bin/python benchmarks/oidc_verify.py [--samples 400]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.security.oidc import OidcVerifier
from tests.support.authz_matrix import fill_store, never_limited, security_settings, sign_in
from tests.support.oidc_provider import LocalProvider


def timed_ms(call: object, samples: int) -> list[float]:
    assert callable(call)
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def summary(times: list[float]) -> str:
    p95 = sorted(times)[int(0.95 * (len(times) - 1))]
    return f"median {statistics.median(times):.2f} ms, p95 {p95:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, LocalProvider() as idp:
        settings = security_settings(Path(folder), demo_mode=True, **idp.settings())
        fill_store(settings)
        app = create_app(settings)
        never_limited(app)
        with TestClient(app) as client:
            demo = {"Authorization": f"Bearer {sign_in(client, 'e2')}"}
            provider = {"Authorization": f"Bearer {idp.token('e2')}"}
            start = time.perf_counter()
            assert client.get("/v1/auth/me", headers=provider).status_code == 200
            first = (time.perf_counter() - start) * 1000
            for headers in (demo, provider):                      # warm both paths
                assert client.get("/v1/auth/me", headers=headers).status_code == 200
            demo_times = timed_ms(lambda: client.get("/v1/auth/me", headers=demo), args.samples)
            oidc_times = timed_ms(lambda: client.get("/v1/auth/me", headers=provider),
                                  args.samples)
            verifier: OidcVerifier = app.state.oidc_verifier
            token = idp.token("e2")
            verify_times = timed_ms(lambda: verifier.verify(token), args.samples)
    print(f"first provider token (discovery + JWKS over loopback HTTP): {first:.1f} ms; "
          f"provider requests: {dict(idp.requests)}")
    print(f"GET /v1/auth/me, demo token:     {summary(demo_times)} ({args.samples} requests)")
    print(f"GET /v1/auth/me, provider token: {summary(oidc_times)} ({args.samples} requests)")
    print(f"OidcVerifier.verify alone (RS256, 2048-bit, keys cached): {summary(verify_times)}")


if __name__ == "__main__":
    main()
