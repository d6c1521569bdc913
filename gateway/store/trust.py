"""Trust lists: the issuers a verifier accepts, instance-wide or for one tenant.

Each entry records who added it and when; adding and removing are audited
(``trust.added`` / ``trust.removed``). The rules for what an entry may hold live in
:mod:`gateway.credentials.trust`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gateway.credentials.trust import TrustList, check_entry
from gateway.errors import Conflict, NotFound
from gateway.store import tables
from gateway.store.audit import AuditLog
from gateway.store.tables import utcnow

#: Most entries one scope holds; a trust list is a short list of vetted issuers.
MAX_ENTRIES = 1000


@dataclass(frozen=True)
class TrustEntry:
    """One trusted issuer as listed.

    :ivar tenant: the tenant's name, or None for an instance-wide entry.
    """

    id: int
    tenant: str | None
    kind: str
    value: str
    added_by: str
    added_at: datetime

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "scope": f"tenant:{self.tenant}" if self.tenant else "instance",
            "kind": self.kind,
            "value": self.value,
            "addedBy": self.added_by,
            "addedAt": self.added_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


class TrustedIssuers:
    """The trust lists, within one unit of work.

    :param session: the unit of work's session.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def _entries(self, rows: list[tuple[tables.TrustedIssuer, str | None]]) -> list[TrustEntry]:
        return [TrustEntry(r.id, name, r.kind, r.value, r.added_by, r.added_at) for r, name in rows]

    def listing(
        self, tenant_id: int | None = None, *, every_tenant: bool = False
    ) -> list[TrustEntry]:
        """Instance-wide entries and those of ``tenant_id`` (or of every tenant).

        :returns: the entries, oldest first.
        """
        query = select(tables.TrustedIssuer, tables.Tenant.name).outerjoin(
            tables.Tenant, tables.Tenant.id == tables.TrustedIssuer.tenant_id
        )
        if not every_tenant:
            query = query.where(
                or_(
                    tables.TrustedIssuer.tenant_id.is_(None),
                    tables.TrustedIssuer.tenant_id == tenant_id,
                )
            )
        rows = self.session.execute(query.order_by(tables.TrustedIssuer.id)).all()
        return self._entries([(r, n) for r, n in rows])

    def trust_list(self, tenant_id: int | None, own: tuple[str, ...] = ()) -> TrustList:
        """The list a verification for ``tenant_id`` (None: anonymous) judges by."""
        dids: set[str] = set()
        domains: set[str] = set()
        sources: dict[str, str] = {}
        for entry in self.listing(tenant_id):
            (dids if entry.kind == "did" else domains).add(entry.value)
            sources.setdefault(
                entry.value, f"tenant {entry.tenant}" if entry.tenant else "instance-wide"
            )
        return TrustList(frozenset(dids), frozenset(domains), frozenset(own), sources)

    def add(self, kind: str, value: str, *, tenant_id: int | None, actor: str) -> TrustEntry:
        """Add an entry.

        :raises InvalidInput: not a DID / host name. :raises Conflict: already listed, or
            the scope is full.
        """
        value = check_entry(kind, value)
        scope = tables.TrustedIssuer.tenant_id
        same_scope = scope.is_(None) if tenant_id is None else scope == tenant_id
        existing = self.session.scalars(
            select(tables.TrustedIssuer).where(
                same_scope, tables.TrustedIssuer.kind == kind, tables.TrustedIssuer.value == value
            )
        ).first()
        if existing is not None:
            raise Conflict(
                f"that {kind} is already on this trust list (entry {existing.id})",
                pointer=f"/{kind}",
            )
        count = len(self.session.scalars(select(tables.TrustedIssuer.id).where(same_scope)).all())
        if count >= MAX_ENTRIES:
            raise Conflict(f"a trust list holds at most {MAX_ENTRIES} entries", pointer=f"/{kind}")
        row = tables.TrustedIssuer(
            tenant_id=tenant_id, kind=kind, value=value, added_by=actor, added_at=utcnow()
        )
        self.session.add(row)
        self.session.flush()
        name = self._tenant_name(tenant_id)
        AuditLog(self.session).append(
            actor,
            "trust.added",
            f"trust:{row.id}",
            {"scope": f"tenant:{name}" if name else "instance", "kind": kind, "value": value},
        )
        return TrustEntry(row.id, name, kind, value, actor, row.added_at)

    def get(self, entry_id: int) -> TrustEntry:
        """One entry.

        :raises NotFound: no such entry.
        """
        row = self.session.get(tables.TrustedIssuer, entry_id)
        if row is None:
            raise NotFound(f"no trust list entry {entry_id}", pointer="id")
        return TrustEntry(
            row.id,
            self._tenant_name(row.tenant_id),
            row.kind,
            row.value,
            row.added_by,
            row.added_at,
        )

    def remove(self, entry_id: int, *, actor: str) -> TrustEntry:
        """Remove an entry (audited).

        :raises NotFound: no such entry.
        """
        entry = self.get(entry_id)
        row = self.session.get(tables.TrustedIssuer, entry_id)
        self.session.delete(row)
        self.session.flush()
        AuditLog(self.session).append(
            actor,
            "trust.removed",
            f"trust:{entry_id}",
            {
                "scope": f"tenant:{entry.tenant}" if entry.tenant else "instance",
                "kind": entry.kind,
                "value": entry.value,
            },
        )
        return entry

    def tenant_of(self, entry_id: int) -> int | None:
        """The tenant id of an entry (None: instance-wide).

        :raises NotFound: no such entry.
        """
        row = self.session.get(tables.TrustedIssuer, entry_id)
        if row is None:
            raise NotFound(f"no trust list entry {entry_id}", pointer="id")
        return row.tenant_id

    def _tenant_name(self, tenant_id: int | None) -> str | None:
        if tenant_id is None:
            return None
        row = self.session.get(tables.Tenant, tenant_id)
        return row.name if row is not None else None
