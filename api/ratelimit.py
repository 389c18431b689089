"""In-process token-bucket rate limits per principal (OWASP API4: unrestricted consumption).

Use on list and other expensive endpoints; the dependency authenticates too and returns the
principal::

    from api.ratelimit import rate_limited

    @router.get("/v1/employees")
    def list_employees(principal: Annotated[Principal, Depends(rate_limited("employees.list"))]):

A bucket holds ``per_minute`` requests and refills continuously; an empty bucket answers 429
with ``Retry-After`` (whole seconds). The size comes from ``settings.rate_limits[name]`` when
set, else the ``per_minute`` given here, else ``settings.rate_limit_per_minute``. Buckets live
in the process (one per app), so with several workers the effective limit is per worker.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from fastapi import HTTPException, Request, status

from api.deps import SettingsDep
from api.security import CurrentUser, Principal

MAX_BUCKETS = 50_000


class RateLimiter:
    """Token buckets keyed by (limiter name, key); least recently used ones are dropped."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 max_buckets: int = MAX_BUCKETS) -> None:
        self._clock = clock
        self._max = max_buckets
        self._lock = threading.Lock()
        self._buckets: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()

    def acquire(self, name: str, key: str, per_minute: int) -> float:
        """Take one request; return 0 when allowed, else seconds until one is available."""
        rate = per_minute / 60.0
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.pop((name, key), (float(per_minute), now))
            tokens = min(float(per_minute), tokens + (now - last) * rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / rate
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


def rate_limited(name: str, per_minute: int | None = None
                 ) -> Callable[[Request, Principal, SettingsDep], Principal]:
    """A dependency that authenticates, then spends one token of the caller's ``name`` bucket."""

    def dependency(request: Request, principal: CurrentUser, settings: SettingsDep) -> Principal:
        size = settings.rate_limits.get(name, per_minute or settings.rate_limit_per_minute)
        wait = limiter_for(request).acquire(name, principal.user_id, size)
        if wait > 0:
            raise too_many(wait)
        return principal

    dependency.__name__ = f"rate_limited_{name.replace('.', '_')}"
    return dependency
