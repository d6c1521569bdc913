"""The API through Flask's test client, on a fresh instance per test.

The store is SQLite in ``tmp_path``; tests that take the ``backend_url`` fixture also run
on PostgreSQL when ``DATABASE_URL_TEST`` is set (a schema of their own, dropped after).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import RECORDS, issue_keys, make_app


@pytest.fixture
def api_app(tmp_path: Path) -> Iterator[Flask]:
    app = make_app(tmp_path / "instance")
    yield app
    app.extensions["gateway.instance"].db.dispose()


@pytest.fixture
def api(api_app: Flask) -> FlaskClient:
    return api_app.test_client()


@pytest.fixture
def keys(api_app: Flask) -> dict[str, dict[str, str]]:
    return issue_keys(api_app.extensions["gateway.settings"])


@pytest.fixture
def record_json() -> bytes:
    return (RECORDS / "ncm-ev-pack.json").read_bytes()
