"""A scratch PostgreSQL database: created empty, dropped (connections and all) afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def scratch_database(server_url: str, prefix: str = "waypoint_test") -> Iterator[str]:
    """The URL of a fresh database on the server at ``server_url``; dropped on exit."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def planner_row_counts(url: str, tables: list[str]) -> dict[str, float]:
    """PostgreSQL's planner statistics: the row count ``pg_class.reltuples`` it assumes per
    table (-1 for a table never analyzed)."""
    from sqlalchemy import bindparam, create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(text("SELECT relname, reltuples FROM pg_class "
                                      "WHERE relname IN :names AND relkind = 'r'")
                                 .bindparams(bindparam("names", expanding=True)),
                                 {"names": tables}).all()
    finally:
        engine.dispose()
    return {str(name): float(count) for name, count in found}
