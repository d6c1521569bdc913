"""Tenants and API keys: secrets are never stored, only their salted hash."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway import auth
from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.store import AuditLog, Tenants
from gateway.store.db import Database
from gateway.store.tables import ApiKey, AuditEvent


def test_create_and_list(db: Database) -> None:
    with db.transaction() as s:
        Tenants(s).create("Ningde Cells 2")
        Tenants(s).create("acme")
    with db.reading() as s:
        assert [t.name for t in Tenants(s).listing()] == ["Ningde Cells 2", "acme"]
        assert Tenants(s).get("acme").id != Tenants(s).get("Ningde Cells 2").id


def test_duplicate_name(db: Database) -> None:
    with db.transaction() as s:
        Tenants(s).create("acme")
    with pytest.raises(Conflict, match="already exists"), db.transaction() as s:
        Tenants(s).create("acme")


@pytest.mark.parametrize("name", ["", " acme", "acme ", "a/b", "a\x00b", "x" * 101, "-x"])
def test_bad_names(db: Database, name: str) -> None:
    with pytest.raises(InvalidInput) as err, db.transaction() as s:
        Tenants(s).create(name)
    assert err.value.pointer == "/name"


def test_issue_and_authenticate(db: Database) -> None:
    with db.transaction() as s:
        tenant = Tenants(s).create("acme")
        issued = Tenants(s).issue_key("acme", auth.EXPORTER)
    assert issued.secret.startswith(issued.key.prefix)
    with db.reading() as s:
        principal = Tenants(s).authenticate(issued.secret)
        assert principal == auth.Principal(tenant.id, "acme", auth.EXPORTER, issued.key.id)
        assert Tenants(s).authenticate(issued.secret[:-1] + "!") is None
        assert Tenants(s).authenticate("nope") is None
        assert Tenants(s).authenticate("") is None
        assert Tenants(s).authenticate(issued.secret * 4) is None


def test_secret_is_never_stored(db: Database) -> None:
    with db.transaction() as s:
        Tenants(s).create("acme")
        issued = Tenants(s).issue_key("acme", auth.ADMIN)
    with db.reading() as s:
        stored = s.scalars(select(ApiKey)).one()
        events = s.scalars(select(AuditEvent)).all()
    columns = [getattr(stored, c) for c in ApiKey.__table__.columns.keys()]
    assert not any(issued.secret in str(value) for value in columns)
    assert not any(issued.secret in str(e.data) for e in events)
    assert auth.verify_secret(issued.secret, stored.hash)
    assert stored.prefix == issued.secret[:8]


def test_revoked_key_stops_working(db: Database) -> None:
    with db.transaction() as s:
        Tenants(s).create("acme")
        issued = Tenants(s).issue_key("acme", auth.IMPORTER)
    with db.transaction() as s:
        revoked = Tenants(s).revoke_key(issued.key.id)
        assert revoked.revoked_at is not None
        assert Tenants(s).revoke_key(issued.key.id).revoked_at == revoked.revoked_at
    with db.reading() as s:
        assert Tenants(s).authenticate(issued.secret) is None
        assert [k.revoked_at is not None for k in Tenants(s).list_keys("acme")] == [True]
        actions = [e.action for e in AuditLog(s).entries()]
    assert actions == ["tenant.created", "api_key.issued", "api_key.revoked"]


def test_shared_prefix(db: Database) -> None:
    """Two keys whose secrets share a prefix each authenticate as themselves."""
    with db.transaction() as s:
        Tenants(s).create("a")
        Tenants(s).create("b")
        first = Tenants(s).issue_key("a", auth.EXPORTER)
        second = Tenants(s).issue_key("b", auth.EDITOR)
        # Force the collision that 48 random bits make unlikely.
        row = s.get(ApiKey, second.key.id)
        other_secret = first.key.prefix + second.secret[8:]
        row.prefix = first.key.prefix
        row.hash = auth.hash_secret(other_secret)
    with db.reading() as s:
        assert Tenants(s).authenticate(first.secret).tenant_name == "a"
        p = Tenants(s).authenticate(other_secret)
        assert (p.tenant_name, p.role) == ("b", auth.EDITOR)


def test_unknown_role_and_tenant(db: Database) -> None:
    with db.transaction() as s:
        Tenants(s).create("acme")
    with pytest.raises(InvalidInput, match="role"), db.transaction() as s:
        Tenants(s).issue_key("acme", "root")
    with pytest.raises(NotFound), db.transaction() as s:
        Tenants(s).issue_key("nobody", auth.ADMIN)
    with pytest.raises(NotFound), db.transaction() as s:
        Tenants(s).revoke_key(12345)
