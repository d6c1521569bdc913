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

from gateway.app import create_app
from gateway.services import prepare_instance
from gateway.settings import Settings
from gateway.store import Tenants, init_db

ROOT = Path(__file__).resolve().parents[2]
RECORDS = ROOT / "fixtures" / "records"
ROLES = ("exporter", "importer", "authority", "editor", "admin")


def make_app(home: Path, database_url: str = "", **settings: object) -> Flask:
    overrides = {"home": home, "database_url": database_url,
                 "base_url": "https://gw.example", **settings}
    prepare_instance(Settings.load(overrides))
    return create_app(overrides)


def issue_keys(settings: Settings) -> dict[str, dict[str, str]]:
    """Bearer headers: ``acme`` (each role) and ``beta`` (a second exporter tenant)."""
    db = init_db(settings)
    headers = {}
    with db.transaction() as session:
        tenants = Tenants(session)
        tenants.create("acme")
        tenants.create("beta")
        for role in ROLES:
            secret = tenants.issue_key("acme", role).secret
            headers[role] = {"Authorization": f"Bearer {secret}"}
        headers["beta"] = {
            "Authorization": f"Bearer {tenants.issue_key('beta', 'exporter').secret}"}
    db.dispose()
    return headers


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


def assert_problem(response, status: int, slug: str | None = None) -> dict:
    """An RFC 9457 problem of this status (and type), with no stack trace in it."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert body["type"].startswith("https://w3id.org/cn-eu-battery/problems/")
    assert isinstance(body["title"], str) and body["title"]
    assert "Traceback" not in response.get_data(as_text=True)
    if slug is not None:
        assert body["type"].endswith("/" + slug), body
    return body
