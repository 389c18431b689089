"""Write an imported organization to the store: incremental, idempotent, one transaction.

Each table is compared row by row with what the store holds (by primary key): new rows are
inserted, changed rows updated, equal rows left alone, and rows absent from the import are kept
(history stays). Employees absent from ``employees.csv`` are marked as left
(``employee_departures``, on the import's date) and made undiscoverable, never deleted. When
nothing differs nothing is written, not even the dataset version, so a second import of the
same files changes nothing. Everything happens in one transaction: a failure half-way leaves
the store as it was; ``dry_run`` rolls the transaction back after counting.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Table, and_, bindparam, select

from features import tables as t
from features.organization.convert import IncomingOrganization
from features.store import Store

CHUNK = 5_000


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


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _comparable(value: Any) -> Any:
    """Values as compared between the import and the store (SQLite hands back naive UTC
    timestamps, JSON lists, floats as stored)."""
    value = _plain(value)
    if isinstance(value, datetime):
        return (value.replace(tzinfo=UTC) if value.tzinfo is None
                else value.astimezone(UTC))
    if isinstance(value, float):
        return round(value, 6)
    return value


def model_rows(models: Iterable[BaseModel]) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in m.model_dump(mode="python").items()} for m in models]


def _key(table: Table, row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[c.name] for c in table.primary_key.columns)


def _stored(conn: Connection, table: Table) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {_key(table, dict(r)): dict(r) for r in conn.execute(select(table)).mappings()}


def _insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        conn.execute(table.insert(), list(rows[start:start + CHUNK]))


def _update(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    keys = [c.name for c in table.primary_key.columns]
    where = and_(*(table.c[k] == bindparam(f"key_{k}") for k in keys))
    values: dict[str, Any] = {c.name: bindparam(c.name) for c in table.columns
                              if c.name not in keys}
    statement = table.update().where(where).values(values)
    batch = [{**{n: row[n] for n in values}, **{f"key_{k}": row[k] for k in keys}}
             for row in rows]
    for start in range(0, len(batch), CHUNK):
        conn.execute(statement, batch[start:start + CHUNK])


def upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]],
           stored: dict[tuple[Any, ...], dict[str, Any]] | None = None) -> TableChange:
    """Insert new rows, update changed ones, leave equal and absent ones; the counts."""
    stored = _stored(conn, table) if stored is None else stored
    columns = [c.name for c in table.columns]
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    change = TableChange()
    for row in rows:
        old = stored.get(_key(table, row))
        if old is None:
            new.append(row)
        elif any(_comparable(row.get(c)) != _comparable(old.get(c)) for c in columns):
            changed.append(row)
        else:
            change.unchanged += 1
    _insert(conn, table, new)
    _update(conn, table, changed)
    change.inserted, change.updated = len(new), len(changed)
    return change


def _employees(conn: Connection, incoming: IncomingOrganization, today: date,
               result: SyncResult) -> None:
    """Employees, and departures: marked from ``left_on`` or from absence; a returning
    employee's departure is removed."""
    stored = _stored(conn, t.employees)
    rows = model_rows(incoming.employees)
    present = {row["id"] for row in rows}
    for key, old in stored.items():
        if key[0] not in present:
            rows.append({**old, "discoverable": False})
    result.tables["employees"] = upsert(conn, t.employees, rows, stored)
    departed = _stored(conn, t.employee_departures)
    leaving: list[dict[str, Any]] = []
    for row in rows:
        eid = row["id"]
        before = departed.get((eid,))
        if eid in incoming.left_on:
            leaving.append({"employee_id": eid, "left_on": incoming.left_on[eid],
                            "source": "file"})
        elif eid not in present:
            leaving.append(before or {"employee_id": eid, "left_on": today, "source": "absent"})
        elif before is not None:
            result.returned.append(eid)
        if before is None and (eid in incoming.left_on or eid not in present):
            result.newly_left.append(eid)
    if result.returned:
        conn.execute(t.employee_departures.delete().where(
            t.employee_departures.c.employee_id.in_(result.returned)))
    result.tables["employee_departures"] = upsert(conn, t.employee_departures, leaving, departed)


def _write(conn: Connection, incoming: IncomingOrganization, links: Sequence[dict[str, Any]],
           today: date, result: SyncResult) -> None:
    result.tables["departments"] = upsert(conn, t.departments, model_rows(incoming.departments))
    if incoming.locations is not None:
        result.tables["locations"] = upsert(conn, t.locations, incoming.locations)
    result.tables["roles"] = upsert(conn, t.roles, model_rows(incoming.roles))
    result.tables["role_occupations"] = upsert(conn, t.role_occupations, list(links))
    _employees(conn, incoming, today, result)
    for name in ("protected_attributes", "opportunities", "courses", "evidence", "moves",
                 "events"):
        models: Sequence[BaseModel] | None = getattr(incoming, name)
        if models is not None:
            table = t.metadata.tables[name]
            result.tables[name] = upsert(conn, table, model_rows(models))
            setattr(incoming, name, None)  # written: free the memory before the next table


def sync_organization(store: Store, incoming: IncomingOrganization,
                      links: Sequence[dict[str, Any]], version: str, today: date, *,
                      dry_run: bool = False, replace: bool = False) -> SyncResult:
    """Bring the store's organization to ``incoming`` in one transaction (see the module).
    The optional entities of ``incoming`` are consumed (set to None once written)."""
    result = SyncResult(replaced=replace)
    with store.engine.connect() as conn:
        transaction = conn.begin()
        try:
            if replace:
                for table in reversed(t.ORGANIZATION_TABLES):
                    conn.execute(table.delete())
            _write(conn, incoming, links, today, result)
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
