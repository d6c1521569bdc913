"""Version counters of instance-wide state that every process keeps parsed in memory.

The imported white-list, the pinned DID documents and the pinned contexts change rarely
and are read on every conversion or verification. Each process keeps its copy and,
before using it, reads one small row here; every writer raises the counter in the
transaction that changes the state, so a change made through one instance is used by the
next request any other instance serves (the pattern of the status lists' ``version``).
"""

from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.store import tables

#: The kinds of state counted here.
WHITELIST = "whitelist"
DID_DOCUMENTS = "did_documents"
CONTEXTS = "contexts"

#: Built once: the statements readers run on every use of their copy.
_VERSION = select(tables.InstanceState.version).where(
    tables.InstanceState.name == bindparam("name")
)
_VERSIONS = select(tables.InstanceState.name, tables.InstanceState.version).where(
    tables.InstanceState.name.in_(bindparam("names", expanding=True))
)


def state_version(session: Session, name: str) -> int:
    """The current version of one kind of state (0 before its first change)."""
    return session.scalar(_VERSION, {"name": name}) or 0


def state_versions(session: Session, names: tuple[str, ...]) -> dict[str, int]:
    """The current versions of several kinds of state, in one query (a verification
    checks its DID documents and contexts together)."""
    found = {name: version for name, version in session.execute(_VERSIONS, {"names": list(names)})}
    return {name: found.get(name) or 0 for name in names}


def raise_version(session: Session, name: str) -> int:
    """Raise one kind of state's version, in the writer's transaction.

    :returns: the new version.
    """
    bumped = session.execute(
        update(tables.InstanceState)
        .where(tables.InstanceState.name == name)
        .values(version=tables.InstanceState.version + 1)
    )
    if getattr(bumped, "rowcount", 0) == 0:
        # The first change of this kind: a savepoint, since another writer may make the
        # row first (then its counter is raised instead).
        try:
            with session.begin_nested():
                session.add(tables.InstanceState(name=name, version=1))
        except IntegrityError:
            return raise_version(session, name)
    return state_version(session, name)
