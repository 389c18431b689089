"""The store: SQLAlchemy over a SQLite file by default, PostgreSQL by URL.

Writes are transactional: a replace either lands whole or leaves the previous data untouched.
Protected attributes are written here but never read here; see `features.protected`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, Protocol, TypeVar, get_args, get_origin

from pydantic import BaseModel, field_validator
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    create_engine,
    event,
    exists,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from features import live_tables as _live_tables  # noqa: F401  (its tables join the schema)
from features import tables as t
from features.domain import (
    CareerChange,
    Counts,
    Course,
    Department,
    Employee,
    Event,
    Evidence,
    Move,
    Opportunity,
    OpportunityKind,
    OpportunityStatus,
    Organization,
    Role,
)
from features.taxonomy import ReferenceData

ModelT = TypeVar("ModelT", bound=BaseModel)
DISCOVERABILITY = "discoverability"
"""The ``dataset_versions`` row `Store.set_discoverable` renews on every change."""
CHUNK = 5_000
WRITE_CACHE_KIB = 262_144
"""SQLite page cache of the connection that writes an organization (`Store.organization_writer`)."""
ADDED_COLUMNS: tuple[tuple[Table, str], ...] = ((t.opportunities, "hours_per_week"),)
"""Nullable columns added to a table after stores were made with it: `add_missing_columns`
(run by `Store.create_schema` and `features.live_store.ensure_live_tables`) adds each one an
older store lacks, and its rows read ``None`` there."""


def make_engine(url: str) -> Engine:
    """An engine with sane defaults; SQLite gets WAL, foreign keys and its folder created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def _column_names(engine: Engine, table: Table) -> set[str] | None:
    """The columns the database's table has (None: no such table yet)."""
    inspector = inspect(engine)
    if not inspector.has_table(table.name):
        return None
    return {str(column["name"]) for column in inspector.get_columns(table.name)}


def add_missing_columns(engine: Engine) -> list[str]:
    """Add every `ADDED_COLUMNS` column its (existing) table lacks, as a store made before the
    column has it; idempotent, and safe when two processes race (the one that loses finds the
    column there). Returns the columns it added, as ``table.column``."""
    added: list[str] = []
    quote = engine.dialect.identifier_preparer.quote
    for table, name in ADDED_COLUMNS:
        present = _column_names(engine, table)
        if present is None or name in present:
            continue
        column = table.c[name]
        kind = column.type.compile(dialect=engine.dialect)
        try:
            with engine.begin() as conn:
                conn.execute(text(f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(name)} "
                                  f"{kind}"))
        except DBAPIError:
            if name not in (_column_names(engine, table) or set()):
                raise
            continue
        added.append(f"{table.name}.{name}")
    return added


def _rows(models: Iterable[BaseModel]) -> Iterator[dict[str, Any]]:
    for model in models:
        row = model.model_dump(mode="python")
        for key, value in row.items():
            if isinstance(value, tuple):
                row[key] = list(value)
        yield row


