"""Access tables stored by admins: every version kept, the newest in force.

The repository keeps the text and who stored it; reading and checking a table is
:mod:`gateway.access.table`, choosing between the stored and the shipped one is
:mod:`gateway.services.access`. Storing is audited (``access_table.set``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.errors import Conflict
from gateway.store import tables
from gateway.store.audit import AuditLog
from gateway.store.tables import utcnow


@dataclass(frozen=True)
class StoredAccessTable:
    """One stored version, as CSV text (see :meth:`gateway.access.table.AccessTable.csv_text`)."""

    id: int
    name: str
    version: str
    table: str
    sha256: str
    reason: str
    added_by: str
    added_at: datetime


def _stored(row: tables.AccessTableVersion) -> StoredAccessTable:
    return StoredAccessTable(
        row.id, row.name, row.version, row.table, row.sha256, row.reason, row.added_by, row.added_at
    )


class AccessTables:
    """Stored access tables, within one unit of work.

    :param session: the unit of work's session.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def current(self) -> StoredAccessTable | None:
        """The newest stored version, ``None`` while there is none."""
        row = self.session.scalars(
            select(tables.AccessTableVersion).order_by(tables.AccessTableVersion.id.desc()).limit(1)
        ).first()
        return None if row is None else _stored(row)

    def history(self) -> list[StoredAccessTable]:
        """Every stored version, oldest first."""
        rows = self.session.scalars(
            select(tables.AccessTableVersion).order_by(tables.AccessTableVersion.id)
        )
        return [_stored(r) for r in rows]

    def add(
        self, name: str, version: str, table: str, sha256: str, *, reason: str, actor: str
    ) -> StoredAccessTable:
        """Store a checked table as the one in force (audited as ``access_table.set``).

        :raises Conflict: that name and version is stored already.
        """
        taken = self.session.scalar(
            select(tables.AccessTableVersion.id).where(
                tables.AccessTableVersion.name == name,
                tables.AccessTableVersion.version == version,
            )
        )
        if taken is not None:
            raise Conflict(
                f"access table {name}@{version} is stored already; give a new version",
                pointer="/version",
            )
        row = tables.AccessTableVersion(
            name=name,
            version=version,
            table=table,
            sha256=sha256,
            reason=reason,
            added_by=actor,
            added_at=utcnow(),
        )
        self.session.add(row)
        self.session.flush()
        AuditLog(self.session).append(
            actor,
            "access_table.set",
            f"access-table:{name}@{version}",
            {"sha256": sha256, "reason": reason},
        )
        return _stored(row)
