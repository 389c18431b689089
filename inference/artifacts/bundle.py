"""The model bundle: everything serving needs, travelling as one folder, loaded by one call.

A bundle folder holds ``manifest.json`` (model name and version, encoder id, the ordered feature
list, data versions, file hashes, metrics, and the complete serving policy: re-ranking, its
fitted offsets, retrieval depths, the profile snapshot) and the files it names: the LightGBM ranker
(``ranker.txt``) and whatever indexes and tables the recommender reads. The feature list saved
at training time is checked against the code's at load time, so training-serving skew fails
loudly instead of ranking with shuffled columns.

``BundleHolder`` swaps bundles atomically: a request keeps the bundle it started with, and a
bundle that fails to load never replaces the one serving.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import lightgbm as lgb
from pydantic import BaseModel, ConfigDict, Field

from features.errors import WaypointError
from features.params import RerankPolicy, ServingParams
from features.ranking import check_feature_names

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"
RANKER_FILE = "ranker.txt"


class BundleError(WaypointError):
    """A bundle is missing, corrupt, or does not match the serving code."""


class ServingPolicy(BaseModel):
    """How the bundle's model is served and audited, fixed when it is trained: serving and
    ``waypoint audit --version N`` read it from the bundle, never from params.yaml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    serving: ServingParams
    """Retrieval depths, reasons per item, index settings."""
    rerank: RerankPolicy
    small_group_threshold: float
    """Groups under this share of a pool are reported, not the reference (``fairness:``)."""
    profiles_as_of: date
    """Snapshot date of the bundle's ``profiles/``; features are computed as of the day after."""
    profiles_engine: str
    """The skills engine (encoder folder or id) that built those profiles."""


class Manifest(BaseModel):
    model_name: str
    model_version: str | None = None
    created_at: datetime
    encoder: str
    feature_names: list[str]
    data_versions: dict[str, str | None] = Field(default_factory=dict)
    files: dict[str, str] = Field(default_factory=dict)
    """File name (relative to the bundle) -> SHA-256."""
    metrics: dict[str, float] = Field(default_factory=dict)
    rerank_offsets: dict[str, dict[str, float]] = Field(default_factory=dict)
    """Fair re-ranking group offsets fitted with this model, ``{dimension: {group: offset}}``
    (`inference.fairness.offsets`): aggregates per group, no person's attribute."""
    policy: ServingPolicy


@dataclass(frozen=True)
class ModelBundle:
    path: Path
    manifest: Manifest
    ranker: lgb.Booster

    @property
    def version(self) -> str:
        return self.manifest.model_version or "unregistered"

    def with_policy(self, policy: ServingPolicy) -> ModelBundle:
        """The same model served under another policy (tests, the trade-off tools); the
        files on disk are unchanged."""
        return ModelBundle(self.path, self.manifest.model_copy(update={"policy": policy}),
                           self.ranker)

    def file(self, name: str) -> Path:
        if name not in self.manifest.files:
            raise BundleError(f"{self.path}: bundle has no file {name!r}")
        return self.path / name


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_bundle(
    target: Path,
    *,
    model_name: str,
    ranker: lgb.Booster,
    feature_names: Sequence[str],
    encoder: str,
    data_versions: Mapping[str, str | None],
    extra_files: Mapping[str, Path] | None = None,
    metrics: Mapping[str, float] | None = None,
    policy: ServingPolicy,
    rerank_offsets: Mapping[str, Mapping[str, float]] | None = None,
) -> Manifest:
    """Write a complete bundle to ``target`` atomically (built aside, then renamed into place)."""
    check_feature_names(feature_names)
    if list(ranker.feature_name()) != list(feature_names):
        raise BundleError("the ranker's feature names differ from the feature list")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".bundle-", dir=target.parent))
    try:
        ranker.save_model(str(staging / RANKER_FILE))
        for name, source in (extra_files or {}).items():
            destination = staging / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
        files = {
            p.relative_to(staging).as_posix(): _sha256(p)
            for p in sorted(staging.rglob("*")) if p.is_file()
        }
        manifest = Manifest(
            model_name=model_name, created_at=datetime.now(UTC), encoder=encoder,
            feature_names=list(feature_names), data_versions=dict(data_versions), files=files,
            metrics={k: float(v) for k, v in (metrics or {}).items()},
            rerank_offsets={d: {g: float(v) for g, v in o.items()}
                            for d, o in (rerank_offsets or {}).items()},
            policy=policy,
        )
        (staging / MANIFEST).write_text(manifest.model_dump_json(indent=2))
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
        return manifest
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def load_bundle(
    path: Path, *, model_version: str | None = None, verify: bool = True
) -> ModelBundle:
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise BundleError(f"{path}: not a model bundle (no {MANIFEST})")
    try:
        manifest = Manifest.model_validate_json(manifest_path.read_text())
    except ValueError as exc:
        raise BundleError(f"{manifest_path}: unreadable manifest: {exc}") from None
    try:
        check_feature_names(manifest.feature_names)
    except ValueError as exc:
        raise BundleError(f"{path}: {exc}") from None
    if verify:
        for name, digest in manifest.files.items():
            file = path / name
            if not file.is_file() or _sha256(file) != digest:
                raise BundleError(f"{path}: {name} is missing or does not match its hash")
    ranker = lgb.Booster(model_file=str(path / RANKER_FILE))
    if model_version is not None:
        manifest = manifest.model_copy(update={"model_version": model_version})
    return ModelBundle(path=path, manifest=manifest, ranker=ranker)


class BundleHolder:
    """Holds the serving bundle (and whatever is built from it); reload swaps atomically."""

    def __init__(self, loader: Callable[[], Any]) -> None:
        self._loader = loader
        self._lock = threading.Lock()
        self._current: Any = None
        self.last_error: str | None = None

    @property
    def current(self) -> Any:
        return self._current

    def reload(self) -> Any:
        """Load a new one; on failure keep serving the old one and re-raise."""
        with self._lock:
            try:
                fresh = self._loader()
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.error("model reload failed; keeping the current model: %s", exc)
                raise
            self._current = fresh
            self.last_error = None
            return fresh
