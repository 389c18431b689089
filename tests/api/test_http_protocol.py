"""`waypoint serve` turns Nagle's algorithm off on every connection, with one worker or many.

With several workers uvicorn binds the listening socket as ``socket.socket(family)`` (protocol
number 0), and asyncio then leaves ``TCP_NODELAY`` off on the connections it accepts: each
response waited on the client's delayed ACK (60 ms against 16 ms, docs/scale.md). This test
binds a socket the way uvicorn's multi-worker path does, serves it with uvicorn's own protocol
and with ours over a real loopback connection, and reads the option off the accepted sockets.
"""

from __future__ import annotations

import asyncio
import socket

import pytest
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from api.http_protocol import PROTOCOL, NoDelayH11Protocol
from waypoint.commands import serve


async def _app(scope: dict, receive: object, send: object) -> None:  # pragma: no cover - unused
    raise AssertionError("no request is sent")


async def _accepted_nodelay(protocol: type[H11Protocol]) -> int:
    config = Config(_app, http="h11", log_level="warning")
    config.load()
    state = ServerState()
    made: list[H11Protocol] = []

    def factory() -> H11Protocol:
        made.append(protocol(config=config, server_state=state, app_state={}))
        return made[-1]

    listening = socket.socket(family=socket.AF_INET)          # as uvicorn's bind_socket does
    listening.bind(("127.0.0.1", 0))
    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, sock=listening)
    try:
        _, writer = await asyncio.open_connection(*listening.getsockname()[:2])
        for _ in range(100):
            if made and made[0].transport is not None:
                break
            await asyncio.sleep(0.01)
        accepted = made[0].transport.get_extra_info("socket")
        value = accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        writer.close()
        return int(value)
    finally:
        for connection in made:
            connection.transport.close()
        server.close()
        await server.wait_closed()


def test_uvicorns_multi_worker_socket_leaves_nagle_on_and_ours_turns_it_off() -> None:
    assert asyncio.run(_accepted_nodelay(H11Protocol)) == 0      # the bug this class fixes
    assert asyncio.run(_accepted_nodelay(NoDelayH11Protocol)) == 1


def test_serve_runs_uvicorn_with_the_no_delay_protocol(monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: object) -> None:
    import argparse

    import uvicorn

    from features.settings import get_settings

    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **kwargs: calls.append(kwargs))
    monkeypatch.setenv("WAYPOINT_DATABASE_URL", f"sqlite:///{tmp_path}/w.db")
    monkeypatch.setenv("WAYPOINT_ARTIFACT_DIR", f"{tmp_path}/models")
    get_settings.cache_clear()
    try:
        serve.run(argparse.Namespace(host="127.0.0.1", port=8124, demo=True,
                                     force_public_demo=False, workers=1))
    finally:
        get_settings.cache_clear()
    assert [c["http"] for c in calls] == [PROTOCOL]


def test_each_worker_runs_uvicorn_with_the_no_delay_protocol(monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    """`waypoint serve --workers N` (`api.workers.run_worker`): same protocol, own socket."""
    import uvicorn

    from api import workers

    served: list[tuple[object, list[socket.socket]]] = []

    class Recorder:
        started = True

        def __init__(self, config: Config) -> None:
            self.config = config

        def run(self, sockets: list[socket.socket]) -> None:
            served.append((self.config.http, sockets))

    monkeypatch.setattr(uvicorn, "Server", Recorder)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    workers.run_worker("tests.support.pid_app:app", "127.0.0.1", port, "warning")
    [(http, sockets)] = served
    assert http == PROTOCOL
    [sock] = sockets
    try:
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
