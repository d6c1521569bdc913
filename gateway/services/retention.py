"""How long stored content is kept, what is due, and the purge (``gateway retention``).

Per tenant: national records and the BMS-derived values they carry, and audit events,
are kept :data:`~gateway.store.retention.MIN_YEARS` years by default, longer if the
tenant sets it, never shorter. Passports, their credentials and status lists are not
purged: a passport must exist as long as Art. 77 of Regulation (EU) 2023/1542 says
(beyond the battery's life), and the status lists its credentials point at with it.

The audit log is one chain for the whole instance, so its events are due after the
longest audit period any tenant set. A purge clears contents and keeps rows and digests
(``gateway.store.retention``), and writes one audit event naming counts and periods,
never contents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.store import AuditLog, Tenants
from gateway.store.audit import PURGE_ACTION
from gateway.store.db import Database
from gateway.store.retention import MIN_YEARS, Periods, Retention, years_before
from gateway.store.tables import utcnow

#: What is kept for as long as the passport must exist, and so never purged here.
KEPT_WITH_PASSPORT = ("passports", "credentials", "status lists")


@dataclass(frozen=True)
class RecordsDue:
    """A tenant's records due for purge."""

    periods: Periods
    stored_before: datetime
    due: int
    oldest: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            **self.periods.as_json(),
            "records_stored_before": _when(self.stored_before),
            "records_due": self.due,
            "oldest_due": None if self.oldest is None else _when(self.oldest),
        }


@dataclass(frozen=True)
class RetentionPlan:
    """What is due at one moment.

    :ivar audit_years: the audit period in force for the whole log.
    :ivar audit_through_id: the last audit event due, ``None`` when none is.
    """

    at: datetime
    tenants: list[RecordsDue]
    audit_years: int
    audit_stored_before: datetime
    audit_due: int
    audit_through_id: int | None
    kept_with_passport: tuple[str, ...] = field(default=KEPT_WITH_PASSPORT)

    def as_json(self) -> dict[str, Any]:
        return {
            "at": _when(self.at),
            "tenants": [t.as_json() for t in self.tenants],
            "audit": {
                "years": self.audit_years,
                "stored_before": _when(self.audit_stored_before),
                "due": self.audit_due,
                "through_id": self.audit_through_id,
            },
            "kept_with_passport": list(self.kept_with_passport),
        }


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _plan(retention: Retention, now: datetime) -> RetentionPlan:
    tenants = []
    periods = retention.periods()
    for p in periods:
        cutoff = years_before(now, p.records_years)
        due, oldest = retention.records_due(p.tenant_id, cutoff)
        tenants.append(RecordsDue(p, cutoff, due, oldest))
    audit_years = max([MIN_YEARS, *(p.audit_years for p in periods)])
    audit_cutoff = years_before(now, audit_years)
    audit_due, through = retention.audit_due(audit_cutoff)
    return RetentionPlan(now, tenants, audit_years, audit_cutoff, audit_due, through)


def retention_plan(db: Database, now: datetime | None = None) -> RetentionPlan:
    """Every tenant's periods and what is due.

    :param now: the moment to judge at (default: now).
    """
    with db.reading() as session:
        return _plan(Retention(session), now or utcnow())


def set_retention(
    db: Database, tenant: str, actor: str, *, records_years: int | None, audit_years: int | None
) -> Periods:
    """Lengthen a tenant's periods (never shorter than in force), audited.

    :raises NotFound: no such tenant.
    :raises InvalidInput: a period shorter than the one in force, or than the floor.
    """
    with db.transaction() as session:
        tenant_id = Tenants(session).get(tenant).id
        retention = Retention(session)
        [now] = [p for p in retention.periods() if p.tenant_id == tenant_id]
        records = now.records_years if records_years is None else records_years
        audit = now.audit_years if audit_years is None else audit_years
        retention.set(tenant_id, records, audit, actor)
        AuditLog(session).append(
            actor,
            "retention.set",
            f"tenant:{tenant}",
            {
                "records_years": {"from": now.records_years, "to": records},
                "audit_years": {"from": now.audit_years, "to": audit},
            },
        )
        [after] = [p for p in retention.periods() if p.tenant_id == tenant_id]
        return after


def purge(
    db: Database, actor: str, *, now: datetime | None = None, dry_run: bool = False
) -> tuple[RetentionPlan, dict[str, Any] | None]:
    """Purge what is due: clear due records (destroying the data keys of years left
    empty) and the details of due audit events; one audit event names counts and
    periods.

    :param dry_run: only say what would be purged.
    :returns: the plan, and the purge event's data (``None`` for a dry run or when
        nothing was due).
    """
    moment = now or utcnow()
    with db.transaction() as session:
        retention = Retention(session)
        plan = _plan(retention, moment)
        nothing = plan.audit_due == 0 and not any(t.due for t in plan.tenants)
        if dry_run or nothing:
            return plan, None
        records: dict[str, Any] = {}
        for t in plan.tenants:
            if not t.due:
                continue
            cleared, destroyed = retention.purge_records(t.periods.tenant_id, t.stored_before)
            records[t.periods.tenant] = {
                "years": t.periods.records_years,
                "stored_before": _when(t.stored_before),
                "cleared": cleared,
                "data_keys_destroyed": destroyed,
            }
        audit_cleared = retention.purge_audit(plan.audit_stored_before) if plan.audit_due else 0
        data: dict[str, Any] = {
            "records": records,
            "audit": {
                "years": plan.audit_years,
                "stored_before": _when(plan.audit_stored_before),
                "cleared": audit_cleared,
                "through_id": plan.audit_through_id if audit_cleared else None,
            },
        }
        AuditLog(session).append(actor, PURGE_ACTION, "retention", data)
        return plan, data
