"""Ingest stage: ESCO and O*NET files -> the store, idempotent and transactional.

Every file is parsed and validated before the store is touched, and the replace runs in one
transaction, so a malformed file or a failure half-way leaves the previous data intact. The data
version is a hash of the source files; ingesting the same files twice changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from features.errors import MissingSourceError
from features.store import Store
from features.taxonomy import read_reference_data, source_paths

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestResult:
    version: str
    changed: bool
    counts: dict[str, int]


def data_version(data_dir: Path) -> str:
    """SHA-256 over the names and bytes of every source file, in a fixed order."""
    digest = hashlib.sha256()
    for path in source_paths(data_dir):
        if not path.is_file():
            raise MissingSourceError(
                f"{path}: source file not found (set WAYPOINT_DATA_DIR, or run `waypoint data "
                "fetch` where the internet is reachable)"
            )
        digest.update(path.relative_to(data_dir).as_posix().encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def ingest_reference_data(data_dir: Path, store: Store, *, force: bool = False) -> IngestResult:
    store.create_schema()
    version = data_version(data_dir)
    if not force and store.dataset_version("reference") == version:
        log.info("reference data %s already ingested; nothing to do", version)
        return IngestResult(version=version, changed=False, counts={})
    reference = read_reference_data(data_dir)
    counts = store.replace_reference_data(reference, version)
    log.info("ingested reference data %s: %s", version, counts)
    return IngestResult(version=version, changed=True, counts=counts)
