"""Retention periods per tenant, and the purge of stored content that is due.

What is purged is content, never a row: a passport keeps its id, hashes, status and
credentials (the passport must exist as long as Art. 77 says, and its status list
entries with it; its credentials are sealed under the tenant's lasting key, which no
purge destroys), losing its national record; an audit event keeps its place and its
chained digests, losing its details. So the audit chain still verifies after a purge
(``gateway.store.audit``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from gateway.errors import InvalidInput
from gateway.store import tables
from gateway.store.encryption import LASTING, DataKeys

#: The floor, and the default, in years: the 2026 campaign's checklist asks recyclers
#: and integrators to keep BMS data at least eight years.
MIN_YEARS = 8


@dataclass(frozen=True)
class Periods:
    """A tenant's retention periods in years.

    :ivar records_years: national records and the BMS-derived values they carry.
    :ivar audit_years: audit events.
    :ivar set_by: who set them; ``None`` for the defaults.
    """

    tenant_id: int
    tenant: str
    records_years: int = MIN_YEARS
    audit_years: int = MIN_YEARS
    set_by: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "records_years": self.records_years,
            "audit_years": self.audit_years,
            "set_by": self.set_by,
        }


def years_before(moment: datetime, years: int) -> datetime:
    """The same instant ``years`` calendar years earlier (29 February -> 28 February)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


class Retention:
    """Retention periods and purges, within one unit of work.

    :param session: the unit of work's session.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def periods(self) -> list[Periods]:
        """Every tenant's periods, by tenant name."""
        rows = self.session.execute(
            select(tables.Tenant, tables.RetentionPolicy)
            .outerjoin(tables.RetentionPolicy, tables.RetentionPolicy.tenant_id == tables.Tenant.id)
            .order_by(tables.Tenant.name)
        )
        found = []
        for tenant, row in rows:
            policy: tables.RetentionPolicy | None = row
            if policy is None:
                found.append(Periods(tenant.id, tenant.name))
            else:
                found.append(
                    Periods(
                        tenant.id,
                        tenant.name,
                        policy.records_years,
                        policy.audit_years,
                        policy.set_by,
                    )
                )
        return found

    def set(self, tenant_id: int, records_years: int, audit_years: int, actor: str) -> None:
        """Set a tenant's periods; they may only grow past the floor and never shrink.

        :raises InvalidInput: a period under :data:`MIN_YEARS` or under the one in force.
        """
        row = self.session.get(tables.RetentionPolicy, tenant_id, with_for_update=True)
        floor = (MIN_YEARS, MIN_YEARS) if row is None else (row.records_years, row.audit_years)
        for name, value, least in (
            ("records_years", records_years, floor[0]),
            ("audit_years", audit_years, floor[1]),
        ):
            if not least <= value <= 100:
                raise InvalidInput(
                    f"{name} must be between {least} (the period in force) and 100",
                    pointer=f"/{name}",
                )
        if row is None:
            row = tables.RetentionPolicy(tenant_id=tenant_id)
            self.session.add(row)
        row.records_years, row.audit_years = records_years, audit_years
        row.set_by, row.set_at = actor, tables.utcnow()
        self.session.flush()

    def records_due(self, tenant_id: int, cutoff: datetime) -> tuple[int, datetime | None]:
        """How many of a tenant's records were stored before ``cutoff`` and still hold
        content, and the oldest one's time."""
        row = self.session.execute(
            select(func.count(), func.min(tables.Passport.created_at)).where(
                *self._records_due(tenant_id, cutoff)
            )
        ).one()
        return int(row[0]), row[1]

    def purge_records(self, tenant_id: int, cutoff: datetime) -> tuple[int, int]:
        """Clear the records stored before ``cutoff`` and destroy the tenant's data keys
        of the calendar years that now hold no record (crypto-shredding).

        :returns: ``(records cleared, data keys destroyed)``.
        """
        now = tables.utcnow()
        cleared = self._changed(
            update(tables.Passport)
            .where(*self._records_due(tenant_id, cutoff))
            .values(record=None, record_sealed=None, record_purged_at=now)
            .execution_options(synchronize_session=False)
        )
        # Whole years before the cutoff's year are fully due: their keys can go.
        destroyed = DataKeys(self.session).destroy(
            tenant_id, [y for y in self._key_years(tenant_id) if LASTING < y < cutoff.year]
        )
        return cleared, destroyed

    def audit_due(self, cutoff: datetime) -> tuple[int, int | None]:
        """How many audit events before ``cutoff`` still hold details, and the last id."""
        row = self.session.execute(
            select(func.count(), func.max(tables.AuditEvent.id)).where(
                tables.AuditEvent.at < cutoff, tables.AuditEvent.purged_at.is_(None)
            )
        ).one()
        return int(row[0]), row[1]

    def purge_audit(self, cutoff: datetime) -> int:
        """Clear the details of audit events before ``cutoff``, keeping their digests.

        :returns: how many were cleared.
        """
        return self._changed(
            update(tables.AuditEvent)
            .where(tables.AuditEvent.at < cutoff, tables.AuditEvent.purged_at.is_(None))
            .values(data={}, purged_at=tables.utcnow())
            .execution_options(synchronize_session=False)
        )

    def _changed(self, statement: Any) -> int:
        result = self.session.execute(statement)
        return int(getattr(result, "rowcount", 0) or 0)

    def _key_years(self, tenant_id: int) -> list[int]:
        return list(
            self.session.scalars(
                select(tables.DataKey.period).where(
                    tables.DataKey.tenant_id == tenant_id, tables.DataKey.destroyed_at.is_(None)
                )
            )
        )

    @staticmethod
    def _records_due(tenant_id: int, cutoff: datetime) -> tuple[Any, ...]:
        return (
            tables.Passport.tenant_id == tenant_id,
            tables.Passport.created_at < cutoff,
            tables.Passport.record_purged_at.is_(None),
        )
