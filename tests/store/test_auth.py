"""Roles, permissions and key hashing (no database). What a role may read of a passport
is the access table's business: tests/access/test_table.py."""

from __future__ import annotations

import hashlib

import pytest

from gateway import auth
from gateway.auth import ADMIN, AUTHORITY, EDITOR, EXPORTER, IMPORTER, Principal

OWNER = 1
OTHER = 2


def who(role: str, tenant: int = OTHER) -> Principal:
    return Principal(tenant_id=tenant, tenant_name=f"t{tenant}", role=role, key_id=1)


@pytest.mark.parametrize(
    ("role", "scope"),
    [(EXPORTER, OTHER), (EDITOR, OTHER), (IMPORTER, OTHER), (AUTHORITY, None), (ADMIN, None)],
)
def test_list_scope(role: str, scope: int | None) -> None:
    assert auth.list_scope(who(role)) == scope


def test_reading_passports_is_not_decided_by_role_here() -> None:
    # Who reads which Annex XIII point is data (gateway.access.table), not a role map.
    for name in ("visible_groups", "ROLE_GROUPS", "OWNER_GROUPS", "ACCESS_GROUPS"):
        assert not hasattr(auth, name)


def test_audit_actor_names() -> None:
    assert auth.audit_actor(None) == auth.SYSTEM_ACTOR
    assert auth.audit_actor(auth.CONSOLE_ADMIN) == "console"
    assert auth.audit_actor(who(EXPORTER, OWNER)) == "tenant:t1/key:1"


def test_permissions() -> None:
    assert [r for r in auth.ROLES if auth.may_issue(who(r))] == [EXPORTER, ADMIN]
    assert [r for r in auth.ROLES if auth.may_edit_mappings(who(r))] == [EDITOR, ADMIN]
    assert [r for r in auth.ROLES if auth.may_administer(who(r))] == [ADMIN]
    assert auth.may_change_status(who(EXPORTER, OWNER), OWNER)
    assert not auth.may_change_status(who(EXPORTER), OWNER)
    assert auth.may_change_status(who(ADMIN), OWNER)
    assert not auth.may_change_status(who(AUTHORITY), OWNER)
    assert not any(f(None) for f in (auth.may_issue, auth.may_edit_mappings, auth.may_administer))


def test_hash_is_salted_sha256() -> None:
    secret = auth.new_secret()
    stored = auth.hash_secret(secret)
    scheme, salt_hex, digest = stored.split("$")
    assert scheme == "sha256"
    assert digest == hashlib.sha256(bytes.fromhex(salt_hex) + secret.encode()).hexdigest()
    assert secret not in stored
    assert auth.hash_secret(secret) != stored  # a new salt each time
    assert auth.verify_secret(secret, stored)
    assert not auth.verify_secret(secret + "x", stored)
    assert not auth.verify_secret(secret, "md5$00$" + digest)
    assert not auth.verify_secret(secret, "sha256$zz$" + digest)
    assert not auth.verify_secret(secret, "garbage")


def test_secret_shape() -> None:
    secrets = {auth.new_secret() for _ in range(100)}
    assert len(secrets) == 100
    assert all(len(s) == 43 for s in secrets)
    assert len({auth.key_prefix(s) for s in secrets}) == 100


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer abc", "abc"),
        ("bearer   abc  ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("", None),
        (None, None),
        ("Bearer " + "a" * 129, None),
    ],
)
def test_bearer_secret(header: str | None, expected: str | None) -> None:
    assert auth.bearer_secret(header) == expected
