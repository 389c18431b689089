"""The skills engine the API serves: loaded once at start-up, in the background.

``state`` is ``loading`` until the model and its index are in memory, then ``ready``, or
``unavailable`` (with the error) when the artifacts are not there; ``POST /v1/skills/infer``
answers 503 until ``ready`` and ``/readyz`` reports not ready. Nothing is built lazily.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from inference.skills.engine import SkillEngine

log = logging.getLogger(__name__)


class ServingSkillEngine:
    def __init__(self, loader: Callable[[], SkillEngine],
                 engine: SkillEngine | None = None) -> None:
        self._loader = loader
        self._engine = engine
        self._error: str | None = None
        self._done = threading.Event()
        if engine is not None:
            self._done.set()

    @property
    def engine(self) -> SkillEngine | None:
        return self._engine

    @property
    def state(self) -> str:
        if self._engine is not None:
            return "ready"
        return "loading" if not self._done.is_set() else "unavailable"

    @property
    def last_error(self) -> str | None:
        return self._error

    def load(self) -> None:
        try:
            self._engine = self._loader()
            log.info("skills engine ready: %s", self._engine.encoder.name)
        except Exception as exc:  # the app keeps running; /readyz and the route say why
            self._error = str(exc)
            log.error("could not load the skills engine: %s", exc)
        finally:
            self._done.set()

    def load_in_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.load, name="load-skills-engine", daemon=True)
        thread.start()
        return thread

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the load attempt to finish (tests, readiness probes)."""
        return self._done.wait(timeout)
