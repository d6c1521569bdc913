"""``gateway db`` and ``gateway tenants``, run from a folder with no alembic.ini."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.store.db import Database, head_revision
from gateway.store.tenants import Tenants
from tests.helpers import GatewayRunner


@pytest.fixture
def run(db_url: str, runner: GatewayRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db_url)

    def invoke(*args: str, ok: bool = True):
        result = runner.invoke(args=args)
        assert (result.exit_code == 0) is ok, result.output
        return result

    return invoke


def test_db_upgrade_and_current(run, db_url: str) -> None:
    assert "empty" in run("db", "current").output
    out = run("db", "upgrade").output
    assert f"at revision {head_revision()}" in out
    assert f"current: {head_revision()}" in run("db", "current").output
    assert "audit log empty" in run("db", "verify-audit").output


def test_tenants_and_keys(run, db_url: str) -> None:
    assert "tenant acme created" in run("tenants", "create", "acme").output
    assert "already exists" in run("tenants", "create", "acme", ok=False).output
    assert "acme" in run("tenants", "list").output
    out = run("keys", "issue-api-key", "--tenant", "acme", "--role", "exporter").stdout
    secret = next(line.split()[-1] for line in out.splitlines() if line.startswith("secret:"))
    assert f"Authorization: Bearer {secret}" in out
    db = Database.connect(db_url)
    try:
        with db.reading() as s:
            principal = Tenants(s).authenticate(secret)
    finally:
        db.dispose()
    assert principal is not None and (principal.tenant_name, principal.role) == (
        "acme",
        "exporter",
    )
    listed = run("tenants", "keys", "acme").output
    assert secret[:8] in listed and secret not in listed
    assert "revoked" in run("tenants", "revoke-key", str(principal.key_id)).output
    assert "revoked" in run("tenants", "keys", "acme").output
    assert "intact: 3 events" in run("db", "verify-audit").output
    [tenant] = json.loads(run("tenants", "list", "--json").output)
    assert tenant["name"] == "acme" and tenant["createdAt"].endswith("Z")
    [key] = json.loads(run("tenants", "keys", "acme", "--json").output)
    assert key["prefix"] == secret[:8] and secret not in json.dumps(key)
    assert (key["role"], key["revokedAt"] is not None) == ("exporter", True)


def test_cli_errors_are_one_line(run) -> None:
    out = run("keys", "issue-api-key", "--tenant", "nobody", "--role", "admin", ok=False).output
    assert "no tenant named 'nobody'" in out
    assert "Traceback" not in out
    run("keys", "issue-api-key", "--tenant", "x", "--role", "root", ok=False)
