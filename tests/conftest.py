"""Fixtures every test folder may use; what they are built from is in ``tests/helpers.py``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import PLAIN_URL, GatewayRunner, make_app, postgres_schema


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """The app of a fresh instance, served over plain HTTP as ``gateway serve`` is by
    default (so its cookies carry no ``Secure`` and reach the test client)."""
    app = make_app(tmp_path / "instance", base_url=PLAIN_URL)
    yield app
    app.extensions["gateway.instance"].db.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GatewayRunner:
    """Click's runner for ``gateway`` commands on a fresh instance folder
    (``GATEWAY_HOME``), like Flask's ``app.test_cli_runner()``.

    ``runner.invoke(args=["convert", path])`` runs one command; a test sets further
    ``GATEWAY_*`` variables with ``monkeypatch`` before invoking.
    """
    home = tmp_path / "instance"
    monkeypatch.setenv("GATEWAY_HOME", str(home))
    return GatewayRunner(home)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """``""`` (SQLite in the instance folder), then a PostgreSQL schema if configured."""
    if request.param == "sqlite":
        yield ""
        return
    with postgres_schema() as url:
        yield url
