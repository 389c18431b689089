"""Employee profiles read one at a time from a memory-mapped file, shared by the API's workers.

The bundle carries every current profile in ``profiles/employee_profiles.jsonl.gz``; parsing all
of them into objects costs every worker about 1 GB at 100,000 employees. `ProfileLines` instead
decompresses the file once into ``<folder>/<key>.jsonl`` with a ``<key>.offsets.npy`` line index
(written aside, then renamed into place, so no worker maps half a file), maps both read-only and
parses a profile when it is asked for. Workers mapping the same file share its pages. A line
that does not parse is reported as `SourceFormatError` naming the bundle's file and line.
"""

from __future__ import annotations

import gzip
import json
import mmap
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from features.domain import EmployeeProfile
from features.errors import SourceFormatError
from inference.retrieval.shared import building


def _unpack(source: Path, lines: Path, offsets: Path) -> None:
    """``source`` (gzip JSON lines) -> plain ``lines`` + the start offset of each non-blank one
    (and the end), each file written aside and renamed into place."""
    tag = f".{os.getpid()}.partial"
    part_lines, part_offsets = lines.with_name(lines.name + tag), offsets.with_name(
        offsets.name + tag)
    starts: list[int] = []
    numbers: list[int] = []
    try:
        with gzip.open(source, "rb") as src, part_lines.open("wb") as out:
            position = 0
            for number, line in enumerate(src, start=1):
                if not line.strip():
                    continue
                if not line.endswith(b"\n"):
                    line += b"\n"
                starts.append(position)
                numbers.append(number)
                out.write(line)
                position += len(line)
            starts.append(position)
        with part_offsets.open("wb") as handle:
            np.save(handle, np.array([starts, [*numbers, 0]], dtype=np.int64))
        os.replace(part_lines, lines)
        os.replace(part_offsets, offsets)
    finally:
        part_lines.unlink(missing_ok=True)
        part_offsets.unlink(missing_ok=True)


class ProfileLines(Mapping[str, EmployeeProfile]):
    """``{employee_id: EmployeeProfile}`` over the bundle's profiles file, parsed on access."""

    def __init__(self, source: Path, folder: Path, key: str) -> None:
        self.source = source
        lines, offsets = folder / f"{key}.jsonl", folder / f"{key}.offsets.npy"
        if not (lines.is_file() and offsets.is_file()):
            with building(folder, key):  # one worker unpacks; the others wait, then map
                if not (lines.is_file() and offsets.is_file()):
                    _unpack(source, lines, offsets)
        index = np.load(offsets, mmap_mode="r")
        self._starts, self._numbers = index[0], index[1]
        with lines.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            self._data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        self._rows: dict[str, int] = {}
        for row in range(len(self._starts) - 1):
            self._rows[self._employee_id(row)] = row

    def _line(self, row: int) -> bytes:
        return self._data[int(self._starts[row]):int(self._starts[row + 1])]

    def _fail(self, row: int, message: str) -> SourceFormatError:
        return SourceFormatError(self.source, int(self._numbers[row]), 1, message)

    def _employee_id(self, row: int) -> str:
        line = self._line(row)
        key = b'"employee_id":'
        at = line.find(key)
        if at < 0:
            raise self._fail(row, "no employee_id")
        try:
            value = json.JSONDecoder().raw_decode(line[at + len(key):].decode().lstrip())[0]
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise self._fail(row, f"invalid JSON: {exc}") from None
        return str(value)

    def _parse(self, row: int) -> EmployeeProfile:
        try:
            return EmployeeProfile.model_validate_json(self._line(row))
        except ValueError as exc:
            raise self._fail(row, f"invalid profile: {exc}") from None

    def __getitem__(self, employee_id: str) -> EmployeeProfile:
        return self._parse(self._rows[employee_id])

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


def shared_profiles(source: Path, folder: Path, digest: str | None
                    ) -> Mapping[str, EmployeeProfile] | None:
    """`ProfileLines` over ``source`` keyed by its SHA-256 (``digest``, from the bundle's
    manifest); None when there is no digest or ``folder`` cannot be written (the caller then
    reads the profiles into memory)."""
    if digest is None:
        return None
    try:
        return ProfileLines(source, folder, f"profiles-{digest[:32]}")
    except OSError:
        return None