def insert_chunked(conn: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    batch: list[dict[str, Any]] = []
    total = 0
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            conn.execute(table.insert(), batch)
            total += len(batch)
            batch = []
    if batch:
        conn.execute(table.insert(), batch)
        total += len(batch)
    return total


def _plain(value: Any) -> Any:
    """A model field value as the column types expect it (enum -> value, tuple -> list)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    return value


def _needs_plain(annotation: Any) -> bool:
    """Whether a field of this type can hold an enum or a tuple (`_plain` converts those)."""
    if isinstance(annotation, type) and issubclass(annotation, Enum | tuple):
        return True
    return get_origin(annotation) is tuple or any(_needs_plain(a) for a in get_args(annotation))


def _converter(annotation: Any, processor: Callable[[Any], Any] | None
               ) -> Callable[[Any], Any] | None:
    """What a (non-None) value of the field goes through on its way to the driver: `_plain`
    where the field's type needs it, then the column type's bind processor; None for neither."""
    if not _needs_plain(annotation):
        return processor
    if processor is None:
        return _plain
    return lambda value: processor(_plain(value))


def bulk_insert_models(conn: Connection, table: Table, models: Sequence[BaseModel]) -> int:
    """Insert many models fast, inside the caller's transaction.

    Same rows as ``insert_chunked(conn, table, _rows(models))`` but several times faster for
    millions of rows: values are read straight off the (already validated) models of one class,
    converted by the column types' own bind processors (so SQLite dates and JSON are stored
    exactly as the Core path stores them) only where the field's type or the column needs it,
    and sent on this connection's DBAPI cursor: ``COPY ... FROM STDIN`` on PostgreSQL
    (psycopg 3), ``executemany`` in batches of `CHUNK` elsewhere. Every table column must be a
    field of the model.
    """
    if not models:
        return 0
    dialect = conn.dialect
    compiled = table.insert().compile(dialect=dialect)
    by_name = {column.name: column for column in table.columns}
    positional = bool(compiled.positional)
    names = [str(key) for key in compiled.positiontup or ()] if positional else list(by_name)
    fields = type(models[0]).model_fields
    converters = [
        (i, convert) for i, name in enumerate(names)
        if (convert := _converter(
            fields[name].annotation,
            by_name[name].type.dialect_impl(dialect).bind_processor(dialect))) is not None]

    def row(model: BaseModel) -> list[Any]:
        values = model.__dict__
        out = [values[name] for name in names]
        for i, convert in converters:
            if out[i] is not None:
                out[i] = convert(out[i])
        return out

    cursor = conn.connection.cursor()
    try:
        if dialect.name == "postgresql" and hasattr(cursor, "copy"):
            quote = dialect.identifier_preparer.quote
            columns = ", ".join(quote(name) for name in names)
            with cursor.copy(f"COPY {quote(table.name)} ({columns}) FROM STDIN") as copy:
                for model in models:
                    copy.write_row(row(model))
            return len(models)
        statement = str(compiled)
        for start in range(0, len(models), CHUNK):
            batch = [row(m) for m in models[start:start + CHUNK]]
            cursor.executemany(statement, [tuple(r) for r in batch] if positional
                               else [dict(zip(names, r, strict=True)) for r in batch])
    finally:
        cursor.close()
    return len(models)


ORGANIZATION_SOURCES: tuple[Table, ...] = (
    t.departments, t.roles, t.employees, t.protected_attributes, t.opportunities, t.courses,
    t.evidence, t.moves, t.events,
)
"""The tables an `Organization` fills, parents first (each named as its field)."""


class OrganizationWriter:
    """Appends parts of an organization inside `Store.organization_writer`'s transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.counts: dict[str, int] = {table.name: 0 for table in ORGANIZATION_SOURCES}

    def append(self, part: Organization) -> dict[str, int]:
        """Insert every row of ``part`` (parents first; a part may reference the rows of an
        earlier one, e.g. the first part's roles); the rows written per table."""
        written = {table.name: bulk_insert_models(self.conn, table, getattr(part, table.name))
                   for table in ORGANIZATION_SOURCES}
        for name, count in written.items():
            self.counts[name] += count
        return written


