"""The first pass of an import: every file of a folder read as a stream and validated, row by
row (`features.organization.reader`) and across rows and files
(`features.organization.checks`), keeping only id sets, the roles and the occupation overrides
(small: they are linked before anything is written). Each file's bytes are hashed on the way:
the folder's version, and what the second pass (`features.organization.sync`) checks it reads
again."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from tqdm import tqdm

from features.organization.checks import FolderCheck, KnownIds
from features.organization.files import FILES, FileSpec
from features.organization.problems import InvalidOrganization, Problems
from features.organization.reader import FileRows, folder_problems, scan_file
from features.organization.records import OccupationOverrideRecord, RoleRecord

log = logging.getLogger(__name__)

PROGRESS_ROWS = 2_000
"""Rows between two updates of a progress bar."""


@dataclass
class ValidFolder:
    """What the first pass keeps of a valid folder."""

    folder: Path
    version: str
    """SHA-256 over the names and bytes of the files present (16 hex digits)."""
    files: list[FileSpec] = field(default_factory=list)
    sha256: dict[str, str] = field(default_factory=dict)
    roles: list[RoleRecord] = field(default_factory=list)
    overrides: dict[str, OccupationOverrideRecord] = field(default_factory=dict)
    employee_ids: set[str] = field(default_factory=set)


def folder_version(folder: Path) -> str:
    """SHA-256 over the names and bytes of the format's files present in ``folder`` (read in
    chunks; `validate_folder` computes the same on its way)."""
    digest = hashlib.sha256()
    for spec in FILES:
        path = folder / spec.name
        if path.is_file():
            digest.update(spec.name.encode())
            scan_file(path, digest)
    return digest.hexdigest()[:16]


def _read(spec: FileSpec, path: Path, check: FolderCheck, read: Problems, found: ValidFolder,
          progress: bool) -> FileRows:
    rows = FileRows(path, spec, read)
    with tqdm(total=path.stat().st_size, desc=f"check {spec.name}", unit="B", unit_scale=True,
              disable=not progress, leave=False) as bar:
        for n, row in enumerate(rows, start=1):
            check.row(spec, row, rows.columns)
            if spec.name == "roles.csv":
                found.roles.append(row.record)  # type: ignore[arg-type]
            elif spec.name == "occupation_overrides.csv":
                override: OccupationOverrideRecord = row.record  # type: ignore[assignment]
                found.overrides[override.role_id] = override
            if n % PROGRESS_ROWS == 0:
                bar.update(rows.bytes_read - bar.n)
    return rows


def validate_folder(folder: Path, known: KnownIds, today: date, *, limit: int = 100,
                    progress: bool = False) -> ValidFolder:
    """Validate every file of ``folder`` completely (problems up to ``limit``, raised as one
    `InvalidOrganization`); what the import needs next. ``progress``: a bar per file."""
    read = Problems(limit=limit)
    check = FolderCheck(folder, known, today, limit)
    digest = hashlib.sha256()
    found = ValidFolder(folder, "")
    if folder_problems(folder, read):
        for spec in FILES:
            path = folder / spec.name
            if not path.is_file():
                if spec.required:
                    read.add(spec.name, 0, None, None, "required file is missing")
                continue
            started = time.perf_counter()
            found.files.append(spec)
            digest.update(spec.name.encode())
            scan = scan_file(path, digest)
            found.sha256[spec.name] = scan.sha256
            check.begin(spec)
            if scan.bad_byte is not None:
                line, column, byte = scan.bad_byte
                read.add(spec.name, line, column, None,
                         f"invalid UTF-8 (byte 0x{byte:02x}); save the file as UTF-8")
                check.end(spec, None)
                continue
            rows = _read(spec, path, check, read, found, progress)
            check.end(spec, rows)
            log.info("checked %s in %.1fs", spec.name, time.perf_counter() - started)
    problems = check.problems(read)
    if problems:
        raise InvalidOrganization(problems)
    found.version = digest.hexdigest()[:16]
    found.employee_ids = check.keys.get("employees.csv", set())
    return found
