"""Alembic environment, configured in code by :func:`gateway.store.db.alembic_config`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from gateway.store.db import make_engine
from gateway.store.tables import Base

# Any constant key works; it only has to be the same in every gateway process.
_MIGRATION_LOCK = 0x6761_7465_7761_7901


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Several gateway processes may start (and migrate) at once.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        context.run_migrations()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database connection or URL given to the migrations")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


main()
