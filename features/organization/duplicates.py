"""Repeated ids: within a file, and across the four evidence files (one id space), found with
little memory.

A file other rows reference keeps its exact id set anyway (`checks.FolderCheck`), so its
repeats are found as they come (`Duplicates.exact`). Every other file (the large ones:
evidence, events) keeps one 64-bit hash per row instead (8 bytes, where a string in a Python
set takes about 100): at the end of the file the hashes are sorted, and only when two are equal
(a repeated id, or, rarely, two ids with the same hash), or equal to one of an earlier evidence
file, is the file read again to find the exact ids and their lines. Repeats are kept in the
order a check of the whole folder reports them: file by file, row by row.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from features.organization.files import BY_NAME, EVIDENCE_FILES, FileSpec
from features.organization.problems import Problems
from features.organization.reader import FileRows, first_lines, ignored


@dataclass(frozen=True)
class Duplicate:
    file: str
    line: int
    column: int | None
    key: str
    other: str | None = None
    """The evidence file that used the id first; None: a repeat within the file."""
    first: int | None = None
    """The line the id was first on (a repeat within the file; None: not looked up yet)."""


class Duplicates:
    """The repeated ids of a folder read file by file (see the module)."""

    def __init__(self, folder: Path, limit: int) -> None:
        self.folder, self.limit = folder, limit
        self.found: list[Duplicate] = []
        self.total = 0
        self._hashes = array("q")
        self._evidence: dict[str, tuple[np.ndarray, int]] = {}
        """Sorted distinct hashes of the evidence files read so far, and their last lines."""

    def _add(self, found: Duplicate) -> None:
        self.total += 1
        if len(self.found) < self.limit:
            self.found.append(found)

    def exact(self, spec: FileSpec, key: str, line: int, column: int | None,
              keys: set[str]) -> None:
        """A row of a file whose ids are kept exactly (``keys``: those seen so far)."""
        if key in keys:
            self._add(Duplicate(spec.name, line, column, key))
        else:
            keys.add(key)

    def hashed(self, key: str) -> None:
        """A row of any other file (the file's rows in order)."""
        self._hashes.append(hash(key))

    def end(self, spec: FileSpec, last_line: int, later_evidence: bool) -> None:
        """The hashed file ``spec`` was read up to ``last_line`` (its last valid row);
        ``later_evidence``: an evidence file may follow, so keep its hashes."""
        hashes = np.sort(np.frombuffer(self._hashes, dtype=np.int64)) if self._hashes \
            else np.empty(0, dtype=np.int64)
        self._hashes = array("q")
        repeated = set(hashes[1:][hashes[1:] == hashes[:-1]].tolist())
        distinct = np.unique(hashes)
        shared: dict[str, set[int]] = {}
        if spec.name in EVIDENCE_FILES:
            for other, (seen, _) in self._evidence.items():
                common = np.intersect1d(distinct, seen, assume_unique=True)
                if common.size:
                    shared[other] = set(common.tolist())
            if later_evidence:
                self._evidence[spec.name] = (distinct, last_line)
        if repeated or shared:
            self._read_again(spec, last_line, repeated, shared)

    def end_evidence(self) -> None:
        """No evidence file follows: their hashes are dropped."""
        self._evidence.clear()

    def _read_again(self, spec: FileSpec, last_line: int, repeated: set[int],
                    shared: dict[str, set[int]]) -> None:
        """The repeats of ``spec``, from the exact ids whose hashes are ``repeated`` within it
        or ``shared`` with an earlier evidence file (read again, up to ``last_line``)."""
        earlier = {other: _keys(self.folder / other, BY_NAME[other], hashes,
                                self._evidence[other][1])
                   for other, hashes in shared.items()}
        candidates = repeated.union(*shared.values())
        first: dict[str, int] = {}
        rows = FileRows(self.folder / spec.name, spec, ignored())
        for row in rows:
            if row.line > last_line:
                break
            key = getattr(row.record, spec.key)
            if hash(key) not in candidates:
                continue
            column = (rows.columns or {}).get(spec.key)
            if key in first:
                self._add(Duplicate(spec.name, row.line, column, key, first=first[key]))
            else:
                first[key] = row.line
            for other in EVIDENCE_FILES:
                if key in earlier.get(other, ()):
                    self._add(Duplicate(spec.name, row.line, column, key, other=other))
                    break

    def problems(self) -> Problems:
        """The repeats as problems (the first lines of exact ones looked up now)."""
        wanted: dict[str, set[str]] = {}
        for found in self.found:
            if found.other is None and found.first is None:
                wanted.setdefault(found.file, set()).add(found.key)
        lines = {name: first_lines(self.folder / name, BY_NAME[name], keys)
                 for name, keys in wanted.items()}
        out = Problems(self.limit)
        for found in self.found:
            if found.other is not None:
                message = (f"id {found.key!r} is also used in {found.other} (the evidence "
                           "files share one id space)")
            else:
                first = found.first if found.first is not None else lines[found.file][found.key]
                message = f"duplicate id {found.key!r} (first on line {first})"
            out.add(found.file, found.line, found.column, BY_NAME[found.file].key, message)
        out.total = self.total
        return out


def _keys(path: Path, spec: FileSpec, hashes: set[int], last_line: int) -> set[str]:
    """The ids of the valid rows of ``path`` (up to ``last_line``) with these hashes."""
    found: set[str] = set()
    for row in FileRows(path, spec, ignored()):
        if row.line > last_line:
            break
        key = getattr(row.record, spec.key)
        if hash(key) in hashes:
            found.add(key)
    return found
