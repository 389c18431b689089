"""The skills inferred from each distinct text of the profiles stage, kept on disk.

At a million employees the stage reads several million distinct texts; their inferred skills
as objects would not fit in memory beside everything else. `InferredTexts` keeps them in a
SQLite file of its own (a temporary working file, not an artifact), keyed by a digest of the
source kind and the text, and hands back the skills of the texts a part of the stage needs.
"""

from __future__ import annotations

import hashlib
import pickle
import sqlite3
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from features.inferred_skills import InferredSkill, SourceKind

TextKey = tuple[SourceKind, str]
LOOKUP_PAGE = 500
"""Keys per ``IN (...)`` query (SQLite allows 999 parameters in old builds)."""


def digest(key: TextKey) -> bytes:
    source, text = key
    return hashlib.blake2b(f"{source.value}\x00{text}".encode(), digest_size=16).digest()


class InferredTexts:
    """(source kind, text) -> the skills the engine inferred from it, in a SQLite file under
    ``folder`` (a temporary directory by default) removed on `close`."""

    def __init__(self, folder: Path | None = None) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix=".inferred-texts-", dir=folder)
        self._db = sqlite3.connect(Path(self._dir.name) / "texts.sqlite")
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.execute("CREATE TABLE texts (key BLOB PRIMARY KEY, skills BLOB NOT NULL)")
        self.count = 0

    def __enter__(self) -> InferredTexts:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()
        self._dir.cleanup()

    def add(self, found: Iterable[tuple[TextKey, tuple[InferredSkill, ...]]]) -> None:
        rows = [(digest(key), pickle.dumps(skills, protocol=pickle.HIGHEST_PROTOCOL))
                for key, skills in found]
        self._db.executemany("INSERT OR REPLACE INTO texts VALUES (?, ?)", rows)
        self._db.commit()
        self.count += len(rows)

    def get(self, keys: Iterable[TextKey]) -> dict[TextKey, tuple[InferredSkill, ...]]:
        """The skills of those of ``keys`` that were inferred (a text never added is absent)."""
        by_digest = {digest(key): key for key in set(keys)}
        wanted = list(by_digest)
        out: dict[TextKey, tuple[InferredSkill, ...]] = {}
        for lo in range(0, len(wanted), LOOKUP_PAGE):
            page = wanted[lo:lo + LOOKUP_PAGE]
            marks = ",".join("?" * len(page))
            for key, blob in self._db.execute(
                    f"SELECT key, skills FROM texts WHERE key IN ({marks})", page):
                out[by_digest[key]] = pickle.loads(blob)
        return out


