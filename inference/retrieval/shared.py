"""Retrieval indexes shared by the API's worker processes through one memory-mapped file.

Every worker builds the same candidate index over the same employee vectors; at 100,000
employees that is a few hundred MB per worker and, for HNSW, a minute of building each.
`shared_vector_index` builds it once, saves it beside the bundle (``.serving-arrays/``, one file
per content key), and every worker, the builder included, maps that file read-only
(`VectorIndex.load`), so the vectors and the graph live once in the page cache. The key hashes
everything the index is built from, so a new bundle, a changed organization or a new rejection
gets a new file; the builder holds a lock on ``<key>.lock`` (other workers wait for its file
instead of building their own) and writes aside, then renames into place, so no worker maps
half a file. Where the folder cannot be written the index stays in the process.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np

from inference.retrieval.indexes import VectorIndex

log = logging.getLogger(__name__)
FOLDER = ".serving-arrays"
"""Beside the bundle folder (never inside it: a bundle's files are hashed and DVC-tracked)."""


def arrays_folder(bundle_path: Path) -> Path:
    return bundle_path.parent / FOLDER


def content_key(*parts: Any, ids: Iterable[str] = ()) -> str:
    """A hex digest of JSON-serialisable ``parts`` and an ordered id list."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode())
    for i in ids:
        digest.update(i.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:32]


def rejected_digest(rejected: Mapping[str, Iterable[str]]) -> str:
    return content_key(sorted((k, sorted(v)) for k, v in rejected.items() if v))


def shared_vector_index(folder: Path, key: str, vectors: Callable[[], np.ndarray],
                        **options: int) -> VectorIndex:
    """The index over ``vectors()`` saved as ``folder/<key>.faiss``, memory-mapped; built (and
    saved) only when no such file exists yet."""
    path = folder / f"{key}.faiss"
    ef_search = options.get("ef_search", 192)
    try:
        lock = building(folder, key)
    except OSError as exc:
        log.warning("cannot share the index in %s (%s); keeping it in this process", folder, exc)
        return VectorIndex(vectors(), **options)
    with lock:  # a second worker waits here for the first one's file instead of building too
        if path.is_file():
            try:
                return VectorIndex.load(path, ef_search=ef_search)
            except RuntimeError as exc:  # unreadable: rebuild it below
                log.warning("rebuilding %s: %s", path, exc)
        index = VectorIndex(vectors(), **options)
        try:
            index.save(path)
        except OSError as exc:
            log.warning("cannot share the index at %s (%s); keeping it in this process",
                        path, exc)
            return index
        return VectorIndex.load(path, ef_search=ef_search)


@contextmanager
def _locked(handle: IO[bytes]) -> Iterator[None]:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def building(folder: Path, key: str) -> AbstractContextManager[None]:
    """An exclusive lock on ``folder/<key>.lock`` (created with the folder): held by the one
    process building that key's files. Raises OSError when the folder cannot be written."""
    folder.mkdir(parents=True, exist_ok=True)
    return _locked((folder / f"{key}.lock").open("ab"))
