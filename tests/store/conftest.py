"""Every store test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``DATABASE_URL_TEST`` (for example
``postgresql+psycopg://gateway:gateway@127.0.0.1:5432/gateway_test``); each test gets a
schema of its own, dropped afterwards. Without that variable the PostgreSQL cases are
skipped, except under CI (``CI=true``), where a missing database fails them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from gateway.settings import Settings
from gateway.store.db import Database, init_db, normalise_url


def _postgres_url() -> str:
    url = os.environ.get("DATABASE_URL_TEST", "")
    if not url:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(
                "CI=true but DATABASE_URL_TEST is not set: the PostgreSQL store tests must run"
            )
        pytest.skip("PostgreSQL store tests need DATABASE_URL_TEST")
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each backend, as a URL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'instance' / 'gateway.sqlite'}"
        return
    base = normalise_url(_postgres_url())
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = base.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "instance", database_url=db_url)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    """A migrated database of each backend."""
    database = init_db(settings)
    try:
        yield database
    finally:
        database.dispose()
