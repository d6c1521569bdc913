"""The database as the :class:`~gateway.credentials.status_list.StatusListStore` of the
status registry, so issuing, status changes and verification all read the same lists.

The registry loads a list, changes it in memory and saves it. Two processes doing that
at once would each overwrite the other's bits, so a store opened for writing locks the
row it loads until its unit of work ends (``SELECT ... FOR UPDATE`` on PostgreSQL;
SQLite's ``BEGIN IMMEDIATE`` already serialises writers, see :mod:`gateway.store.db`).
Use a writing store inside one short :meth:`~gateway.store.db.Database.transaction`.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.credentials.model import format_datetime
from gateway.credentials.status_list import StatusList
from gateway.store import tables
from gateway.store.status_lists import StatusLists

# Serialises writers that may create a list on PostgreSQL (see :meth:`urls`); any
# constant works if every process uses it.
_NEW_LIST_LOCK = 0x6761_7465_7761_7903


def _allocated(row: tables.StatusList) -> bytearray:
    if row.allocated is not None:
        return bytearray(row.allocated)
    # A list filled in order: its first next_index indexes are taken.
    bits = bytearray(row.size // 8)
    full, rest = divmod(row.next_index, 8)
    bits[:full] = b"\xff" * full
    if rest:
        bits[full] = (0xFF << (8 - rest)) & 0xFF
    return bits


class DatabaseStatusListStore:
    """Status lists kept in the ``status_lists`` table.

    :param session: the unit of work's session.
    :param lock: lock each loaded list until the unit of work ends (for writers); leave
        off for reading (a read-only PostgreSQL transaction refuses ``FOR UPDATE``).
    """

    def __init__(self, session: Session, *, lock: bool = True) -> None:
        self.session = session
        self.lock = lock

    def load(self, url: str) -> StatusList | None:
        """The list whose credential id is ``url``.

        :param url: the list's id.
        :returns: the list, or ``None`` when there is none.
        """
        found = self.versioned(url)
        return None if found is None else found[0]

    def version(self, url: str) -> int | None:
        """The version of the list ``url`` (raised by every change), ``None`` when there
        is none: what a verifier's cache checks before it trusts its decoded copy."""
        return StatusLists(self.session).version(url)

    def versioned(self, url: str) -> tuple[StatusList, int] | None:
        """The list whose credential id is ``url``, with the version it was read at.

        :param url: the list's id.
        :returns: the list and its version, or ``None`` when there is none.
        """
        query = select(tables.StatusList).where(tables.StatusList.id == url)
        if self.lock:
            query = query.with_for_update()
        row = self.session.scalar(query.execution_options(populate_existing=True))
        if row is None:
            return None
        return StatusList(
            url=row.id,
            purpose=row.purpose,
            issuer=row.issuer,
            created=format_datetime(row.created_at),
            bits=bytearray(row.bitstring),
            allocated=_allocated(row),
            reasons={int(k): str(v) for k, v in (row.reasons or {}).items()},
            count=row.next_index,
        ), row.version

    def save(self, status_list: StatusList) -> None:
        """Create or replace a list.

        :param status_list: the list.
        """
        row = self.session.get(tables.StatusList, status_list.url)
        if row is None:
            row = tables.StatusList(
                id=status_list.url,
                purpose=status_list.purpose,
                issuer=status_list.issuer,
                size=status_list.size,
            )
            self.session.add(row)
        row.bitstring = bytes(status_list.bits)
        row.allocated = bytes(status_list.allocated)
        row.next_index = status_list.count
        row.reasons = {str(k): v for k, v in sorted(status_list.reasons.items())}
        self.session.flush()

    def urls(self) -> list[str]:
        """Every list's id.

        A writer reads them to choose the list it allocates from, or the id of the next
        one when the last is full. On PostgreSQL two writers would then both create that
        list (a row lock cannot cover a row that does not exist yet), so a writing store
        first takes a transaction-scoped advisory lock, which makes the second wait and
        then see the first's list; SQLite's ``BEGIN IMMEDIATE`` already serialises them.

        :returns: the ids, sorted.
        """
        if self.lock and self.session.get_bind().dialect.name == "postgresql":
            self.session.connection().exec_driver_sql(
                f"SELECT pg_advisory_xact_lock({_NEW_LIST_LOCK})"
            )
        query = select(tables.StatusList.id).order_by(tables.StatusList.id)
        return list(self.session.scalars(query))
