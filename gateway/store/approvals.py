"""Export approvals of BMS health data, per tenant: recorded, listed, revoked, audited
(``approval.added`` / ``approval.revoked``). What an approval says and when it is in
force: :mod:`gateway.policy.approvals`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.errors import Conflict, NotFound
from gateway.policy.approvals import Approval, NewApproval
from gateway.store import tables
from gateway.store.audit import AuditLog
from gateway.store.tables import utcnow

#: Most approvals one tenant records; each is a dated document from an authority.
MAX_APPROVALS = 1000


def _approval(row: tables.ExportApproval, tenant: str) -> Approval:
    return Approval(
        id=row.id,
        tenant_id=row.tenant_id,
        tenant=tenant,
        kind=row.kind,
        reference=row.reference,
        authority=row.authority,
        categories=tuple(row.categories),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        document_sha256=row.document_sha256,
        added_by=row.added_by,
        added_at=row.added_at,
        revoked_at=row.revoked_at,
        revoked_by=row.revoked_by,
    )


class Approvals:
    """The export approvals, within one unit of work.

    :param session: the unit of work's session.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def listing(self, tenant_id: int | None = None) -> list[Approval]:
        """The approvals of one tenant (``None``: of every tenant), oldest first,
        revoked and expired ones included."""
        query = select(tables.ExportApproval, tables.Tenant.name).join(
            tables.Tenant, tables.Tenant.id == tables.ExportApproval.tenant_id
        )
        if tenant_id is not None:
            query = query.where(tables.ExportApproval.tenant_id == tenant_id)
        rows = self.session.execute(query.order_by(tables.ExportApproval.id)).all()
        return [_approval(row, name) for row, name in rows]

    def in_force(self, tenant_id: int, at: datetime) -> list[Approval]:
        """The approvals of a tenant in force at ``at`` (by the one rule,
        :meth:`Approval.in_force`)."""
        query = (
            select(tables.ExportApproval, tables.Tenant.name)
            .join(tables.Tenant, tables.Tenant.id == tables.ExportApproval.tenant_id)
            .where(tables.ExportApproval.tenant_id == tenant_id)
            .order_by(tables.ExportApproval.id)
        )
        found = [_approval(row, name) for row, name in self.session.execute(query).all()]
        return [a for a in found if a.in_force(at)]

    def get(self, approval_id: int) -> Approval:
        """One approval.

        :raises NotFound: no such approval.
        """
        row = self.session.get(tables.ExportApproval, approval_id)
        if row is None:
            raise NotFound(f"no export approval {approval_id}", pointer="id")
        tenant = self.session.get(tables.Tenant, row.tenant_id)
        return _approval(row, tenant.name if tenant is not None else "")

    def add(self, tenant_id: int, new: NewApproval, *, actor: str) -> Approval:
        """Record an approval of ``tenant_id`` (audited).

        :raises Conflict: the tenant already recorded one of this kind and reference, or
            holds :data:`MAX_APPROVALS`.
        """
        same = (
            tables.ExportApproval.tenant_id == tenant_id,
            tables.ExportApproval.kind == new.kind,
            tables.ExportApproval.reference == new.reference,
        )
        clash = self.session.scalars(select(tables.ExportApproval.id).where(*same)).first()
        if clash is not None:
            raise Conflict(
                f"a {new.kind} approval {new.reference!r} is already recorded (approval {clash})",
                pointer="/reference",
            )
        count = len(
            self.session.scalars(
                select(tables.ExportApproval.id).where(tables.ExportApproval.tenant_id == tenant_id)
            ).all()
        )
        if count >= MAX_APPROVALS:
            raise Conflict(f"a tenant records at most {MAX_APPROVALS} approvals", pointer="/")
        row = tables.ExportApproval(
            tenant_id=tenant_id,
            kind=new.kind,
            reference=new.reference,
            authority=new.authority,
            categories=list(new.categories),
            valid_from=new.valid_from,
            valid_until=new.valid_until,
            document_sha256=new.document_sha256,
            added_by=actor,
            added_at=utcnow(),
        )
        try:
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError as exc:  # a concurrent add of the same reference won
            raise Conflict(
                f"a {new.kind} approval {new.reference!r} is already recorded",
                pointer="/reference",
            ) from exc
        approval = self.get(row.id)
        AuditLog(self.session).append(
            actor, "approval.added", f"approval:{row.id}", _audit_data(approval)
        )
        return approval

    def revoke(self, approval_id: int, *, actor: str) -> Approval:
        """Revoke an approval at once (audited); new issuances stop relying on it.

        :raises NotFound: no such approval. :raises Conflict: already revoked.
        """
        row = self.session.get(tables.ExportApproval, approval_id)
        if row is None:
            raise NotFound(f"no export approval {approval_id}", pointer="id")
        if row.revoked_at is not None:
            raise Conflict(f"export approval {approval_id} is already revoked", pointer="id")
        row.revoked_at = utcnow()
        row.revoked_by = actor
        self.session.flush()
        approval = self.get(approval_id)
        AuditLog(self.session).append(
            actor, "approval.revoked", f"approval:{approval_id}", _audit_data(approval)
        )
        return approval


def _audit_data(approval: Approval) -> dict[str, object]:
    data = approval.as_json(approval.added_at)
    return {
        k: data[k]
        for k in (
            "tenant",
            "kind",
            "reference",
            "authority",
            "categories",
            "validFrom",
            "validUntil",
            "documentSha256",
        )
    }
