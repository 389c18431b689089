"""Read and validate every file of an organization folder, collecting every problem.

Each file is decoded as strict UTF-8 (a byte-order mark is allowed), parsed (CSV with a header
row, or one JSON object per line) and each row validated by its `records` model. Problems carry
the file, the physical line (a CSV header is line 1) and, for CSV, the 1-based column. Nothing
here touches the store; `features.organization.checks` then checks references across files.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from features.organization.files import FILES, FileSpec
from features.organization.problems import Problems
from features.organization.records import Record

NOT_IMPORTED = ("role_occupation_links.csv",)
"""Files an export writes for people to read (how roles are linked); the import skips them."""


@dataclass(frozen=True)
class Row:
    """One validated row and the line it came from."""

    line: int
    record: Record


@dataclass
class ParsedFolder:
    """Every file that was present, as validated rows; ``present`` lists the files found."""

    folder: Path
    rows: dict[str, list[Row]] = field(default_factory=dict)
    present: set[str] = field(default_factory=set)
    columns: dict[str, dict[str, int]] = field(default_factory=dict)
    """CSV header positions per file (1-based), for problems found after parsing."""
    unreadable: set[str] = field(default_factory=set)
    """Files that could not be read at all (encoding, header): their ids are unknown, so
    references to them are not checked (that would only repeat the one problem)."""
    invalid_ids: dict[str, set[str]] = field(default_factory=dict)
    """Ids of rows that failed validation (already reported): references to them are not
    reported again."""

    def records(self, name: str) -> list[Any]:
        return [row.record for row in self.rows.get(name, [])]

    def take(self, name: str) -> list[Any]:
        """The records of ``name``, removed from the folder (frees them once converted)."""
        return [row.record for row in self.rows.pop(name, [])]


def _decode(spec: FileSpec, data: bytes, problems: Problems) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        problems.add(spec.name, line, column, None,
                     f"invalid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8")
        return None


def _required(record: type[Record]) -> set[str]:
    return {name for name, info in record.model_fields.items() if info.is_required()}


def _validate(spec: FileSpec, values: dict[str, Any], line: int, columns: dict[str, int] | None,
              problems: Problems) -> Record | None:
    try:
        return spec.record.model_validate(values)
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else None
            column = columns.get(name) if columns is not None and name else None
            value = values.get(name) if name else None
            shown = f" (got {value!r})" if value not in (None, "") else ""
            problems.add(spec.name, line, column, name, f"{error['msg']}{shown}")
        return None


def _read_csv(spec: FileSpec, text: str, problems: Problems,
              parsed: ParsedFolder) -> list[Row]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        problems.add(spec.name, 1, None, None, "empty file: expected a header row")
        parsed.unreadable.add(spec.name)
        return []
    except csv.Error as exc:
        problems.add(spec.name, 1, None, None, f"malformed CSV: {exc}")
        parsed.unreadable.add(spec.name)
        return []
    header = [name.strip() for name in header]
    known = spec.record.model_fields
    columns = {name: i + 1 for i, name in enumerate(header)}
    parsed.columns[spec.name] = columns
    bad_header = False
    for i, name in enumerate(header):
        if name not in known:
            problems.add(spec.name, 1, i + 1, name, "unknown column")
            bad_header = True
        elif header.index(name) != i:
            problems.add(spec.name, 1, i + 1, name, "column appears twice")
            bad_header = True
    for name in sorted(_required(spec.record) - set(header)):
        problems.add(spec.name, 1, None, name, "missing required column")
        bad_header = True
    if bad_header:
        parsed.unreadable.add(spec.name)
        return []
    required = _required(spec.record)
    rows: list[Row] = []
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
        record = None if missing else _validate(spec, values, line, columns, problems)
        if record is not None:
            rows.append(Row(line, record))
        elif values.get(spec.key):
            parsed.invalid_ids.setdefault(spec.name, set()).add(str(values[spec.key]).strip())
    return rows


def _read_jsonl(spec: FileSpec, text: str, problems: Problems,
                _parsed: ParsedFolder) -> list[Row]:
    rows: list[Row] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if problems.full:
            break
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
        record = _validate(spec, value, number, None, problems)
        if record is not None:
            rows.append(Row(number, record))
        elif value.get(spec.key):
            _parsed.invalid_ids.setdefault(spec.name, set()).add(str(value[spec.key]).strip())
    return rows


def read_folder(folder: Path, problems: Problems) -> ParsedFolder:
    """Every known file in ``folder``, validated row by row; problems are collected, not
    raised. A missing required file and any unknown file in the folder are problems too."""
    parsed = ParsedFolder(folder)
    if not folder.is_dir():
        problems.add(str(folder), 0, None, None, "not a folder")
        return parsed
    known = {spec.name for spec in FILES} | set(NOT_IMPORTED)
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix in (".csv", ".jsonl") and path.name not in known:
            problems.add(path.name, 0, None, None,
                         "unknown file (see docs/data-format.md for the files)")
    for spec in FILES:
        path = folder / spec.name
        if not path.is_file():
            if spec.required:
                problems.add(spec.name, 0, None, None, "required file is missing")
            continue
        parsed.present.add(spec.name)
        text = _decode(spec, path.read_bytes(), problems)
        if text is None:
            parsed.unreadable.add(spec.name)
            continue
        read = _read_csv if spec.format == "csv" else _read_jsonl
        parsed.rows[spec.name] = read(spec, text, problems, parsed)
    return parsed
