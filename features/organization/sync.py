"""Write a validated organization folder to the store: incremental, idempotent, streamed, one
transaction.

Each file is read again in chunks (`features.organization.reader`) and each chunk compared with
the rows the store holds for its keys (one query per chunk, by primary key; a table that was
empty when the import began is not queried): new rows are inserted, changed rows updated,
equal rows left alone, and rows absent from the import are kept (history stays). Employees
absent from ``employees.csv`` are marked as left (``employee_departures``, on the import's
date) and made undiscoverable, never deleted: the stored ids are paged through and compared
with the set of the file's ids. When nothing differs nothing is written, not even the dataset
version, so a second import of the same files changes nothing. Everything happens in one
transaction: a failure half-way (or a file that changed since it was validated) leaves the
store as it was; ``dry_run`` rolls the transaction back after counting.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Table, and_, bindparam, select
from tqdm import tqdm

from features import tables as t
from features.domain import Role
from features.errors import WaypointError
from features.organization.convert import STORE_ROW, StoreRow, employee_row, plain
from features.organization.files import FileSpec
from features.organization.problems import InvalidOrganization, Problems
from features.organization.reader import FileRows, chunked
from features.store import Store

log = logging.getLogger(__name__)

CHUNK = 5_000
"""Rows read, compared and written at a time."""
KEY_PAGE = 900
"""Keys per ``IN (...)`` query (under every SQLite's limit of bound variables)."""


@dataclass
class TableChange:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_json(self) -> dict[str, int]:
        return {"inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged}


@dataclass
class SyncResult:
    """What the import changed (or, in a dry run, would change), per table."""

    tables: dict[str, TableChange] = field(default_factory=dict)
    newly_left: list[str] = field(default_factory=list)
    returned: list[str] = field(default_factory=list)
    replaced: bool = False

    @property
    def changed(self) -> bool:
        return self.replaced or any(c.inserted or c.updated for c in self.tables.values()) \
            or bool(self.returned)


@dataclass(frozen=True)
class Incoming:
    """A validated folder, as `sync_organization` writes it: its files (read again; each must
    still have the bytes it was validated with, ``sha256``), the linked roles and their
    ``role_occupations`` rows, and the ids of employees.csv (the others have left)."""

    folder: Path
    files: Sequence[FileSpec]
    sha256: Mapping[str, str]
    roles: Sequence[Role]
    links: Sequence[dict[str, Any]]
    employee_ids: AbstractSet[str]


TABLE_OF: dict[str, Table] = {
    "departments.csv": t.departments, "locations.csv": t.locations, "roles.csv": t.roles,
    "employees.csv": t.employees, "protected_attributes.csv": t.protected_attributes,
    "opportunities.csv": t.opportunities, "courses.csv": t.courses,
    "reviews.jsonl": t.evidence, "course_completions.csv": t.evidence,
    "endorsements.csv": t.evidence, "self_declared_skills.csv": t.evidence,
    "moves.csv": t.moves, "events.csv": t.events,
}


def _comparable(value: Any) -> Any:
    """Values as compared between the import and the store (SQLite hands back naive UTC
    timestamps, JSON lists, floats as stored)."""
    value = plain(value)
    if isinstance(value, datetime):
        return (value.replace(tzinfo=UTC) if value.tzinfo is None
                else value.astimezone(UTC))
    if isinstance(value, float):
        return round(value, 6)
    return value


def model_rows(models: Iterable[BaseModel]) -> list[dict[str, Any]]:
    return [{k: plain(v) for k, v in m.model_dump(mode="python").items()} for m in models]


def _key_column(table: Table) -> str:
    (column,) = table.primary_key.columns
    return str(column.name)


def stored_rows(conn: Connection, table: Table, keys: Iterable[Any]
                ) -> dict[Any, dict[str, Any]]:
    """``{key: row}`` of the stored rows with these primary keys."""
    column = table.c[_key_column(table)]
    wanted = list(keys)
    out: dict[Any, dict[str, Any]] = {}
    for start in range(0, len(wanted), KEY_PAGE):
        query = select(table).where(column.in_(wanted[start:start + KEY_PAGE]))
        for row in conn.execute(query).mappings():
            out[row[column.name]] = dict(row)
    return out


def _update(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    keys = [c.name for c in table.primary_key.columns]
    where = and_(*(table.c[k] == bindparam(f"key_{k}") for k in keys))
    values: dict[str, Any] = {c.name: bindparam(c.name) for c in table.columns
                              if c.name not in keys}
    statement = table.update().where(where).values(values)
    conn.execute(statement, [{**{n: row[n] for n in values},
                              **{f"key_{k}": row[k] for k in keys}} for row in rows])


class Writer:
    """Upserts chunks of rows inside the import's transaction, counting per table."""

    def __init__(self, conn: Connection, result: SyncResult) -> None:
        self.conn, self.result = conn, result
        self._empty: dict[str, bool] = {}

    def empty(self, table: Table) -> bool:
        """Whether ``table`` held no row when this import first wrote to it (then every row
        is new: ids are unique across the import, so no stored row is looked up)."""
        if table.name not in self._empty:
            column = table.c[_key_column(table)]
            found = self.conn.execute(select(column).limit(1)).first()
            self._empty[table.name] = found is None
        return self._empty[table.name]

    def change(self, table: Table) -> TableChange:
        return self.result.tables.setdefault(table.name, TableChange())

    def stored(self, table: Table, keys: Iterable[Any]) -> dict[Any, dict[str, Any]]:
        return {} if self.empty(table) else stored_rows(self.conn, table, keys)

    def upsert(self, table: Table, rows: Sequence[StoreRow],
               stored: Mapping[Any, Mapping[str, Any]] | None = None) -> None:
        """Insert the new rows, update the changed ones, count the equal ones."""
        key = _key_column(table)
        if stored is None:
            stored = self.stored(table, (row[key] for row in rows))
        columns = [c.name for c in table.columns]
        new: list[StoreRow] = []
        changed: list[StoreRow] = []
        for row in rows:
            old = stored.get(row[key])
            if old is None:
                new.append(row)
            elif any(_comparable(row.get(c)) != _comparable(old.get(c)) for c in columns):
                changed.append(row)
        if new:
            self.conn.execute(table.insert(), new)
        _update(self.conn, table, changed)
        change = self.change(table)
        change.inserted += len(new)
        change.updated += len(changed)
        change.unchanged += len(rows) - len(new) - len(changed)


def _employee_chunk(writer: Writer, rows: Sequence[StoreRow], left_on: Mapping[str, date],
                    result: SyncResult) -> None:
    """Employees of employees.csv, and their departures: marked from ``left_on``; a returning
    employee's departure is removed."""
    ids = [row["id"] for row in rows]
    writer.upsert(t.employees, rows)
    departed = writer.stored(t.employee_departures, ids)
    leaving = [{"employee_id": eid, "left_on": day, "source": "file"}
               for eid, day in left_on.items()]
    result.newly_left.extend(eid for eid in left_on if eid not in departed)
    returned = [eid for eid in ids if eid not in left_on and eid in departed]
    if returned:
        result.returned.extend(returned)
        writer.conn.execute(t.employee_departures.delete().where(
            t.employee_departures.c.employee_id.in_(returned)))
    writer.upsert(t.employee_departures, leaving, departed)


def _absent_employees(writer: Writer, present: AbstractSet[str], today: date,
                      result: SyncResult) -> None:
    """Stored employees not in employees.csv: undiscoverable, and marked as left today unless
    they already were (paged through by id, so only a page of ids is held)."""
    if writer.empty(t.employees):
        return
    column = t.employees.c.id
    last: str | None = None
    while True:
        query = select(column).order_by(column).limit(CHUNK)
        if last is not None:
            query = query.where(column > last)
        page = [str(v) for v in writer.conn.execute(query).scalars()]
        if not page:
            return
        last = page[-1]
        absent = [eid for eid in page if eid not in present]
        if not absent:
            continue
        old = stored_rows(writer.conn, t.employees, absent)
        writer.upsert(t.employees, [{**row, "discoverable": False} for row in old.values()],
                      old)
        departed = stored_rows(writer.conn, t.employee_departures, absent)
        leaving = [departed.get(eid) or {"employee_id": eid, "left_on": today,
                                         "source": "absent"} for eid in absent]
        result.newly_left.extend(eid for eid in absent if eid not in departed)
        writer.upsert(t.employee_departures, leaving, departed)


@contextmanager
def _bar(spec: FileSpec, path: Path, verb: str, progress: bool) -> Iterator[tqdm]:
    with tqdm(total=path.stat().st_size, desc=f"{verb} {spec.name}", unit="B",
              unit_scale=True, disable=not progress, leave=False) as bar:
        yield bar


def read_chunks(folder: Path, spec: FileSpec, sha256: str | None, *, chunk_size: int,
                progress: bool, verb: str) -> Iterator[list[Any]]:
    """The records of ``spec`` in lists of ``chunk_size``, read again from the validated
    folder; a file whose bytes are not the ``sha256`` it was validated with, or that no longer
    validates, fails (nothing is written: the caller's transaction rolls back)."""
    path = folder / spec.name
    problems = Problems()
    rows = FileRows(path, spec, problems)
    started = time.perf_counter()
    count = 0
    with _bar(spec, path, verb, progress) as bar:
        for chunk in chunked(rows, chunk_size):
            if problems:
                raise InvalidOrganization(problems)
            count += len(chunk)
            yield [row.record for row in chunk]
            bar.update(rows.bytes_read - bar.n)
    if problems:
        raise InvalidOrganization(problems)
    if sha256 is not None and rows.sha256 != sha256:
        raise WaypointError(f"{spec.name} changed while it was imported; nothing was written")
    log.info("%s %s: %d rows in %.1fs", verb, spec.name, count, time.perf_counter() - started)


def _write(writer: Writer, incoming: Incoming, today: date, *, chunk_size: int,
           progress: bool) -> None:
    result = writer.result
    for spec in incoming.files:
        if spec.name == "roles.csv":
            writer.upsert(t.roles, model_rows(incoming.roles))
            writer.upsert(t.role_occupations, list(incoming.links))
            continue
        if spec.name not in TABLE_OF:  # occupation overrides: in the links
            continue
        table, convert = TABLE_OF[spec.name], STORE_ROW[spec.name]
        writer.change(table)
        for records in read_chunks(incoming.folder, spec, incoming.sha256.get(spec.name),
                                   chunk_size=chunk_size, progress=progress, verb="write"):
            if spec.name == "employees.csv":
                left_on = {r.id: r.left_on for r in records if r.left_on is not None}
                _employee_chunk(writer, [employee_row(r) for r in records], left_on, result)
            else:
                writer.upsert(table, [convert(r) for r in records])
        if spec.name == "employees.csv":
            _absent_employees(writer, incoming.employee_ids, today, result)
            writer.change(t.employee_departures)


def sync_organization(store: Store, incoming: Incoming, version: str, today: date, *,
                      dry_run: bool = False, replace: bool = False, chunk_size: int = CHUNK,
                      progress: bool = False) -> SyncResult:
    """Bring the store's organization to ``incoming`` in one transaction (see the module),
    ``chunk_size`` rows at a time; ``progress``: a bar per file."""
    result = SyncResult(replaced=replace)
    with store.engine.connect() as conn:
        transaction = conn.begin()
        try:
            if replace:
                for table in reversed(t.ORGANIZATION_TABLES):
                    conn.execute(table.delete())
            _write(Writer(conn, result), incoming, today, chunk_size=chunk_size,
                   progress=progress)
            if result.changed:
                conn.execute(t.dataset_versions.delete().where(
                    t.dataset_versions.c.name == "organization"))
                conn.execute(t.dataset_versions.insert(), [{
                    "name": "organization", "version": version, "loaded_at": datetime.now(UTC),
                    "detail": {"source": "import", **{k: v.as_json()
                                                      for k, v in result.tables.items()}},
                }])
        except BaseException:
            transaction.rollback()
            raise
        if dry_run:
            transaction.rollback()
        else:
            transaction.commit()
    if result.changed and not dry_run:
        store.refresh_statistics(t.ORGANIZATION_TABLES)
    return result


ENTITY_TABLES: dict[str, Table] = {
    "departments.csv": t.departments, "locations.csv": t.locations, "roles.csv": t.roles,
    "employees.csv": t.employees, "opportunities.csv": t.opportunities,
    "courses.csv": t.courses,
}


def stored_ids(store: Store) -> dict[str, frozenset[str]]:
    """Ids the store already holds, by the format file that would define them (an entity the
    store holds none of is left out)."""
    out: dict[str, frozenset[str]] = {}
    with store.engine.connect() as conn:
        for name, table in ENTITY_TABLES.items():
            ids = frozenset(str(v) for v in conn.execute(select(table.c.id)).scalars())
            if ids:
                out[name] = ids
    return out


def reference_uris(store: Store) -> tuple[frozenset[str], frozenset[str]]:
    """(ESCO skill URIs, ESCO occupation URIs) of the ingested reference data."""
    with store.engine.connect() as conn:
        skills = frozenset(conn.execute(select(t.skills.c.uri)).scalars())
        occupations = frozenset(conn.execute(select(t.esco_occupations.c.uri)).scalars())
    return skills, occupations


def stored_links(store: Store) -> dict[str, dict[str, Any]]:
    """``{role_id: role_occupations row}``."""
    with store.engine.connect() as conn:
        return {str(r["role_id"]): dict(r)
                for r in conn.execute(select(t.role_occupations)).mappings()}
