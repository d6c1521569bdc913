"""The disclosure log: every response that gave point 2, 3 or 4 data of a passport to a
party other than its issuing tenant (which reads count is
:mod:`gateway.access.disclosure`).

Rows are only ever added; the issuing tenant lists its own, admins every tenant's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from gateway import annex_xiii
from gateway.errors import InvalidInput
from gateway.store import tables
from gateway.store.tables import utcnow

MAX_LIMIT = 1000


@dataclass(frozen=True)
class NewDisclosure:
    """One disclosure to record.

    :ivar points: the restricted points the response carried.
    :ivar basis: why the reader was entitled (``grant:3``, ``role:authority`` ...).
    """

    tenant_id: int
    passport_id: str
    reader_tenant_id: int
    reader_key_id: int
    actor: str
    points: frozenset[annex_xiii.Point]
    basis: tuple[str, ...]
    channel: str


@dataclass(frozen=True)
class StoredDisclosure:
    id: int
    at: datetime
    issuer: str
    passport_id: str
    battery_code: str
    reader_tenant: str
    reader_key_id: int
    actor: str
    points: frozenset[annex_xiii.Point]
    basis: tuple[str, ...]
    channel: str

    @property
    def grant_ids(self) -> list[int]:
        return [int(b.partition(":")[2]) for b in self.basis if b.startswith("grant:")]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "issuer": self.issuer,
            "passport": self.passport_id,
            "batteryCode": self.battery_code,
            "reader": {"tenant": self.reader_tenant, "key": self.reader_key_id},
            "actor": self.actor,
            "points": sorted(self.points),
            "basis": list(self.basis),
            "channel": self.channel,
        }


_ISSUER = aliased(tables.Tenant)
_READER = aliased(tables.Tenant)


class Disclosures:
    """The disclosure log, within one unit of work.

    :param session: the unit of work's session.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, disclosure: NewDisclosure) -> int:
        """Add one entry, timed now.

        :returns: its id.
        """
        row = tables.Disclosure(
            at=utcnow(),
            tenant_id=disclosure.tenant_id,
            passport_id=disclosure.passport_id,
            reader_tenant_id=disclosure.reader_tenant_id,
            reader_key_id=disclosure.reader_key_id,
            actor=disclosure.actor,
            points=annex_xiii.format_points(disclosure.points),
            basis=" ".join(disclosure.basis)[:255],
            channel=disclosure.channel,
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def listing(
        self,
        tenant_id: int | None,
        *,
        passport_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after_id: int = 0,
        limit: int = 100,
    ) -> list[StoredDisclosure]:
        """Entries in id (time) order, a page at a time.

        :param tenant_id: only this issuing tenant's; ``None`` for every tenant's.
        :param passport_id: only this passport's.
        :param since: only entries at or after. :param until: only entries before.
        :param after_id: the last id of the previous page.
        :param limit: page size, 1-1000.
        :raises InvalidInput: a bad limit.
        """
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", pointer="limit")
        D = tables.Disclosure
        query = (
            select(D, _ISSUER.name, _READER.name, tables.Passport.battery_code)
            .join(_ISSUER, _ISSUER.id == D.tenant_id)
            .join(_READER, _READER.id == D.reader_tenant_id)
            .join(tables.Passport, tables.Passport.id == D.passport_id)
            .where(D.id > after_id)
        )
        if tenant_id is not None:
            query = query.where(D.tenant_id == tenant_id)
        if passport_id is not None:
            query = query.where(D.passport_id == passport_id)
        if since is not None:
            query = query.where(D.at >= since)
        if until is not None:
            query = query.where(D.at < until)
        rows = self.session.execute(query.order_by(D.id).limit(limit)).all()
        return [
            StoredDisclosure(
                id=row.id,
                at=row.at,
                issuer=issuer,
                passport_id=row.passport_id,
                battery_code=code,
                reader_tenant=reader,
                reader_key_id=row.reader_key_id,
                actor=row.actor,
                points=annex_xiii.parse_points(row.points),
                basis=tuple(row.basis.split()),
                channel=row.channel,
            )
            for row, issuer, reader, code in rows
        ]
