"""Access grants: stored, listed (given and received), revoked, and found for one reader
of one passport.

What a grant may say is checked before it gets here (:mod:`gateway.access.grants`);
what it opens is :mod:`gateway.services.access`. Adding and revoking are audited
(``grant.added`` / ``grant.revoked``, subject ``grant:<id>``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, aliased

from gateway import annex_xiii
from gateway.access import grants as rules
from gateway.errors import Conflict, NotFound
from gateway.store import tables
from gateway.store.audit import AuditLog
from gateway.store.tables import utcnow

#: Most grants one listing returns.
MAX_LISTED = 1000


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class NewGrant:
    """A checked grant to store.

    :ivar tenant_id: the issuing tenant whose passports it opens.
    :ivar grantee_tenant_id: the tenant it is given to, or
    :ivar grantee_key_id: the one API key it is given to.
    :ivar passport_id: for scope ``passport``. :ivar batch: for scope ``batch``.
    """

    tenant_id: int
    grantee_tenant_id: int | None
    grantee_key_id: int | None
    scope: str
    passport_id: str | None
    batch: str | None
    points: frozenset[annex_xiii.Point]
    purpose: str
    valid_from: datetime
    valid_until: datetime
    reason: str


@dataclass(frozen=True)
class StoredGrant:
    """A grant as listed, with the names of the tenants it joins."""

    id: int
    tenant_id: int
    issuer: str
    grantee_tenant_id: int | None
    grantee_tenant: str | None
    grantee_key_id: int | None
    scope: str
    passport_id: str | None
    battery_code: str | None
    batch: str | None
    points: frozenset[annex_xiii.Point]
    purpose: str
    valid_from: datetime
    valid_until: datetime
    reason: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str | None

    def in_force(self, at: datetime) -> bool:
        """Not revoked, and ``at`` within its validity period."""
        return self.revoked_at is None and self.valid_from <= at < self.valid_until

    def state(self, at: datetime) -> str:
        """``revoked``, ``pending`` (not yet valid), ``expired`` or ``active``."""
        if self.revoked_at is not None:
            return "revoked"
        if at < self.valid_from:
            return "pending"
        return "expired" if at >= self.valid_until else "active"

    def as_json(self, at: datetime | None = None) -> dict[str, Any]:
        grantee: dict[str, Any] = (
            {"tenant": self.grantee_tenant}
            if self.grantee_key_id is None
            else {"key": self.grantee_key_id}
        )
        return {
            "id": self.id,
            "issuer": self.issuer,
            "grantee": grantee,
            "scope": self.scope,
            "batteryCode": self.battery_code,
            "batch": self.batch,
            "points": sorted(self.points),
            "purpose": self.purpose,
            "validFrom": _time(self.valid_from),
            "validUntil": _time(self.valid_until),
            "reason": self.reason,
            "state": self.state(at or utcnow()),
            "createdBy": self.created_by,
            "createdAt": _time(self.created_at),
            "revokedAt": _time(self.revoked_at),
            "revokedBy": self.revoked_by,
            "revokeReason": self.revoke_reason,
        }


_ISSUER = aliased(tables.Tenant)
_GRANTEE = aliased(tables.Tenant)


def _query() -> Select[tables.AccessGrant, str, str, str]:
    return (
        select(tables.AccessGrant, _ISSUER.name, _GRANTEE.name, tables.Passport.battery_code)
        .join(_ISSUER, _ISSUER.id == tables.AccessGrant.tenant_id)
        .outerjoin(_GRANTEE, _GRANTEE.id == tables.AccessGrant.grantee_tenant_id)
        .outerjoin(tables.Passport, tables.Passport.id == tables.AccessGrant.passport_id)
    )


def _grant(row: Any) -> StoredGrant:
    grant, issuer, grantee, code = row
    points = frozenset(p for p in annex_xiii.parse_points(grant.points))
    return StoredGrant(
        id=grant.id,
        tenant_id=grant.tenant_id,
        issuer=issuer,
        grantee_tenant_id=grant.grantee_tenant_id,
        grantee_tenant=grantee,
        grantee_key_id=grant.grantee_key_id,
        scope=grant.scope,
        passport_id=grant.passport_id,
        battery_code=code,
        batch=grant.batch,
        points=points,
        purpose=grant.purpose,
        valid_from=grant.valid_from,
        valid_until=grant.valid_until,
        reason=grant.reason,
        created_by=grant.created_by,
        created_at=grant.created_at,
        revoked_at=grant.revoked_at,
        revoked_by=grant.revoked_by,
        revoke_reason=grant.revoke_reason,
    )


class Grants:
    """Access grants, within one unit of work.

    :param session: the unit of work's session.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, grant: NewGrant, *, actor: str) -> StoredGrant:
        """Store a grant (audited as ``grant.added``)."""
        row = tables.AccessGrant(
            tenant_id=grant.tenant_id,
            grantee_tenant_id=grant.grantee_tenant_id,
            grantee_key_id=grant.grantee_key_id,
            scope=grant.scope,
            passport_id=grant.passport_id,
            batch=grant.batch,
            points=annex_xiii.format_points(grant.points),
            purpose=grant.purpose,
            valid_from=grant.valid_from,
            valid_until=grant.valid_until,
            reason=grant.reason,
            created_by=actor,
            created_at=utcnow(),
        )
        self.session.add(row)
        self.session.flush()
        stored = self.get(row.id)
        AuditLog(self.session).append(actor, "grant.added", f"grant:{row.id}", _audited(stored))
        return stored

    def get(self, grant_id: int) -> StoredGrant:
        """One grant.

        :raises NotFound: no such grant.
        """
        row = self.session.execute(_query().where(tables.AccessGrant.id == grant_id)).first()
        if row is None:
            raise NotFound(f"no grant {grant_id}", pointer="id")
        return _grant(row)

    def revoke(self, grant_id: int, *, reason: str, actor: str) -> StoredGrant:
        """Revoke a grant at once (audited as ``grant.revoked``).

        :raises NotFound: no such grant. :raises Conflict: revoked already.
        """
        row = self.session.scalar(
            select(tables.AccessGrant).where(tables.AccessGrant.id == grant_id).with_for_update()
        )
        if row is None:
            raise NotFound(f"no grant {grant_id}", pointer="id")
        if row.revoked_at is not None:
            raise Conflict(f"grant {grant_id} is revoked already", pointer="id")
        row.revoked_at = utcnow()
        row.revoked_by = actor
        row.revoke_reason = reason
        self.session.flush()
        AuditLog(self.session).append(
            actor, "grant.revoked", f"grant:{grant_id}", {"reason": reason}
        )
        return self.get(grant_id)

    def given(self, tenant_id: int | None) -> list[StoredGrant]:
        """Grants an issuing tenant gave (``None``: every tenant's), newest first."""
        query = _query()
        if tenant_id is not None:
            query = query.where(tables.AccessGrant.tenant_id == tenant_id)
        rows = self.session.execute(
            query.order_by(tables.AccessGrant.id.desc()).limit(MAX_LISTED)
        ).all()
        return [_grant(r) for r in rows]

    def received(self, tenant_id: int, key_id: int) -> list[StoredGrant]:
        """Grants given to a tenant or to one of its keys, newest first."""
        rows = self.session.execute(
            _query()
            .where(_to(tenant_id, key_id))
            .order_by(tables.AccessGrant.id.desc())
            .limit(MAX_LISTED)
        ).all()
        return [_grant(r) for r in rows]

    def opening(
        self,
        *,
        passport_id: str,
        issuer_tenant_id: int,
        batch: str | None,
        reader_tenant_id: int,
        reader_key_id: int,
        at: datetime,
    ) -> list[StoredGrant]:
        """The grants in force at ``at`` that give this reader points of this passport:
        given by the passport's issuing tenant, to the reader's tenant or key, covering
        the passport, its batch or all the issuer's passports."""
        G = tables.AccessGrant
        covers = [
            G.scope == rules.ALL,
            and_(G.scope == rules.PASSPORT, G.passport_id == passport_id),
        ]
        if batch is not None:
            covers.append(and_(G.scope == rules.BATCH, G.batch == batch))
        rows = self.session.execute(
            _query()
            .where(
                G.tenant_id == issuer_tenant_id,
                _to(reader_tenant_id, reader_key_id),
                or_(*covers),
                G.revoked_at.is_(None),
                G.valid_from <= at,
                G.valid_until > at,
            )
            .order_by(G.id)
        ).all()
        return [_grant(r) for r in rows]

    def live_key(self, key_id: int) -> bool:
        """Whether an API key of this id exists and is not revoked (a grantee)."""
        key = self.session.get(tables.ApiKey, key_id)
        return key is not None and key.revoked_at is None

    def by_ids(self, ids: list[int]) -> list[StoredGrant]:
        """The grants of these ids that exist, in id order."""
        if not ids:
            return []
        rows = self.session.execute(
            _query().where(tables.AccessGrant.id.in_(ids)).order_by(tables.AccessGrant.id)
        ).all()
        return [_grant(r) for r in rows]


def _to(tenant_id: int, key_id: int) -> Any:
    G = tables.AccessGrant
    return or_(G.grantee_tenant_id == tenant_id, G.grantee_key_id == key_id)


def _audited(grant: StoredGrant) -> dict[str, Any]:
    body = grant.as_json()
    return {
        k: body[k]
        for k in (
            "issuer",
            "grantee",
            "scope",
            "batteryCode",
            "batch",
            "points",
            "purpose",
            "validFrom",
            "validUntil",
            "reason",
        )
    }
