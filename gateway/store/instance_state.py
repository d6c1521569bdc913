"""Version counters of instance-wide state that every process keeps parsed in memory.

The imported white-list, the pinned DID documents and the pinned contexts change rarely
and are read on every conversion or verification. Each process keeps its copy and,
before using it, reads one small row here; every writer raises the counter in the
transaction that changes the state, so a change made through one instance is used by the
next request any other instance serves (the pattern of the status lists' ``version``).
The status lists have a counter here too, raised by every unit of work that changes a
list: a verifier that finds it unchanged knows every list it holds decoded is current
without asking each list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from gateway.store import tables

if TYPE_CHECKING:
    from gateway.store.db import Database

#: The kinds of state counted here.
WHITELIST = "whitelist"
DID_DOCUMENTS = "did_documents"
CONTEXTS = "contexts"
STATUS_LISTS = "status_lists"

#: Built once: the statement readers run on every use of their copy. Every row (one per
#: kind, four at most) rather than those named: an ``IN`` list of parameters is rendered
#: anew on each execution, which costs more than the query.
_VERSIONS = select(tables.InstanceState.name, tables.InstanceState.version)
#: Its text per dialect, for :func:`read_versions` (no parameters).
_VERSIONS_SQL: dict[str, str] = {}


def state_version(session: Session, name: str) -> int:
    """The current version of one kind of state (0 before its first change)."""
    return state_versions(session, (name,))[name]


def state_versions(session: Session, names: tuple[str, ...]) -> dict[str, int]:
    """The current versions of several kinds of state, in one query (a verification
    checks its contexts, DID documents and status lists together)."""
    # Core on the unit of work's connection: no ORM result machinery for a few integers.
    rows = session.connection().execute(_VERSIONS)
    return versions_of({name: version for name, version in rows}, names)


def versions_of(found: dict[str, int], names: tuple[str, ...]) -> dict[str, int]:
    """The versions of ``names`` among the rows ``found`` (0 for a kind never changed)."""
    return {name: found.get(name) or 0 for name in names}


def read_versions(db: Database) -> dict[str, int] | None:
    """Every kind's current version, read by one statement on a pooled connection
    outside any unit of work; ``None`` when the driver fails (the caller then reads in a
    unit of work, whose errors the gateway answers).

    A verification asks this before anything else and, when nothing changed, reads
    nothing more. A unit of work around the query (session, BEGIN, result machinery,
    COMMIT) costs some ten times the query itself. One statement reads one committed
    state, the latest one, on SQLite in WAL mode as on PostgreSQL.
    """
    engine = db.engine
    text = _VERSIONS_SQL.get(engine.dialect.name)
    if text is None:
        text = _VERSIONS_SQL[engine.dialect.name] = str(_VERSIONS.compile(dialect=engine.dialect))
    try:
        connection = engine.raw_connection()
    except SQLAlchemyError:  # no connection: the unit of work answers
        return None
    try:
        cursor = connection.cursor()
        try:
            cursor.execute(text)
            return {name: version for name, version in cursor.fetchall()}
        finally:
            cursor.close()
    except engine.dialect.loaded_dbapi.Error:
        return None
    finally:
        connection.close()


def raise_version(session: Session, name: str) -> None:
    """Raise one kind of state's version, in the writer's transaction: one insert-or-raise
    statement, which also makes the kind's row on its first change (two writers making it
    at once count twice, as any two changes do)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = tables.InstanceState.__table__
    statement = dialect.insert(table).values(name=name, version=1)
    session.connection().execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.name], set_={"version": table.c.version + 1}
        )
    )
