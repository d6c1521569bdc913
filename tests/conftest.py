from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine

from gateway.app import create_app
from gateway.services import prepare_instance
from gateway.settings import Settings
from gateway.store.db import normalise_url

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    overrides = {"home": tmp_path / "instance"}
    prepare_instance(Settings.load(overrides))
    return create_app(overrides)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """``""`` (SQLite in the instance folder), then a PostgreSQL schema if configured."""
    if request.param == "sqlite":
        yield ""
        return
    url = os.environ.get("DATABASE_URL_TEST", "")
    if not url:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI=true but DATABASE_URL_TEST is not set")
        pytest.skip("the PostgreSQL cases need DATABASE_URL_TEST")
    base = normalise_url(url)
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()
