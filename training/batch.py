"""Batch work in parts, in-process or as a Ray Data pipeline.

The batch stages (skills inference over every text, employee profiles, the learning-to-rank
set) cut their work into parts (an encoder batch of texts, a group of employees, the decisions
of one quarter) and hand ``work(state, part)`` to a runner:

- ``IN_PROCESS``: ``work`` over the parts in this process, one after the other (the default);
- ``OnRay``: a Ray Data pipeline, one row per part, ``map_batches`` over a pool of stateful
  actors; each actor builds its state once with ``setup()`` (the skills engine, the
  organization's context) and calls the same ``work`` on every part it is given. Results come
  back in part order, so both runners give identical results.

``runner_for(use_ray)`` picks one: Ray when ``--ray`` is given or ``RAY_ADDRESS`` is set (the
cluster to join; a local instance otherwise). Ray is the optional ``[scale]`` extra and is only
imported on the Ray path. On a cluster, every node needs the project installed and the same
artifact paths (docs/production.md).
"""

from __future__ import annotations

import logging
import os
import pickle
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, Protocol, TypeVar

import numpy as np

from features.errors import WaypointError

log = logging.getLogger(__name__)
S = TypeVar("S")
P = TypeVar("P")
R = TypeVar("R")
WINDOW = 64
"""Parts in flight at once when a runner streams (`BatchRunner.stream`)."""


class BatchRunner(Protocol):
    @property
    def name(self) -> str: ...

    def map(self, work: Callable[[S, P], R], parts: Sequence[P],
            setup: Callable[[], S] | None = None, state: S | None = None) -> list[R]:
        """``[work(state, part) for part in parts]``; ``state`` is ``setup()`` where the work
        runs (a runner in this process may take a ``state`` already at hand instead)."""
        ...

    def stream(self, work: Callable[[S, P], R], parts: Iterable[P],
               setup: Callable[[], S] | None = None, state: S | None = None,
               window: int = WINDOW) -> Iterator[R]:
        """``work(state, part)`` for each part, yielded in part order as they are done; the
        parts are read lazily, at most about ``window`` of them held at once, so that neither
        the parts nor the results of a large stage need to fit in memory together."""
        ...


def windows(parts: Iterable[P], size: int) -> Iterator[list[P]]:
    """``parts`` in consecutive lists of up to ``size``."""
    items = iter(parts)
    while chunk := list(islice(items, max(1, size))):
        yield chunk


class RayUnavailable(WaypointError):
    pass


@dataclass(frozen=True)
class InProcess:
    name: str = "in-process"

    def map(self, work: Callable[[S, P], R], parts: Sequence[P],
            setup: Callable[[], S] | None = None, state: S | None = None) -> list[R]:
        return list(self.stream(work, parts, setup=setup, state=state))

    def stream(self, work: Callable[[S, P], R], parts: Iterable[P],
               setup: Callable[[], S] | None = None, state: S | None = None,
               window: int = WINDOW) -> Iterator[R]:
        if state is None:
            if setup is None:
                raise ValueError("InProcess needs a state or a setup")
            state = setup()
        started = time.perf_counter()
        for i, part in enumerate(parts, start=1):
            yield work(state, part)
            if i % 10 == 0:
                log.info("%s: %d parts (%.0fs)", getattr(work, "__name__", "work"), i,
                         time.perf_counter() - started)


IN_PROCESS = InProcess()


_WORKER_STATE: Any = None
"""The state of this worker process (`InProcesses`), built once by its initializer."""


def _init_worker(setup: Callable[[], Any], threads: int) -> None:
    """Build this worker's state, then hold its native thread pools (BLAS, OpenMP: FAISS's
    search) to ``threads``, so that the workers together do not ask for more threads than
    the machine has cores (two workers on two cores, each searching with two threads, ran
    the engine's search 1.6x slower than with one)."""
    global _WORKER_STATE
    _WORKER_STATE = setup()
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)


def _run_part(work: Callable[[Any, Any], Any], part: Any) -> Any:
    return work(_WORKER_STATE, part)


