"""Engine settings, migrations and units of work on both backends."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from gateway.errors import ConfigError
from gateway.settings import Settings
from gateway.store import Tenants
from gateway.store.db import Database, head_revision, init_db, normalise_url
from gateway.store.tables import Base, Tenant

TABLES = {
    "tenants",
    "api_keys",
    "passports",
    "credentials",
    "status_lists",
    "mapping_versions",
    "audit_events",
    "data_keys",
    "retention_policies",
    "trusted_issuers",
    "pinned_contexts",
    "web_sessions",
    "export_approvals",
    "tenant_policies",
    "access_tables",
    "access_grants",
    "disclosures",
    "registry_profiles",
    "registry_registrations",
    "upi_schemes",
    "unique_product_identifiers",
    "jobs",
    "job_chunks",
    "whitelist_listings",
    "pinned_did_documents",
    "instance_secrets",
    "instance_state",
    "gap_report_templates",
    "alembic_version",
}


def test_upgrade_from_empty(db_url: str) -> None:
    db = Database.connect(db_url)
    try:
        assert db.current_revision() is None
        assert not set(inspect(db.engine).get_table_names()) & TABLES
        db.upgrade()
        assert db.current_revision() == head_revision()
        assert set(inspect(db.engine).get_table_names()) == TABLES
        db.upgrade()  # running again is harmless
        assert db.current_revision() == head_revision()
    finally:
        db.dispose()


def test_migrations_match_models(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_to_empty(db: Database) -> None:
    from alembic import command

    from gateway.store.db import alembic_config

    with db.engine.connect() as conn:
        command.downgrade(alembic_config(conn), "base")
        conn.commit()
    assert not set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    db.upgrade()
    assert db.current_revision() == head_revision()


def test_sqlite_pragmas(tmp_path) -> None:
    db = init_db(Settings(home=tmp_path / "inst"))
    try:
        assert (tmp_path / "inst" / "gateway.sqlite").is_file()
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        db.dispose()


def test_transaction_rolls_back_on_error(db: Database) -> None:
    with pytest.raises(RuntimeError), db.transaction() as session:
        Tenants(session).create("acme")
        raise RuntimeError("boom")
    with db.reading() as session:
        assert session.scalars(select(Tenant)).all() == []


def test_foreign_keys_enforced(db: Database) -> None:
    from sqlalchemy.exc import IntegrityError

    from gateway.store.tables import ApiKey

    with pytest.raises(IntegrityError), db.transaction() as session:
        session.add(ApiKey(tenant_id=999, role="admin", prefix="x", hash="x"))
        session.flush()


def test_reading_is_read_only_on_postgresql(db: Database) -> None:
    if db.backend != "postgresql":
        pytest.skip("PostgreSQL only")
    from sqlalchemy.exc import InternalError

    with pytest.raises(InternalError), db.reading() as session:
        session.add(Tenant(name="x"))
        session.flush()


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgres://u:p@h/db", "postgresql+psycopg"),
        ("postgresql://u:p@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u:p@h/db", "postgresql+psycopg"),
        ("sqlite:///x.sqlite", "sqlite"),
    ],
)
def test_normalise_url(url: str, driver: str) -> None:
    assert normalise_url(url).drivername == driver


@pytest.mark.parametrize("url", ["mysql://u:p@h/db", "not a url"])
def test_unsupported_url(url: str) -> None:
    with pytest.raises(ConfigError, match="database_url"):
        normalise_url(url)


def test_json_columns_round_trip_what_orjson_refuses(db: Database) -> None:
    """JSON columns are written and read by orjson, with ``json`` for what it refuses
    (integers beyond 64 bits): the value read back is the value written."""
    from sqlalchemy import JSON, Column, Integer, MetaData, Table, insert

    table = Table(
        "json_probe", MetaData(), Column("id", Integer, primary_key=True), Column("v", JSON)
    )
    value = {"big": 2**70, "text": "蜀都 🔋 \u2028", "nested": [1, {"a": None}], "ok": True}
    table.create(db.engine)
    try:
        with db.engine.begin() as conn:
            conn.execute(insert(table), [{"id": 1, "v": value}])
        with db.engine.connect() as conn:
            assert conn.execute(select(table.c.v)).scalar_one() == value
    finally:
        table.drop(db.engine)
