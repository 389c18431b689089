"""The served-lists audit log: every list the API serves is appended to ``served_lists``.

Writes happen on one background thread, so a request pays only for building the record and a
queue put (microseconds), never for the database (a busy SQLite file or a slow PostgreSQL must not
slow or fail a request). The thread drains whatever is queued in one transaction per batch.
Trade-offs, decided:

- a write that fails is logged (``log.error`` with the record id) and counted in ``failed``; the
  request that served the list has already succeeded;
- a full queue (the database down for a long time) drops the record, logs it and counts it in
  ``dropped`` rather than block requests;
- ``close()`` (the app's shutdown) drains the queue; only a hard kill loses the records queued in
  the last few milliseconds.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from features.store import ServedItem, ServedList, Store

log = logging.getLogger(__name__)
MAX_QUEUE = 10_000
MAX_BATCH = 200


def served_list(*, user_id: str, requester_role: str, endpoint: str, subject_id: str,
                model_version: str, items: Iterable[tuple[str, float]],
                fairness: dict[str, Any] | None = None, first_rank: int = 1) -> ServedList:
    """A record for one served list; ``items`` are (id, score) in displayed order, the first
    at rank ``first_rank`` (a later page starts further down)."""
    return ServedList(
        id=uuid.uuid4().hex, served_at=datetime.now(UTC), user_id=user_id,
        requester_role=requester_role, endpoint=endpoint, subject_id=subject_id,
        model_version=model_version,
        items=[ServedItem(id=i, score=float(s), rank=r)
               for r, (i, s) in enumerate(items, start=first_rank)],
        fairness=fairness)


class ServedListLog:
    """Appends served lists to the store from a background thread (see the module notes)."""

    def __init__(self, store: Store, max_queue: int = MAX_QUEUE) -> None:
        self.store = store
        self._queue: queue.Queue[ServedList | None] = queue.Queue(maxsize=max_queue)
        self._thread = threading.Thread(target=self._run, name="served-list-log", daemon=True)
        self._thread.start()
        self.written = 0
        self.failed = 0
        self.dropped = 0

    def record(self, entry: ServedList) -> str:
        """Queue one record; never raises. Returns the record id."""
        try:
            self._queue.put_nowait(entry)
        except queue.Full:
            self.dropped += 1
            log.error("served-list audit queue full; dropped record %s (%s %s)", entry.id,
                      entry.endpoint, entry.subject_id)
        return entry.id

    def flush(self) -> None:
        """Block until everything queued so far has been written (or has failed)."""
        self._queue.join()

    def close(self, timeout: float = 10.0) -> None:
        """Drain the queue and stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            entries = [e for e in batch if e is not None]
            try:
                if entries:
                    self.written += self.store.log_served_list(*entries)
            except Exception:
                self.failed += len(entries)
                log.exception("could not write %d served-list audit records (%s)", len(entries),
                              ", ".join(e.id for e in entries))
            finally:
                for _ in batch:
                    self._queue.task_done()
            if None in batch:
                return
