"""In-process, cost-weighted token-bucket rate limits per principal (OWASP API4: unrestricted
consumption), and a concurrency limit for the heavy endpoints. Every endpoint uses one of them
(tests/api/test_hardening.py walks the routes); the dependency authenticates too and returns the
principal::

    from api.ratelimit import heavy_limited, list_cost, rate_limited, text_cost

    @router.get("/v1/employees")
    def list_employees(principal: Annotated[Principal, Depends(rate_limited("employees.list"))]):

    @router.post("/v1/skills/infer")
    def infer(principal: Annotated[Principal, Depends(heavy_limited("skills.infer",
                                                                      cost=text_cost))]):

A bucket holds ``per_minute`` cost units and refills continuously; a request spends its cost
(1 by default; `list_cost`: one per `LIST_UNIT` items asked for; `text_cost`: one per
`TEXT_UNIT` body bytes), capped at the bucket size, and an empty bucket answers 429 with
``Retry-After`` (whole seconds). The size comes from ``settings.rate_limits[name]`` when set,
else the ``per_minute`` given here, else ``settings.rate_limit_per_minute``.

`heavy_limited` also holds one of ``settings.heavy_concurrency`` slots while the request runs
(model scoring, skills inference, reloads), so a burst of heavy requests queues instead of
taking every core from the light ones; a request that waits more than
``settings.heavy_wait_seconds`` for a slot answers 503 with ``Retry-After``. Buckets and slots
live in the process (one set per app), so with several workers the limits are per worker.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import Depends, HTTPException, Request, status

from api.deps import SettingsDep
from api.security import CurrentUser, Principal

MAX_BUCKETS = 50_000
LIST_UNIT = 20
"""`list_cost`: one unit per this many list items asked for (``limit``)."""
TEXT_UNIT = 500
"""`text_cost`: one unit per this many body bytes (a 20,000-character text costs 40)."""

Cost = Callable[[Request], Awaitable[float]]

LIMITED: dict[Callable[..., Any], str] = {}
"""Every rate-limiting dependency -> its limiter name (tests check each route has one)."""


class RateLimiter:
    """Token buckets keyed by (limiter name, key); least recently used ones are dropped."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 max_buckets: int = MAX_BUCKETS) -> None:
        self._clock = clock
        self._max = max_buckets
        self._lock = threading.Lock()
        self._buckets: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()

    def acquire(self, name: str, key: str, per_minute: int, cost: float = 1.0) -> float:
        """Spend ``cost`` units (capped at the bucket size); return 0 when allowed, else the
        seconds until that many are available."""
        rate = per_minute / 60.0
        cost = min(max(cost, 0.0), float(per_minute))
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.pop((name, key), (float(per_minute), now))
            tokens = min(float(per_minute), tokens + (now - last) * rate)
            wait = 0.0
            if tokens >= cost:
                tokens -= cost
            else:
                wait = (cost - tokens) / rate
            self._buckets[(name, key)] = (tokens, now)
            while len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
        return wait


_create_lock = threading.Lock()


def limiter_for(request: Request) -> RateLimiter:
    """The app's limiter, created on first use."""
    state = request.app.state
    with _create_lock:
        limiter: RateLimiter | None = getattr(state, "rate_limiter", None)
        if limiter is None:
            limiter = RateLimiter()
            state.rate_limiter = limiter
    return limiter


def too_many(wait: float) -> HTTPException:
    return HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                         "too many requests; slow down",
                         headers={"Retry-After": str(max(1, math.ceil(wait)))})


async def list_cost(request: Request) -> float:
    """One unit per `LIST_UNIT` items of ``limit`` (at least one); a bad value costs one (the
    query validation answers 422 afterwards)."""
    value = request.query_params.get("limit", "")
    items = int(value) if value.isdigit() and len(value) < 7 else 0
    return max(1.0, items / LIST_UNIT)


async def text_cost(request: Request) -> float:
    """One unit per `TEXT_UNIT` bytes of the body (already read, and size-limited, by now)."""
    return max(1.0, len(await request.body()) / TEXT_UNIT)


def rate_limited(name: str, per_minute: int | None = None, *, cost: Cost | None = None
                 ) -> Callable[..., Awaitable[Principal]]:
    """A dependency that authenticates, then spends ``cost`` (default 1) units of the caller's
    ``name`` bucket."""

    async def dependency(request: Request, principal: CurrentUser,
                         settings: SettingsDep) -> Principal:
        size = settings.rate_limits.get(name, per_minute or settings.rate_limit_per_minute)
        units = 1.0 if cost is None else await cost(request)
        wait = limiter_for(request).acquire(name, principal.user_id, size, units)
        if wait > 0:
            raise too_many(wait)
        return principal

    dependency.__name__ = f"rate_limited_{name.replace('.', '_')}"
    LIMITED[dependency] = name
    return dependency


def heavy_slots(request: Request, size: int) -> asyncio.Semaphore:
    """The app's heavy-request semaphore for the running event loop (created on first use)."""
    loop = asyncio.get_running_loop()
    found: tuple[Any, asyncio.Semaphore] | None = getattr(request.app.state, "heavy_slots", None)
    if found is None or found[0] is not loop:
        found = (loop, asyncio.Semaphore(size))
        request.app.state.heavy_slots = found
    return found[1]


def heavy_limited(name: str, per_minute: int | None = None, *, cost: Cost | None = None
                  ) -> Callable[..., AsyncIterator[Principal]]:
    """`rate_limited`, then one of the app's ``heavy_concurrency`` slots for the request's
    duration (503 after ``heavy_wait_seconds`` without one; 0 slots: no concurrency limit)."""
    charged = Depends(rate_limited(name, per_minute, cost=cost))

    # a default, not ``Annotated``: a local in a postponed annotation cannot be resolved
    async def dependency(request: Request, settings: SettingsDep,
                         principal: Principal = charged) -> AsyncIterator[Principal]:
        if settings.heavy_concurrency <= 0:
            yield principal
            return
        slots = heavy_slots(request, settings.heavy_concurrency)
        try:
            await asyncio.wait_for(slots.acquire(), timeout=settings.heavy_wait_seconds)
        except TimeoutError:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                                "the server is busy with heavy requests; retry shortly",
                                headers={"Retry-After": "2"}) from None
        try:
            yield principal
        finally:
            slots.release()

    dependency.__name__ = f"heavy_limited_{name.replace('.', '_')}"
    LIMITED[dependency] = name
    return dependency


def client_address(request: Request) -> str:
    """The peer address (a proxy's ``X-Forwarded-For`` is not trusted: it is the caller's)."""
    return request.client.host if request.client else "unknown"


def address_limited(name: str, per_minute: int | None = None) -> Callable[..., None]:
    """For the endpoints called without a token: one unit per request and client address."""

    def dependency(request: Request, settings: SettingsDep) -> None:
        size = settings.rate_limits.get(name, per_minute or settings.rate_limit_per_minute)
        wait = limiter_for(request).acquire(name, client_address(request), size)
        if wait > 0:
            raise too_many(wait)

    dependency.__name__ = f"address_limited_{name.replace('.', '_')}"
    LIMITED[dependency] = name
    return dependency
