"""The HTTP protocol ``waypoint serve --workers N`` runs: uvicorn's h11 protocol with Nagle off.

With several workers uvicorn binds the listening socket itself (``socket.socket(family)``, so
its protocol number reads 0), and asyncio sets ``TCP_NODELAY`` only on sockets whose protocol
reads ``IPPROTO_TCP``. Every response then waited on Nagle's algorithm and the client's delayed
ACK: on the 100,000-employee benchmark one client's recommendation request took 60 ms with two
workers against 16 ms with one, the CPU idle (docs/scale.md). This class sets ``TCP_NODELAY`` on
each accepted connection, as asyncio already does in the single-process path.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol


class NoDelayH11Protocol(H11Protocol):
    """`H11Protocol` that turns Nagle's algorithm off for its TCP connection."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


PROTOCOL = f"{__name__}:{NoDelayH11Protocol.__name__}"
"""The import string uvicorn's workers load it by (``uvicorn.run(..., http=PROTOCOL)``)."""
