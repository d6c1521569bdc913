"""Engine, migrations and units of work.

SQLite (the default, a file in the instance folder) runs in WAL mode so readers never
wait for the writer; every writing unit of work starts with ``BEGIN IMMEDIATE``, which
serialises writers at the start of their transaction instead of failing them half-way
(a deferred SQLite transaction that read first cannot upgrade to a write lock once
another writer has committed). PostgreSQL (``DATABASE_URL``) is the path for several
gateway processes on several machines; there row locks serialise what must be serial.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from gateway import jsontext
from gateway.errors import ConfigError, GatewayError
from gateway.settings import Settings
from gateway.store.encryption import FileKeks, Sealer

# Alembic is imported by the functions that migrate or inspect the schema: about 10 MB a
# process, which a process whose database is already at the shipped head (every server
# worker after the first start) never needs.
if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
_WRITE = "gateway_write"
#: SQLite's result codes for "another connection holds the lock" (SQLITE_BUSY and
#: SQLITE_LOCKED, with their extended codes in the low byte).
_SQLITE_LOCK_CODES = (5, 6)


class DatabaseBusy(GatewayError):
    """The database stayed locked by another writer longer than the busy timeout.

    Nothing was written; the same request can be sent again (``Retry-After`` says when).

    :cvar retry_after: seconds a client should wait before trying again.
    """

    status, slug, title = 503, "database-busy", "Database busy"
    retry_after = 5


def _locked(exc: OperationalError) -> bool:
    code = getattr(exc.orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _SQLITE_LOCK_CODES
    return "database is locked" in str(exc.orig)


@contextmanager
def _busy_is_unavailable() -> Iterator[None]:
    """Turn SQLite's "database is locked" (the busy timeout ran out) into
    :class:`DatabaseBusy`, which callers report as 503 or a one-line CLI error."""
    try:
        yield
    except OperationalError as exc:
        if not _locked(exc):
            raise
        raise DatabaseBusy(
            f"the database stayed locked by another writer for more than "
            f"{SQLITE_BUSY_TIMEOUT_MS / 1000:g} s; nothing was written, try again"
        ) from exc


def normalise_url(url: str) -> URL:
    """Parse a database URL, picking psycopg 3 for PostgreSQL.

    ``postgres://`` and ``postgresql://`` (what hosting platforms hand out) become
    ``postgresql+psycopg://``.

    :param url: a SQLAlchemy or libpq-style URL.
    :returns: the parsed URL.
    :raises ConfigError: for an unparseable URL or an unsupported backend.
    """
    try:
        parsed = make_url(url)
    except Exception as exc:  # ArgumentError and ValueError, with the URL in the message
        raise ConfigError("setting database_url: not a database URL") from exc
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"setting database_url: backend {parsed.get_backend_name()!r} is not supported "
            "(use sqlite or postgresql)"
        )
    return parsed


def _json_text(value: Any) -> str:
    return jsontext.dumps(value).decode("utf-8")


def _json_value(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # integers beyond 64 bits
        return json.loads(text)


def make_engine(url: str) -> Engine:
    """Create an engine with the gateway's connection settings.

    :param url: database URL (see :func:`normalise_url`).
    :returns: the engine; SQLite's parent folder is created if missing.
    :raises ConfigError: for an unsupported URL.
    """
    parsed = normalise_url(url)
    # JSON columns (gap reports, public credentials, audit data) are written and read on
    # every issue; orjson does both several times faster than json, with json for what
    # it refuses.
    json_options: dict[str, Any] = {
        "json_serializer": _json_text,
        "json_deserializer": _json_value,
    }
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, pool_pre_ping=True, **json_options)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, **json_options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module, which would otherwise
        # BEGIN lazily before the first write and never before a read.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """Alembic configuration built in code, so migrations run from the installed package
    without an ``alembic.ini`` in the working directory.

    :param connection: an open connection for ``env.py`` to run on.
    :param url: database URL, used when no connection is given.
    :returns: the configuration.
    """
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser interpolation would read "%" in passwords as a reference.
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    """The newest migration shipped with this version of the gateway.

    :returns: its revision id.
    """
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def shipped_head() -> str:
    """:func:`head_revision` read off the file names, without loading Alembic: each
    migration's file starts with its revision (``0015_compact_stored_forms.py``), and
    each revises the one numbered before it (a test holds both)."""
    return max(
        path.name.partition("_")[0] for path in (MIGRATIONS_DIR / "versions").glob("[0-9]*_*.py")
    )


@dataclass(frozen=True)
class Database:
    """An engine and its two session factories.

    :ivar engine: the SQLAlchemy engine.
    :ivar url: the normalised database URL (password masked by ``str(url)``).
    """

    engine: Engine
    url: URL
    _reader: sessionmaker[Session]
    _writer: sessionmaker[Session]
    sealer: Sealer | None = None

    @classmethod
    def connect(cls, url: str, sealer: Sealer | None = None) -> Database:
        """Open (lazily) a database without touching its schema.

        :param url: database URL.
        :param sealer: what seals and opens stored record content (every session
            carries it in ``info``); ``None``: content that needs it cannot be read or
            written.
        :returns: the database.
        :raises ConfigError: for an unsupported URL.
        """
        engine = make_engine(url)
        writer_engine = engine.execution_options(**{_WRITE: True})
        info = {"sealer": sealer}
        return cls(
            engine=engine,
            url=engine.url,
            _reader=sessionmaker(engine, expire_on_commit=False, info=info),
            _writer=sessionmaker(writer_engine, expire_on_commit=False, info=info),
            sealer=sealer,
        )

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One writing unit of work: commit at the end, roll back on any exception.

        Keep it short: on SQLite it holds the database's single write lock, and on
        PostgreSQL row locks taken inside it (status list allocation) last until it ends.

        :returns: a context manager yielding the session.
        """
        with _busy_is_unavailable(), self._writer() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """One read-only unit of work (a consistent snapshot on SQLite in WAL mode).

        :returns: a context manager yielding the session; on PostgreSQL the transaction
            is ``READ ONLY``.
        """
        with _busy_is_unavailable(), self._reader() as session, session.begin():
            if self.backend == "postgresql":
                session.connection().exec_driver_sql("SET TRANSACTION READ ONLY")
            yield session

    def upgrade(self, revision: str = "head") -> None:
        """Run Alembic migrations up to ``revision``.

        :param revision: target revision.
        """
        if revision == "head" and self._stored_revision() == shipped_head():
            return
        # The writing engine: on SQLite, BEGIN IMMEDIATE makes a second process wait for
        # the first one's migration instead of failing on a stale snapshot.
        with (
            _busy_is_unavailable(),
            self.engine.execution_options(**{_WRITE: True}).connect() as conn,
        ):
            from alembic import command

            if self.backend != "sqlite":
                command.upgrade(alembic_config(conn), revision)
                conn.commit()
                return
            # Batch mode copies a table and drops the original, which SQLite refuses while
            # it enforces foreign keys and other rows point at the table (passports,
            # status lists). The pragma only takes effect outside a transaction: set on
            # the raw connection before the migration begins, the keys checked before
            # it commits, and enforcement back on before the pool reuses the connection.
            raw = conn.connection.dbapi_connection
            assert raw is not None
            raw.execute("PRAGMA foreign_keys=OFF")
            try:
                command.upgrade(alembic_config(conn), revision)
                dangling = conn.exec_driver_sql("PRAGMA foreign_key_check").first()
                if dangling is not None:
                    raise ConfigError(f"a migration left a dangling foreign key: {tuple(dangling)}")
                conn.commit()
            finally:
                conn.rollback()
                raw.execute("PRAGMA foreign_keys=ON")

    def compact(self) -> None:
        """On SQLite, rewrite the file without its free pages (``VACUUM``), which still
        hold the bytes of rows changed or deleted; PostgreSQL reclaims its own space
        (``VACUUM FULL`` by the operator rewrites a table the same way)."""
        if self.backend != "sqlite":
            return
        with _busy_is_unavailable(), self.engine.connect() as conn:
            # VACUUM refuses to run inside a transaction: on the raw connection, before
            # anything makes SQLAlchemy begin one.
            raw = conn.connection.dbapi_connection
            assert raw is not None
            raw.execute("VACUUM")
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def current_revision(self) -> str | None:
        """The revision the database schema is at.

        :returns: the revision id, or ``None`` for an empty database.
        """
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def _stored_revision(self) -> str | None:
        """The revision in Alembic's version table, read with one query (``None``: no
        table yet, or not one revision)."""
        try:
            with _busy_is_unavailable(), self.engine.connect() as conn:
                rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        except (OperationalError, ProgrammingError):  # no version table: a new database
            return None
        return str(rows[0][0]) if len(rows) == 1 else None

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def init_db(settings: Settings) -> Database:
    """Connect to the configured database and bring its schema to the newest revision.

    Safe to run from several processes at once: on PostgreSQL the migration holds an
    advisory lock, on SQLite the write lock.

    :param settings: resolved settings (``database_url`` or the instance folder).
    :returns: the database.
    :raises ConfigError: for an unsupported URL.
    """
    db = Database.connect(settings.db_url, instance_sealer(settings))
    db.upgrade()
    return db


def kek_folder(settings: Settings) -> Path:
    """Where the instance keeps its key-encryption key files."""
    return settings.keys_dir / "kek"


def instance_sealer(settings: Settings) -> Sealer:
    """The sealer over the instance's key-encryption key files."""
    return Sealer(FileKeks(kek_folder(settings)))
