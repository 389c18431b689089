"""Read and validate the files of an organization folder as streams of rows.

Each file is first scanned as bytes (`scan_file`: its SHA-256, and the place of the first byte
that is not strict UTF-8; a byte-order mark is allowed), then parsed (CSV with a header row, or
one JSON object per line) and each row validated by its `records` model as it is read
(`FileRows`): only the row being read is held, whatever the size of the file. Problems carry
the file, the physical line (a CSV header is line 1) and, for CSV, the 1-based column. Nothing
here touches the store; `features.organization.checks` checks references across files.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from features.organization.files import FILES, FileSpec
from features.organization.problems import Problems
from features.organization.records import Record

NOT_IMPORTED = ("role_occupation_links.csv",)
"""Files an export writes for people to read (how roles are linked); the import skips them."""
READ_BYTES = 1 << 20
"""Bytes read from a file at a time (the scan, and the buffer under the parser)."""


@dataclass(frozen=True)
class Row:
    """One validated row and the line it came from."""

    line: int
    record: Record


@dataclass(frozen=True)
class FileScan:
    """A file's bytes: their SHA-256, and the first byte that is not UTF-8 (None: all are)."""

    sha256: str
    bad_byte: tuple[int, int, int] | None = None
    """(line, 1-based byte column, byte value) of the first invalid byte."""


def _place(path: Path, offset: int) -> tuple[int, int]:
    """(line, 1-based byte column) of byte ``offset`` of the file."""
    line, start, done = 1, 0, 0
    with path.open("rb") as handle:
        while done < offset:
            chunk = handle.read(min(READ_BYTES, offset - done))
            if not chunk:
                break
            newlines = chunk.count(b"\n")
            if newlines:
                line += newlines
                start = done + chunk.rfind(b"\n") + 1
            done += len(chunk)
    return line, offset - start + 1


def scan_file(path: Path, digest: Any | None = None) -> FileScan:
    """One streamed pass over the bytes of ``path``: their SHA-256 (also fed to ``digest``,
    when given) and where the first byte that is not UTF-8 is."""
    sha = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    fed = 0
    bad: tuple[int, int] | None = None
    with path.open("rb") as handle:
        while chunk := handle.read(READ_BYTES):
            sha.update(chunk)
            if digest is not None:
                digest.update(chunk)
            if bad is None:
                held = len(decoder.getstate()[0])
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    bad = (fed - held + exc.start, exc.object[exc.start])
            fed += len(chunk)
    if bad is None:
        held = len(decoder.getstate()[0])
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            bad = (fed - held + exc.start, exc.object[exc.start])
    if bad is None:
        return FileScan(sha.hexdigest())
    line, column = _place(path, bad[0])
    return FileScan(sha.hexdigest(), (line, column, bad[1]))


