"""The model the API serves: a `Recommender` behind a `BundleHolder`, loaded at start-up in the
background and reloaded on demand.

Requests take ``current`` once and use that object to the end, so a reload (which swaps the
reference only after the new recommender is fully built) never drops or mixes an in-flight
request, and a model that fails to load never replaces the one serving.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from features.errors import WaypointError
from features.settings import Settings
from features.store import Store
from inference.artifacts.bundle import BundleHolder
from inference.ranking.recommender import Recommender
from inference.ranking.responses import ModelStatus

log = logging.getLogger(__name__)
NO_CHAMPION = "no champion model: run dvc repro"


class NoChampion(WaypointError):
    """The registry has no champion yet (or no registry exists)."""


def registry_exists(tracking_uri: str) -> bool:
    """False for a SQLite or file registry that is not there (MLflow would create an empty
    one as a side effect of looking)."""
    if tracking_uri.startswith("sqlite:"):
        database = make_url(tracking_uri).database
        return database is not None and database != ":memory:" and Path(database).is_file()
    if tracking_uri.startswith("file:") or "://" not in tracking_uri:
        return Path(tracking_uri.removeprefix("file://").removeprefix("file:")).exists()
    return True


def champion_loader(settings: Settings, store: Store) -> Callable[[], Recommender]:
    """Resolve ``models:/<name>@champion``, fetch its bundle into the serving cache, build the
    recommender over the store."""

    def load() -> Recommender:
        if not registry_exists(settings.mlflow_tracking_uri):
            raise NoChampion(f"{NO_CHAMPION} (no registry at {settings.mlflow_tracking_uri})")
        from inference.artifacts.registry import load_champion_bundle

        try:
            bundle = load_champion_bundle(settings.mlflow_tracking_uri, settings.model_name,
                                          settings.artifact_dir / "serving_cache")
        except WaypointError as exc:
            if "does not exist" in str(exc):
                raise NoChampion(f"{NO_CHAMPION} ({exc})") from None
            raise
        return Recommender(bundle, store, live_refresh_s=settings.live_refresh_seconds)

    return load


class ServingModel:
    """Holds the serving `Recommender`; ``state`` is ``loading``, ``ready`` or ``unavailable``."""

    def __init__(self, loader: Callable[[], Recommender]) -> None:
        self.holder = BundleHolder(loader)
        self._loading = threading.Event()
        self._loaded = threading.Event()

    @property
    def current(self) -> Recommender | None:
        current: Recommender | None = self.holder.current
        return current

    @property
    def state(self) -> str:
        if self.current is not None:
            return "ready"
        return "loading" if self._loading.is_set() else "unavailable"

    @property
    def last_error(self) -> str | None:
        return self.holder.last_error

    def reload(self) -> Recommender:
        """Build a new recommender and swap it in; on failure keep the old one and re-raise."""
        self._loading.set()
        try:
            recommender: Recommender = self.holder.reload()
            return recommender
        finally:
            self._loading.clear()
            self._loaded.set()

    def load_in_background(self) -> threading.Thread:
        """Start the first load without blocking start-up (the API answers 503 meanwhile)."""
        self._loading.set()

        def run() -> None:
            try:
                self.reload()
            except NoChampion as exc:
                log.warning("serving without a model: %s", exc)
            except Exception as exc:  # logged by the holder; the app keeps running
                log.error("could not load the champion model: %s", exc)

        thread = threading.Thread(target=run, name="load-champion", daemon=True)
        thread.start()
        return thread

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the first load attempt to finish (tests, readiness probes)."""
        return self._loaded.wait(timeout)

    def status(self) -> ModelStatus:
        current = self.current
        if current is None:
            return ModelStatus(state=self.state, last_error=self.last_error)
        return current.status().model_copy(update={"last_error": self.last_error})
