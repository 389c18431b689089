"""Strict readers for delimited source files (ESCO CSV, O*NET tab-separated text).

Every problem is raised as a `SourceFormatError` naming the file, the 1-based line where the
record starts and the 1-based column (field) at fault. Nothing is yielded from a file whose
header is wrong, and a truncated record (an unterminated quote, missing fields) is an error,
never a silently shortened row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from features.errors import MissingSourceError, SourceFormatError

csv.field_size_limit(10_000_000)


@dataclass(frozen=True, slots=True)
class Row:
    """One record of a source file, with enough context to report an error in it."""

    path: Path
    line: int
    header: dict[str, int]
    values: list[str]

    def __getitem__(self, column: str) -> str:
        return self.values[self.header[column]]

    def error(self, column: str, message: str) -> SourceFormatError:
        return SourceFormatError(self.path, self.line, self.header[column] + 1, message)

    def required(self, column: str) -> str:
        value = self[column].strip()
        if not value:
            raise self.error(column, f"column {column!r} is empty")
        return value

    def integer(self, column: str) -> int:
        raw = self[column].strip()
        try:
            return int(float(raw)) if "." in raw else int(raw)
        except ValueError:
            message = f"column {column!r}: expected an integer, got {raw!r}"
            raise self.error(column, message) from None

    def number(self, column: str) -> float:
        raw = self[column].strip()
        try:
            return float(raw)
        except ValueError:
            raise self.error(column, f"column {column!r}: expected a number, got {raw!r}") from None

    def flag(self, column: str) -> bool:
        raw = self[column].strip().upper()
        if raw in {"Y", "YES", "TRUE", "1"}:
            return True
        if raw in {"N", "NO", "FALSE", "0", ""}:
            return False
        raise self.error(column, f"column {column!r}: expected Y or N, got {raw!r}")

    def lines_list(self, column: str) -> tuple[str, ...]:
        """ESCO packs alternative labels one per line inside a quoted field."""
        return tuple(part.strip() for part in self[column].splitlines() if part.strip())


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SourceFormatError(path, line, column, f"not valid UTF-8 ({exc.reason})") from None


def read_rows(path: Path, required: Sequence[str], *, delimiter: str = ",") -> Iterator[Row]:
    """Yield the records of ``path``; the header must contain every ``required`` column.

    Comma files follow RFC 4180 quoting (ESCO); tab files are unquoted (O*NET).
    """
    if not path.is_file():
        raise MissingSourceError(f"{path}: source file not found")
    text = _decode(path)
    if delimiter == "\t":
        reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    else:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header_values = next(reader)
    except StopIteration:
        raise SourceFormatError(path, 1, 1, "file is empty: no header row") from None
    except csv.Error as exc:
        raise SourceFormatError(path, 1, 1, f"unreadable header: {exc}") from None
    header = {name.strip(): index for index, name in enumerate(header_values)}
    for index, name in enumerate(required):
        if name not in header:
            raise SourceFormatError(
                path, 1, min(index + 1, len(header_values) + 1),
                f"missing column {name!r}; header has {sorted(header)}",
            )
    width = len(header_values)
    next_line = reader.line_num + 1
    while True:
        start = next_line
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise SourceFormatError(path, start, 1, f"malformed record: {exc}") from None
        next_line = reader.line_num + 1
        if not values or (len(values) == 1 and not values[0].strip()):
            continue
        if len(values) != width:
            column = min(len(values), width) + 1
            raise SourceFormatError(
                path, start, column,
                f"expected {width} fields, found {len(values)} (truncated or misquoted record?)",
            )
        yield Row(path, start, header, values)