class _Tap(io.RawIOBase):
    """A binary file that feeds every byte read through it to a SHA-256."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.raw = path.open("rb", buffering=0)
        self.sha = hashlib.sha256()
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.raw.readinto(buffer)
        if n:
            self.sha.update(memoryview(buffer)[:n])
            self.count += n
        return int(n or 0)

    def close(self) -> None:
        self.raw.close()
        super().close()


def _required(record: type[Record]) -> set[str]:
    return {name for name, info in record.model_fields.items() if info.is_required()}


@dataclass
class FileRows:
    """The valid rows of one file, validated as they are read (iterate once); problems go to
    ``problems``. Reading stops once ``problems`` is full. After (or while) iterating:
    ``columns`` (CSV header positions, 1-based), ``unreadable`` (the file could not be read
    at all: its ids are unknown), ``invalid_ids`` (ids of rows that failed validation), and
    `bytes_read` / `sha256` of the bytes read so far (the whole file once the rows ran out)."""

    path: Path
    spec: FileSpec
    problems: Problems
    columns: dict[str, int] | None = None
    unreadable: bool = False
    invalid_ids: set[str] = field(default_factory=set)
    _tap: _Tap | None = None

    @property
    def bytes_read(self) -> int:
        return self._tap.count if self._tap is not None else 0

    @property
    def sha256(self) -> str:
        return (self._tap.sha if self._tap is not None else hashlib.sha256()).hexdigest()

    def __iter__(self) -> Iterator[Row]:
        self._tap = _Tap(self.path)
        with io.TextIOWrapper(io.BufferedReader(self._tap, READ_BYTES), encoding="utf-8-sig",
                              newline="") as text:
            if self.spec.format == "csv":
                yield from self._csv(text)
            else:
                yield from self._jsonl(text)

    def _validate(self, values: dict[str, Any], line: int) -> Record | None:
        try:
            return self.spec.record.model_validate(values)
        except ValidationError as exc:
            for error in exc.errors():
                name = str(error["loc"][0]) if error["loc"] else None
                column = self.columns.get(name) if self.columns is not None and name else None
                value = values.get(name) if name else None
                shown = f" (got {value!r})" if value not in (None, "") else ""
                self.problems.add(self.spec.name, line, column, name, f"{error['msg']}{shown}")
            key = values.get(self.spec.key)
            if key:
                self.invalid_ids.add(str(key).strip())
            return None

    def _header(self, reader: Iterator[list[str]]) -> list[str] | None:
        spec, problems = self.spec, self.problems
        try:
            header = next(reader)
        except StopIteration:
            problems.add(spec.name, 1, None, None, "empty file: expected a header row")
            self.unreadable = True
            return None
        except csv.Error as exc:
            problems.add(spec.name, 1, None, None, f"malformed CSV: {exc}")
            self.unreadable = True
            return None
        header = [name.strip() for name in header]
        known = spec.record.model_fields
        self.columns = {name: i + 1 for i, name in enumerate(header)}
        bad = False
        for i, name in enumerate(header):
            if name not in known:
                problems.add(spec.name, 1, i + 1, name, "unknown column")
                bad = True
            elif header.index(name) != i:
                problems.add(spec.name, 1, i + 1, name, "column appears twice")
                bad = True
        for name in sorted(_required(spec.record) - set(header)):
            problems.add(spec.name, 1, None, name, "missing required column")
            bad = True
        if bad:
            self.unreadable = True
            return None
        return header

    def _csv(self, text: Iterable[str]) -> Iterator[Row]:
        spec, problems = self.spec, self.problems
        reader = csv.reader(text, strict=True)
        header = self._header(reader)
        if header is None:
            return
        columns = self.columns or {}
        required = _required(spec.record)
        last = reader.line_num
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                problems.add(spec.name, last + 1, None, None, f"malformed CSV: {exc}")
                break
            line, last = last + 1, reader.line_num
            if problems.full:
                break
            if not cells or (all(not c.strip() for c in cells) and len(cells) <= 1):
                continue
            if len(cells) != len(header):
                problems.add(spec.name, line, None, None,
                             f"{len(cells)} cells, the header has {len(header)}")
                continue
            values: dict[str, Any] = {}
            missing = False
            for name, cell in zip(header, cells, strict=True):
                if cell.strip():
                    values[name] = cell
                elif name in required:
                    problems.add(spec.name, line, columns[name], name, "required value is empty")
                    missing = True
            if missing:
                if values.get(spec.key):
                    self.invalid_ids.add(str(values[spec.key]).strip())
                continue
            record = self._validate(values, line)
            if record is not None:
                yield Row(line, record)

    def _jsonl(self, text: Iterable[str]) -> Iterator[Row]:
        spec, problems = self.spec, self.problems
        for number, line in enumerate(text, start=1):
            if problems.full:
                break
            raw = line.rstrip("\r\n")  # a JSON error's column counts within the line
            if not raw.strip():
                continue
            try:
                value = json.loads(raw)
            except json.JSONDecodeError as exc:
                problems.add(spec.name, number, exc.colno, None, f"invalid JSON: {exc.msg}")
                continue
            if not isinstance(value, dict):
                problems.add(spec.name, number, 1, None, "expected one JSON object per line")
                continue
            record = self._validate(value, number)
            if record is not None:
                yield Row(number, record)


def folder_problems(folder: Path, problems: Problems) -> bool:
    """Whether ``folder`` is a folder (if not, that is a problem); each file in it the format
    does not know is a problem too."""
    if not folder.is_dir():
        problems.add(str(folder), 0, None, None, "not a folder")
        return False
    known = {spec.name for spec in FILES} | set(NOT_IMPORTED)
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix in (".csv", ".jsonl") and path.name not in known:
            problems.add(path.name, 0, None, None,
                         "unknown file (see docs/data-format.md for the files)")
    return True


class _Ignored(Problems):
    """Problems that are neither kept nor counted (so never full)."""

    def add(self, file: str, line: int, column: int | None, name: str | None,
            message: str) -> None:
        return None


def ignored() -> Problems:
    """A sink for the problems of a file read again for something else (already reported)."""
    return _Ignored(limit=1)


def first_lines(path: Path, spec: FileSpec, keys: Iterable[str]) -> dict[str, int]:
    """The line of the first valid row of each of ``keys`` (read again: problems ignored)."""
    wanted = set(keys)
    found: dict[str, int] = {}
    for row in FileRows(path, spec, ignored()):
        key = getattr(row.record, spec.key)
        if key in wanted and key not in found:
            found[key] = row.line
            if len(found) == len(wanted):
                break
    return found


def chunked(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    """``rows`` in lists of at most ``size``."""
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
