"""Every store test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``DATABASE_URL_TEST`` (for example
``postgresql+psycopg://gateway:gateway@127.0.0.1:5432/gateway_test``); each test gets a
schema of its own, dropped afterwards. Without that variable the PostgreSQL cases are
skipped, except under CI (``CI=true``), where a missing database fails them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.settings import Settings
from gateway.store.db import Database, init_db
from tests.helpers import migrated_sqlite, postgres_schema


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each backend, as a URL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'instance' / 'gateway.sqlite'}"
        return
    with postgres_schema() as url:
        yield url


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "instance", database_url=db_url)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    """A migrated database of each backend."""
    if not settings.database_url.startswith("postgresql"):
        migrated_sqlite(settings.home / "gateway.sqlite")
    database = init_db(settings)
    try:
        yield database
    finally:
        database.dispose()
