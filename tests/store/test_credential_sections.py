"""Credentials are stored by section: the four Annex XIII points beside the three earlier
access groups, on both backends, and a database upgraded from before keeps what it held."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from gateway.annex_xiii import ALL_SECTIONS, SECTIONS
from gateway.errors import InvalidInput
from gateway.store import Passports, Tenants
from gateway.store.db import Database, alembic_config
from gateway.store.passports import NewCredential, NewPassport

PASSPORT = "https://gw.example/passports/031PBCDE0A2B3C4D5E6F7G01"


def _passport(tenant_id: int) -> NewPassport:
    return NewPassport(
        id=PASSPORT,
        battery_code=PASSPORT.rsplit("/", 1)[1],
        tenant_id=tenant_id,
        category="ev",
        mapping_set="cn-trace-to-eu-passport",
        mapping_version="1.0.0",
        mapping_hash="sha256-abc",
        record={"battery": {"code": PASSPORT.rsplit("/", 1)[1]}},
    )


def _credentials(names: tuple[str, ...]) -> list[NewCredential]:
    return [
        NewCredential(id=f"{PASSPORT}#{n}", access_group=n, format="jwt", body=f"jws.{n}")
        for n in names
    ]


def test_every_section_is_stored_and_read_back_in_point_order(db: Database) -> None:
    with db.transaction() as s:
        tenant = Tenants(s).create("acme").id
        Passports(s).save(_passport(tenant), _credentials(SECTIONS), actor="tenant:acme")
    with db.reading() as s:
        stored = Passports(s).credentials(PASSPORT)
        assert [c.access_group for c in stored] == list(SECTIONS)
        only = Passports(s).credentials(PASSPORT, ["annex-xiii-3"])
        assert [c.body for c in only] == ["jws.annex-xiii-3"]


@pytest.mark.parametrize("name", ["annex-xiii-5", "annex-xiii-", "Annex-XIII-1", "secret", ""])
def test_a_name_that_is_no_section_is_refused(db: Database, name: str) -> None:
    with db.transaction() as s:
        tenant = Tenants(s).create("acme").id
    with pytest.raises(InvalidInput) as caught, db.transaction() as s:
        Passports(s).save(
            _passport(tenant), _credentials(("annex-xiii-1", name)), actor="tenant:acme"
        )
    assert caught.value.pointer == "/credentials/1/access_group"
    assert "annex-xiii-1" in str(caught.value) and "authorities" in str(caught.value)


def test_the_database_refuses_what_the_store_would(db: Database) -> None:
    """The CHECK constraint holds the same list, for writers that bypass the store."""
    with db.transaction() as s:
        tenant = Tenants(s).create("acme").id
        Passports(s).save(_passport(tenant), [], actor="tenant:acme")
    insert = text(
        "INSERT INTO credentials (id, passport_id, access_group, format, body, created_at) "
        "VALUES (:id, :passport, :group, 'jwt', 'x', :now)"
    )
    now = datetime.now(UTC)
    with db.transaction() as s:
        for name in ALL_SECTIONS:
            s.execute(insert, {"id": name, "passport": PASSPORT, "group": name, "now": now})
    with pytest.raises(IntegrityError), db.transaction() as s:
        s.execute(insert, {"id": "x", "passport": PASSPORT, "group": "annex-xiii-5", "now": now})


def test_upgrade_keeps_the_earlier_groups_and_admits_the_sections(db_url: str) -> None:
    db = Database.connect(db_url)
    try:
        with db.engine.connect() as conn:
            command.upgrade(alembic_config(conn), "0004")
            conn.commit()
        now = datetime.now(UTC)
        with db.engine.begin() as conn:
            conn.execute(
                text("INSERT INTO tenants (id, name, created_at) VALUES (1, 'acme', :now)"),
                {"now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO passports (id, battery_code, tenant_id, category, status, "
                    "mapping_set, mapping_version, mapping_hash, record_sha256, record, gaps, "
                    "created_at) VALUES (:id, 'code', 1, 'ev', 'active', 's', '1.0.0', 'h', "
                    "'d', '{}', '{}', :now)"
                ),
                {"id": PASSPORT, "now": now},
            )
            for group in ("public", "legitimate_interest", "authorities"):
                conn.execute(
                    text(
                        "INSERT INTO credentials (id, passport_id, access_group, format, body, "
                        "created_at) VALUES (:id, :passport, :group, 'di', '{}', :now)"
                    ),
                    {"id": group, "passport": PASSPORT, "group": group, "now": now},
                )
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO credentials (id, passport_id, access_group, format, body, "
                    "created_at) VALUES ('new', :passport, 'annex-xiii-1', 'di', '{}', :now)"
                ),
                {"passport": PASSPORT, "now": now},
            )
        db.upgrade()
        with db.reading() as s:
            kept = Passports(s).credentials(PASSPORT)
            assert sorted(c.access_group for c in kept) == [
                "authorities",
                "legitimate_interest",
                "public",
            ]
        with db.transaction() as s:
            s.execute(
                text(
                    "INSERT INTO credentials (id, passport_id, access_group, format, body, "
                    "created_at) VALUES ('new', :passport, 'annex-xiii-1', 'di', '{}', :now)"
                ),
                {"passport": PASSPORT, "now": now},
            )
    finally:
        db.dispose()