class Store:
    """Typed access to everything Waypoint persists (protected attributes excepted)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)

    def create_schema(self) -> None:
        """Create missing tables, and the columns added since a store was made
        (`ADDED_COLUMNS`)."""
        t.metadata.create_all(self.engine)
        add_missing_columns(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ versions

    def dataset_version(self, name: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(t.dataset_versions.c.version).where(t.dataset_versions.c.name == name)
            ).scalar_one_or_none()

    @staticmethod
    def _set_version(conn: Connection, name: str, version: str, detail: dict[str, Any]) -> None:
        conn.execute(t.dataset_versions.delete().where(t.dataset_versions.c.name == name))
        conn.execute(t.dataset_versions.insert(), [{
            "name": name, "version": version, "loaded_at": datetime.now(UTC), "detail": detail,
        }])

    # ------------------------------------------------------------------ writes

    def replace_reference_data(self, data: ReferenceData, version: str) -> dict[str, int]:
        """Replace all ESCO and O*NET tables in one transaction; returns rows per table."""
        sources: dict[Table, Sequence[BaseModel]] = {
            t.skills: data.skills,
            t.esco_occupations: data.occupations,
            t.occupation_skills: data.occupation_skills,
            t.skill_broader: data.skill_broader,
            t.skill_groups: data.skill_groups,
            t.onet_occupations: data.onet_occupations,
            t.onet_tasks: data.onet_tasks,
            t.onet_technology: data.onet_technology,
            t.onet_ratings: data.onet_ratings,
            t.onet_alt_titles: data.onet_alt_titles,
            t.career_changers: data.career_changers,
        }
        counts: dict[str, int] = {}
        with self.engine.begin() as conn:
            for table in reversed(t.REFERENCE_TABLES):
                conn.execute(table.delete())
            for table, models in sources.items():
                rows = _dedupe(table, _rows(models))
                counts[table.name] = insert_chunked(conn, table, rows)
            self._set_version(conn, "reference", version, counts)
        self.refresh_statistics(t.REFERENCE_TABLES)
        return counts

    def replace_organization(self, org: Organization, version: str) -> dict[str, int]:
        """Replace the whole organization (HR data) in one transaction."""
        with self.organization_writer(version) as writer:
            writer.append(org)
        return writer.counts

    def refresh_statistics(self, tables: Iterable[Table]) -> list[str]:
        """PostgreSQL: ``ANALYZE`` the tables a bulk write just filled; the names analyzed.

        The planner reads row counts and value distributions from statistics that only
        (auto)``ANALYZE`` gathers. Right after a bulk write they still describe the tables as
        they were (empty, for a first load), so the evidence of one candidate list's 200 people
        was read by a sequential scan of a million rows: 157 ms, against 1.1 ms by
        ``ix_evidence_employee`` once analyzed (100,000 employees; docs/scale.md). autovacuum
        gets there eventually where it is on; it is off on some servers (this project's test
        server). SQLite: nothing (its planner takes the indexes without statistics)."""
        if self.engine.dialect.name != "postgresql":
            return []
        quote = self.engine.dialect.identifier_preparer.quote
        names = [table.name for table in tables]
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for name in names:
                conn.exec_driver_sql(f"ANALYZE {quote(name)}")
        return names

    @contextmanager
    def organization_writer(self, version: str) -> Iterator[OrganizationWriter]:
        """Replace the organization part by part (`OrganizationWriter.append`), in ONE
        transaction: the previous organization is deleted first, ``version`` is set after the
        last part, and everything is committed when the block ends. An exception in the block
        (or a killed process) rolls it all back: the previous organization and its version stay,
        and until the commit every reader sees the previous organization, never a part. After the
        commit, PostgreSQL's statistics of the organization are refreshed
        (`refresh_statistics`)."""
        with self.engine.begin() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:  # the indexes of millions of new rows: a page cache of 256 MiB
                cache = int(conn.exec_driver_sql("PRAGMA cache_size").scalar() or -2000)
                conn.exec_driver_sql(f"PRAGMA cache_size=-{WRITE_CACHE_KIB}")
            try:
                for table in reversed(t.ORGANIZATION_TABLES):
                    conn.execute(table.delete())
                writer = OrganizationWriter(conn)
                yield writer
                self._set_version(conn, "organization", version, writer.counts)
            finally:
                if sqlite:  # the pooled connection goes back with its usual cache
                    conn.exec_driver_sql(f"PRAGMA cache_size={cache}")
        self.refresh_statistics(t.ORGANIZATION_TABLES)

    def add_event(self, new: Event) -> Event:
        """Store an event once per idempotency key; a repeat returns the stored event."""
        with self.engine.begin() as conn:
            if new.idempotency_key:
                existing = conn.execute(
                    select(t.events).where(t.events.c.idempotency_key == new.idempotency_key)
                ).mappings().first()
                if existing is not None:
                    return Event.model_validate(dict(existing))
            conn.execute(t.events.insert(), [next(_rows([new]))])
        return new

    # ------------------------------------------------------------------ reads

    def counts(self) -> Counts:
        with self.engine.connect() as conn:
            def n(table: Table) -> int:
                return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

            return Counts(
                skills=n(t.skills), occupations=n(t.esco_occupations),
                onet_occupations=n(t.onet_occupations), employees=n(t.employees),
                roles=n(t.roles), opportunities=n(t.opportunities), moves=n(t.moves),
                evidence=n(t.evidence), courses=n(t.courses),
            )

    def _all(self, table: Table, model: type[ModelT], *where: Any,
             limit: int | None = None, offset: int = 0) -> list[ModelT]:
        query = select(table).where(*where).order_by(*table.primary_key.columns).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [model.model_validate(dict(row)) for row in conn.execute(query).mappings()]

    def _one(self, table: Table, model: type[ModelT], key: str) -> ModelT | None:
        found = self._all(table, model, next(iter(table.primary_key.columns)) == key)
        return found[0] if found else None

    def departments(self) -> list[Department]:
        return self._all(t.departments, Department)

    def roles(self) -> list[Role]:
        return self._all(t.roles, Role)

    def role(self, role_id: str) -> Role | None:
        return self._one(t.roles, Role, role_id)

    def employees(self, limit: int | None = None, offset: int = 0) -> list[Employee]:
        return self._all(t.employees, Employee, limit=limit, offset=offset)

    def employee(self, employee_id: str) -> Employee | None:
        return self._one(t.employees, Employee, employee_id)

    def left_on(self, employee_id: str) -> date | None:
        """The day ``employee_id`` left the organization (``employee_departures``, written by
        ``waypoint import``), or None for someone still here (or unknown). One key read."""
        c = t.employee_departures.c
        with self.engine.connect() as conn:
            found = conn.execute(select(c.left_on).where(c.employee_id == employee_id)).first()
        return None if found is None else found[0]

    def departed_ids(self) -> set[str]:
        """Ids of every employee who left (their rows and history stay in the store)."""
        with self.engine.connect() as conn:
            return set(conn.execute(select(t.employee_departures.c.employee_id)).scalars())

    def opportunities(self, status: OpportunityStatus | None = None,
                      kinds: Sequence[OpportunityKind] = ()) -> list[Opportunity]:
        where = []
        if status is not None:
            where.append(t.opportunities.c.status == status.value)
        if kinds:
            where.append(t.opportunities.c.kind.in_([k.value for k in kinds]))
        return self._all(t.opportunities, Opportunity, *where)

    def opportunity(self, opportunity_id: str) -> Opportunity | None:
        return self._one(t.opportunities, Opportunity, opportunity_id)

    def courses(self) -> list[Course]:
        return self._all(t.courses, Course)

    def evidence(self, employee_id: str | None = None) -> list[Evidence]:
        where = [] if employee_id is None else [t.evidence.c.employee_id == employee_id]
        return self._all(t.evidence, Evidence, *where)

    def moves(self) -> list[Move]:
        return self._all(t.moves, Move)

    def evidence_of(self, employee_ids: Iterable[str]) -> dict[str, list[Evidence]]:
        """Evidence of these employees only (``ix_evidence_employee``), in primary-key order,
        queried in pages of `ID_PAGE` ids; employees without evidence are left out."""
        return _by_employee(self._paged(t.evidence, Evidence, employee_ids))

    def records_begin(self) -> date | None:
        """The first day the moves and openings on record cover (None when there are none):
        `features.ranking_history.records_begin`, in the database."""
        with self.engine.connect() as conn:
            days = [conn.execute(select(func.min(column))).scalar()
                    for column in (t.moves.c.moved_on, t.opportunities.c.posted_on)]
        found = [d for d in days if d is not None]
        return min(found) if found else None

    def moves_of(self, employee_ids: Iterable[str]) -> dict[str, list[Move]]:
        """Moves of these employees only (indexed on ``employee_id``), paged like `evidence_of`."""
        return _by_employee(self._paged(t.moves, Move, employee_ids))

    def _paged(self, table: Table, model: type[ModelT], employee_ids: Iterable[str]
               ) -> list[ModelT]:
        ids = sorted(set(employee_ids))
        found: list[ModelT] = []
        for start in range(0, len(ids), ID_PAGE):
            found += self._all(table, model, table.c.employee_id.in_(ids[start:start + ID_PAGE]))
        return found

    def career_changes(self) -> list[CareerChange]:
        return self._all(t.career_changers, CareerChange)

    def organization(self) -> Organization:
        """Everything HR knows, for training; protected attributes are left out (see
        ``features.protected``)."""
        return Organization(
            departments=self.departments(), roles=self.roles(), employees=self.employees(),
            opportunities=self.opportunities(), courses=self.courses(),
            evidence=self.evidence(), moves=self.moves(), events=self.events(),
        )

    def events(self, employee_id: str | None = None) -> list[Event]:
        where = [] if employee_id is None else [t.events.c.employee_id == employee_id]
        return self._all(t.events, Event, *where)

    def event_by_key(self, idempotency_key: str) -> Event | None:
        """The stored event with this idempotency key, if any."""
        found = self._all(t.events, Event, t.events.c.idempotency_key == idempotency_key)
        return found[0] if found else None

    def rejected_skills(self, employee_id: str | None = None) -> dict[str, frozenset[str]]:
        """``{employee_id: skill URIs}`` the person marked "this skill is wrong"
        (``skill_rejected`` events); one employee's or everyone's."""
        c = t.events.c
        query = select(c.employee_id, c.skill_uri).where(
            c.kind == "skill_rejected", c.skill_uri.is_not(None))
        if employee_id is not None:
            query = query.where(c.employee_id == employee_id)
        found: dict[str, set[str]] = {}
        with self.engine.connect() as conn:
            for eid, uri in conn.execute(query):
                found.setdefault(str(eid), set()).add(str(uri))
        return {eid: frozenset(uris) for eid, uris in found.items()}

    def set_discoverable(self, employee_id: str, discoverable: bool) -> Employee | None:
        """Opt an employee in or out of candidate search; the updated employee (None when the
        id is unknown)."""
        with self.engine.begin() as conn:
            done = conn.execute(t.employees.update()
                                .where(t.employees.c.id == employee_id)
                                .values(discoverable=discoverable))
            if done.rowcount:  # readers re-read the opt-ins only when this changes
                self._set_version(conn, DISCOVERABILITY, uuid.uuid4().hex, {})
        return self.employee(employee_id) if done.rowcount else None

    def discoverability_version(self) -> tuple[str | None, str | None]:
        """(opt-in version, organization version): changes whenever `set_discoverable` changes
        a flag or the organization is replaced; one indexed read, for readers that cache the
        opt-ins (`discoverable_ids` reads every employee)."""
        c = t.dataset_versions.c
        with self.engine.connect() as conn:
            found = dict(conn.execute(select(c.name, c.version).where(
                c.name.in_([DISCOVERABILITY, "organization"]))).tuples().all())
        return found.get(DISCOVERABILITY), found.get("organization")

    def discoverable_ids(self) -> set[str]:
        """Ids of the employees who opted in to candidate search, as stored now; never someone
        who left (the import also clears their flag, but an opt-in set later does not count)."""
        c, d = t.employees.c, t.employee_departures.c
        query = select(c.id).where(c.discoverable.is_(True),
                                   ~exists().where(d.employee_id == c.id))
        with self.engine.connect() as conn:
            return set(conn.execute(query).scalars())


    # ------------------------------------------------------------------ serving

    def skill_labels(self, uris: Iterable[str]) -> dict[str, str]:
        """``{uri: preferred label}`` for the given skill URIs (unknown URIs are left out)."""
        wanted = sorted(set(uris))
        out: dict[str, str] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                query = select(t.skills.c.uri, t.skills.c.label).where(t.skills.c.uri.in_(chunk))
                out.update({str(uri): str(label) for uri, label in conn.execute(query)})
        return out

    def log_served_list(self, *entries: ServedList) -> int:
        """Append served lists to the audit log (one transaction); returns rows written."""
        if not entries:
            return 0
        rows = [entry.model_dump(mode="json") | {"served_at": entry.served_at}
                for entry in entries]
        with self.engine.begin() as conn:
            conn.execute(t.served_lists.insert(), rows)
        return len(rows)

    def served_lists(self, since: datetime | None = None,
                     endpoint: str | None = None) -> list[ServedList]:
        """Audit-log rows served at or after ``since`` (UTC), oldest first."""
        c = t.served_lists.c
        query = select(t.served_lists).order_by(c.served_at, c.id)
        if since is not None:
            query = query.where(c.served_at >= _utc(since))
        if endpoint is not None:
            query = query.where(c.endpoint == endpoint)
        with self.engine.connect() as conn:
            return [ServedList.model_validate(dict(row)) for row in conn.execute(query).mappings()]

ID_PAGE = 500
"""Ids per ``IN (...)`` query of the per-employee reads (well under SQLite's variable limit)."""


class _HasEmployee(Protocol):
    @property
    def employee_id(self) -> str: ...


HasEmployeeT = TypeVar("HasEmployeeT", bound=_HasEmployee)


def _by_employee(rows: Iterable[HasEmployeeT]) -> dict[str, list[HasEmployeeT]]:
    out: dict[str, list[HasEmployeeT]] = {}
    for row in rows:
        out.setdefault(row.employee_id, []).append(row)
    return out


def _dedupe(table: Table, rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Drop exact primary-key repeats (the official files hold a few); the first row wins."""
    columns = list(table.primary_key.columns)
    if any(column.autoincrement is True for column in columns):
        yield from rows
        return
    keys = [column.name for column in columns]
    seen: set[tuple[Any, ...]] = set()
    for row in rows:
        key = tuple(row[k] for k in keys)
        if key not in seen:
            seen.add(key)
            yield row


# --------------------------------------------------------------------------- serving audit log


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class ServedItem(BaseModel):
    """One entry of a served list: who or what, the model score, and the displayed rank."""

    id: str
    score: float
    rank: int


class ServedList(BaseModel):
    """One served list as the audit log keeps it (``served_lists`` table).

    ``fairness`` holds aggregate list figures (group shares, counts, impact ratios) only; no
    person's protected attribute is ever stored here.
    """

    id: str
    served_at: datetime
    user_id: str
    requester_role: str
    endpoint: str
    subject_id: str
    model_version: str
    items: list[ServedItem]
    fairness: dict[str, Any] | None = None

    @field_validator("served_at")
    @classmethod
    def _as_utc(cls, value: datetime) -> datetime:
        """SQLite returns naive datetimes; everything in the log is UTC."""
        return _utc(value)
