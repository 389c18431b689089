"""Shared fixtures.

Tests are grouped by kind (``tests/unit``, ``tests/integration``, ``tests/api``, ``tests/e2e``;
factories in ``tests/support``); the folder sets the kind marker. Rules: tests that need
``../shared/data`` or a reachable PostgreSQL skip only when the resource is absent and ``CI`` is
unset; with ``CI`` set they fail instead, so nothing is silently skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from features.settings import REPO_ROOT, set_offline_environment
from features.taxonomy import ReferenceData, read_reference_data

set_offline_environment()

SHARED_DATA = Path(os.environ.get("WAYPOINT_DATA_DIR", REPO_ROOT.parent / "shared" / "data"))
POSTGRES_ADMIN_URL = os.environ.get(
    "WAYPOINT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


KINDS = ("unit", "integration", "api", "e2e")
"""Test folders; each test gets its folder's marker, so ``-m unit`` selects tests/unit."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        kind = Path(str(item.fspath)).parent.name
        if kind in KINDS:
            item.add_marker(getattr(pytest.mark, kind))


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def require(condition: bool, reason: str) -> None:
    """Skip when a resource is missing, except in CI where a missing resource is a failure."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    require((SHARED_DATA / "esco" / "skills_en.csv").is_file(),
            f"reference data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def reference_data(shared_data_dir: Path) -> ReferenceData:
    return read_reference_data(shared_data_dir)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'waypoint.db'}"


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(POSTGRES_ADMIN_URL)
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:
        require(False, f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc}")
    finally:
        engine.dispose()
    return POSTGRES_ADMIN_URL


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty database per test, dropped afterwards."""
    from tests.support.postgres import scratch_database

    with scratch_database(postgres_server_url) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest) -> str:
    """Run a store test on SQLite always and on PostgreSQL when reachable (required in CI)."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))


# --------------------------------------------------------------------------- skills engine


@pytest.fixture(scope="session")
def packaged_encoder():  # type: ignore[no-untyped-def]
    """The one small real encoder (packaged all-MiniLM-L6-v2), loaded once per session."""
    from features.settings import PACKAGED_ENCODER
    from inference.skills.encoder import load_encoder

    return load_encoder(PACKAGED_ENCODER)


@pytest.fixture(scope="session")
def small_skill_engine(packaged_encoder):  # type: ignore[no-untyped-def]
    """A real engine (packaged encoder, default re-scoring) over a ~25-skill catalog."""
    from tests.support.skills_factory import make_skill_engine

    return make_skill_engine(packaged_encoder)
