"""Tenant policies: each tenant's tightening of the shipped data policy, one version per
change, audited (``tenant_policy.set``). The newest version is applied to every
conversion of the tenant; how it tightens the table: :meth:`gateway.policy.table.Policy.
stricter`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.errors import Conflict
from gateway.store import tables
from gateway.store.audit import AuditLog
from gateway.store.tables import utcnow


@dataclass(frozen=True)
class TenantPolicyVersion:
    """One version of a tenant's policy.

    :ivar base: the shipped table it was checked against (``cn-export@1.1.0``).
    :ivar rules: ``{path: class}``.
    """

    tenant_id: int
    tenant: str
    version: int
    base: str
    rules: Mapping[str, str] = field(default_factory=dict)
    set_by: str = ""
    set_at: datetime | None = None


class TenantPolicies:
    """The tenants' policies, within one unit of work.

    :param session: the unit of work's session.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def current(self, tenant_id: int) -> TenantPolicyVersion | None:
        """The newest version of a tenant's policy; ``None`` if it never set one."""
        row = self.session.scalars(
            select(tables.TenantPolicy)
            .where(tables.TenantPolicy.tenant_id == tenant_id)
            .order_by(tables.TenantPolicy.version.desc())
            .limit(1)
        ).first()
        return self._version(row) if row is not None else None

    def history(self, tenant_id: int) -> list[TenantPolicyVersion]:
        """Every version of a tenant's policy, oldest first."""
        rows = self.session.scalars(
            select(tables.TenantPolicy)
            .where(tables.TenantPolicy.tenant_id == tenant_id)
            .order_by(tables.TenantPolicy.version)
        ).all()
        return [self._version(row) for row in rows]

    def set(
        self, tenant_id: int, rules: Mapping[str, str], *, base: str, actor: str
    ) -> TenantPolicyVersion:
        """Store a new version of a tenant's policy (audited). The rules must already be
        checked against ``base``.

        :raises Conflict: another change of the same tenant's policy was stored at once.
        """
        latest = self.session.scalar(
            select(func.max(tables.TenantPolicy.version)).where(
                tables.TenantPolicy.tenant_id == tenant_id
            )
        )
        row = tables.TenantPolicy(
            tenant_id=tenant_id,
            version=(latest or 0) + 1,
            base=base,
            rules=dict(sorted(rules.items())),
            set_by=actor,
            set_at=utcnow(),
        )
        try:
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError as exc:  # a concurrent change took this version number
            raise Conflict(
                "the tenant policy was changed at the same moment; send the change again",
                pointer="/rules",
            ) from exc
        stored = self._version(row)
        AuditLog(self.session).append(
            actor,
            "tenant_policy.set",
            f"tenant-policy:{stored.tenant}",
            {"version": stored.version, "base": base, "rules": dict(stored.rules)},
        )
        return stored

    def _version(self, row: tables.TenantPolicy) -> TenantPolicyVersion:
        tenant = self.session.get(tables.Tenant, row.tenant_id)
        return TenantPolicyVersion(
            tenant_id=row.tenant_id,
            tenant=tenant.name if tenant is not None else "",
            version=row.version,
            base=row.base,
            rules={str(k): str(v) for k, v in row.rules.items()},
            set_by=row.set_by,
            set_at=row.set_at,
        )