@dataclass(frozen=True)
class InProcesses:
    """The parts over ``workers`` local processes (spawned: nothing inherited but what is
    pickled), each building its state once with ``setup()``; results in part order, so the
    same as `InProcess`. For the batch stages that are bound by Python rather than by BLAS
    (skills inference over every text), on the cores of one machine without Ray. ``work`` and
    ``setup`` must be picklable (module-level functions, ``functools.partial``)."""

    workers: int = 2
    name: str = "processes"

    def map(self, work: Callable[[S, P], R], parts: Sequence[P],
            setup: Callable[[], S] | None = None, state: S | None = None) -> list[R]:
        if setup is None or self.workers < 2 or len(parts) < 2:
            return IN_PROCESS.map(work, parts, setup=setup, state=state)
        return list(self.stream(work, parts, setup=setup, state=state))

    def stream(self, work: Callable[[S, P], R], parts: Iterable[P],
               setup: Callable[[], S] | None = None, state: S | None = None,
               window: int = WINDOW) -> Iterator[R]:
        if setup is None or self.workers < 2:
            yield from IN_PROCESS.stream(work, parts, setup=setup, state=state)
            return
        try:  # a spawned process gets only what pickles (a closure or lambda does not)
            pickle.dumps((work, setup))
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            log.warning("%s: not picklable (%s); running in this process", self.name, exc)
            yield from IN_PROCESS.stream(work, parts, setup=setup, state=state)
            return
        import multiprocessing
        from concurrent.futures import Future, ProcessPoolExecutor

        started, done = time.perf_counter(), 0
        context = multiprocessing.get_context("spawn")
        pending: deque[Future[R]] = deque()
        with ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                 initializer=_init_worker,
                                 initargs=(setup, max(1, (os.cpu_count() or 1) // self.workers)),
                                 ) as pool:
            for part in parts:
                pending.append(pool.submit(_run_part, work, part))
                if len(pending) >= max(window, self.workers):
                    yield pending.popleft().result()
                    done += 1
            while pending:
                yield pending.popleft().result()
                done += 1
        log.info("%s: %d parts on %d processes (%.0fs)", getattr(work, "__name__", "work"),
                 done, self.workers, time.perf_counter() - started)


class PartWorker:
    """The Ray Data actor: builds its state once, then runs ``work`` on each row's part."""

    def __init__(self, setup: Callable[[], Any], work: Callable[[Any, Any], Any]) -> None:
        self.state = setup()
        self.work = work

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        results = [pickle.dumps(self.work(self.state, pickle.loads(blob)))
                   for blob in batch["part"]]
        return {"index": batch["index"], "result": np.asarray(results, dtype=object)}


@dataclass(frozen=True)
class OnRay:
    """Ray Data over the cluster at ``address`` (``None``: ``RAY_ADDRESS``, else a local
    instance), ``actors`` actors of ``cpus_per_actor`` CPUs each (default: one per CPU)."""

    address: str | None = None
    actors: int | None = None
    cpus_per_actor: float = 1.0
    name: str = "ray"

    def connect(self) -> Any:
        try:
            import ray
        except ImportError as exc:  # pragma: no cover - the [scale] extra is installed in CI
            raise RayUnavailable("--ray needs Ray: pip install -e '.[scale]'") from exc
        if not ray.is_initialized():
            ray.init(address=self.address or os.environ.get("RAY_ADDRESS") or None,
                     include_dashboard=False, log_to_driver=False)
        return ray

    def pool_size(self, parts: int) -> int:
        ray = self.connect()
        wanted = self.actors or max(1, int(ray.cluster_resources().get("CPU", 1)
                                           // self.cpus_per_actor))
        return max(1, min(wanted, parts))

    def map(self, work: Callable[[S, P], R], parts: Sequence[P],
            setup: Callable[[], S] | None = None, state: S | None = None) -> list[R]:
        return list(self.stream(work, parts, setup=setup, state=state,
                                window=max(1, len(parts))))

    def stream(self, work: Callable[[S, P], R], parts: Iterable[P],
               setup: Callable[[], S] | None = None, state: S | None = None,
               window: int = WINDOW) -> Iterator[R]:
        """Each window of parts is one Ray Data pipeline over an actor pool, its results
        streamed back in order (``preserve_order``) rather than collected in the driver."""
        if setup is None:
            raise ValueError("OnRay needs a setup (the state is built in each actor)")
        for chunk in windows(parts, window):
            yield from self._pipeline(work, chunk, setup)

    def _pipeline(self, work: Callable[[S, P], R], parts: Sequence[P],
                  setup: Callable[[], S]) -> Iterator[R]:
        self.connect()
        import ray.data

        size = self.pool_size(len(parts))
        rows = [{"index": i, "part": pickle.dumps(p)} for i, p in enumerate(parts)]
        started = time.perf_counter()
        context = ray.data.DataContext.get_current()
        ordered = context.execution_options.preserve_order
        context.execution_options.preserve_order = True  # a dataset copies it when made
        try:
            dataset = ray.data.from_items(rows, override_num_blocks=min(len(rows), 4 * size))
            done = dataset.map_batches(
                PartWorker, fn_constructor_kwargs={"setup": setup, "work": work},
                batch_size=1, compute=ray.data.ActorPoolStrategy(size=size),
                num_cpus=self.cpus_per_actor)
        finally:
            context.execution_options.preserve_order = ordered
        early: dict[int, R] = {}  # rows ahead of their turn, should the order not hold
        expected = 0
        for row in done.iter_rows():
            early[int(row["index"])] = pickle.loads(row["result"])
            while expected in early:
                yield early.pop(expected)
                expected += 1
        if expected != len(parts):
            raise RuntimeError(f"Ray returned {expected} of {len(parts)} parts in order")
        log.info("%s on Ray: %d parts, %d actors (%.0fs)", getattr(work, "__name__", "work"),
                 len(parts), size, time.perf_counter() - started)


def runner_for(use_ray: bool = False, actors: int | None = None,
               processes: int = 1) -> BatchRunner:
    """Ray when asked (``--ray``) or when ``RAY_ADDRESS`` names a cluster; else ``processes``
    local processes (`InProcesses`) when more than one, else in-process."""
    if use_ray or os.environ.get("RAY_ADDRESS"):
        return OnRay(actors=actors)
    if processes > 1:
        return InProcesses(workers=processes)
    return IN_PROCESS


def same(value: S) -> S:
    """``functools.partial(same, x)``: a picklable setup that hands an actor ``x``."""
    return value
