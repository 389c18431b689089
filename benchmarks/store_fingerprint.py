"""A per-table fingerprint of a store's organization: the row count and a SHA-256 over the
table's rows, each written as canonical JSON and sorted, so two stores (SQLite or PostgreSQL)
holding the same rows give the same fingerprint whatever order or driver types they come in.

Canonical values: timestamps in UTC (SQLite hands them back naive, PostgreSQL aware), dates
and timestamps as ISO text, floats rounded to 6 places, JSON lists as lists. Only the columns in
``EXCLUDED`` are left out; they record how a row was learnt, not what the organization is.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import create_engine, select

from features import tables as t

EXCLUDED: dict[str, tuple[str, ...]] = {
    # ``file`` (a ``left_on`` in employees.csv) or ``absent`` (missing from a later import):
    # the export writes every departure as ``left_on``, so a re-import always learns it from
    # the file. The departure itself (who, ``left_on``) is compared.
    "employee_departures": ("source",),
}
"""Audit columns left out of the comparison, by table. No surrogate keys exist in the
organization tables: every id comes from the organization's own files."""

TABLES = tuple(table.name for table in t.ORGANIZATION_TABLES)
"""The organization tables (`features.tables.ORGANIZATION_TABLES`); ``dataset_versions``
(the import's folder hash and load time) is audit state, not organization."""


@dataclass(frozen=True)
class TableFingerprint:
    rows: int
    sha256: str

    def short(self) -> str:
        return self.sha256[:12]


def canonical(value: Any) -> Any:
    """``value`` as compared between stores (see the module)."""
    if isinstance(value, datetime):
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return aware.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (float, Decimal)):
        return round(float(value), 6)
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    return value


def fingerprint(database_url: str) -> dict[str, TableFingerprint]:
    """``{table: TableFingerprint}`` over the organization tables of the store at the URL."""
    engine = create_engine(database_url)
    out: dict[str, TableFingerprint] = {}
    try:
        with engine.connect() as conn:
            for name in TABLES:
                table = t.metadata.tables[name]
                skip = set(EXCLUDED.get(name, ()))
                columns = [c for c in table.columns if c.name not in skip]
                lines = sorted(
                    json.dumps([canonical(v) for v in row], ensure_ascii=False,
                               sort_keys=True)
                    for row in conn.execute(select(*columns)))
                digest = hashlib.sha256()
                for line in lines:
                    digest.update(line.encode())
                    digest.update(b"\n")
                out[name] = TableFingerprint(len(lines), digest.hexdigest())
    finally:
        engine.dispose()
    return out
