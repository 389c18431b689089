"""The hand-written small company (tests/data/organization/small-company) and helpers that
copy it and change one line, for the import tests."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from features.store import Store
from tests.support.occupations_factory import write_small_title_index
from tests.support.reference_factory import write_reference_dataset
from training.ingest import ingest_reference_data

SMALL_COMPANY = Path(__file__).resolve().parents[1] / "data" / "organization" / "small-company"
TODAY = date(2026, 12, 1)
"""The import date the tests pass (every date in the small company is before it)."""


def copy_company(target: Path) -> Path:
    """A writable copy of the small company at ``target``."""
    shutil.copytree(SMALL_COMPANY, target)
    return target


def replace_line(path: Path, number: int, text: str) -> None:
    """Replace line ``number`` (1-based) of a text file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[number - 1] = text
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def line_of(path: Path, prefix: str) -> int:
    """The 1-based number of the first line starting with ``prefix``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith(prefix):
            return number
    raise LookupError(f"{path}: no line starts with {prefix!r}")


def reference_store(url: str, root: Path) -> tuple[Store, Path]:
    """A store at ``url`` with the tiny reference data ingested, and a title index folder."""
    store = Store(url)
    ingest_reference_data(write_reference_dataset(root / "reference"), store)
    write_small_title_index(root)
    return store, root / "occupations" / "titles"
