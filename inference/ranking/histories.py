"""Employees' evidence and moves, read from the store when a context is first built.

Serving used to hold every piece of evidence and every move of the organization in each worker
(a million evidence rows at 100,000 employees). `EmployeeHistories` reads one employee's, or a
candidate pool's in one paged query (`features.store.Store.evidence_of`, ``moves_of``), when
their `EmployeeContext` is built; the recommender caches the context, not the rows.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from features.domain import Evidence, Move
from features.store import Store

History = tuple[list[Evidence], list[Move]]


class EmployeeHistories:
    """Evidence and moves per employee, fetched on demand (thread-safe)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._ready: dict[str, History] = {}
        self._lock = threading.Lock()

    def prefetch(self, employee_ids: Iterable[str]) -> None:
        """Read these employees' histories in one paged query each for evidence and moves."""
        ids = sorted({i for i in employee_ids if i not in self._ready})
        if not ids:
            return
        evidence = self.store.evidence_of(ids)
        moves = self.store.moves_of(ids)
        with self._lock:
            for i in ids:
                self._ready[i] = (evidence.get(i, []), moves.get(i, []))

    def take(self, employee_id: str) -> History:
        """The employee's evidence and moves (prefetched ones are handed over once)."""
        with self._lock:
            found = self._ready.pop(employee_id, None)
        if found is not None:
            return found
        return (self.store.evidence_of([employee_id]).get(employee_id, []),
                self.store.moves_of([employee_id]).get(employee_id, []))
