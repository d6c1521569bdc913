"""Export approvals of BMS health data: a tenant's exporters (or an admin) record, list
and revoke them, audited; issuance relies on those in force
(:func:`gateway.services.tenant_policy.tenant_rules`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway import auth
from gateway.auth import Principal
from gateway.errors import NotFound
from gateway.policy.approvals import Approval, check_approval
from gateway.services.tenant_policy import managed_tenant, require_manager
from gateway.store import Database
from gateway.store.approvals import Approvals


def list_approvals(
    db: Database, principal: Principal | None, tenant: str | None = None
) -> list[Approval]:
    """The approvals of the caller's tenant; an admin names a tenant or sees every
    tenant's.

    :raises Unauthorized: no caller. :raises Forbidden: not an exporter or an admin, or an
        exporter naming another tenant. :raises NotFound: no such tenant.
    """
    with db.reading() as session:
        caller = require_manager(principal, "list export approvals")
        if tenant is None and auth.may_administer(caller):
            return Approvals(session).listing()
        _, tenant_id = managed_tenant(session, caller, tenant, "list export approvals")
        return Approvals(session).listing(tenant_id)


def add_approval(
    db: Database, principal: Principal | None, data: Mapping[str, Any], tenant: str | None = None
) -> Approval:
    """Record an export approval of the caller's tenant (or of ``tenant``, by an admin);
    audited as ``approval.added``.

    :param data: ``kind``, ``reference``, ``authority``, ``categories``, ``validFrom``,
        ``validUntil``, ``documentSha256`` (:func:`~gateway.policy.approvals.
        check_approval`).
    :raises Unauthorized: no caller. :raises Forbidden: not an exporter or an admin, or an
        exporter naming another tenant. :raises NotFound: no such tenant.
    :raises InvalidInput: a field breaks its rule. :raises Conflict: already recorded.
    """
    new = check_approval(data)
    with db.transaction() as session:
        caller, tenant_id = managed_tenant(session, principal, tenant, "record export approvals")
        return Approvals(session).add(tenant_id, new, actor=auth.audit_actor(caller))


def revoke_approval(
    db: Database, principal: Principal | None, approval_id: int, tenant: str | None = None
) -> Approval:
    """Revoke an export approval at once; audited as ``approval.revoked``. Passports
    issued from now on no longer rely on it.

    :param tenant: the tenant it must belong to (the console names it; an admin's API
        call may leave it out).
    :raises Unauthorized: no caller. :raises Forbidden: not an exporter or an admin.
    :raises NotFound: no such approval, or one of another tenant (not told apart).
    :raises Conflict: already revoked.
    """
    with db.transaction() as session:
        approvals = Approvals(session)
        caller = require_manager(principal, "revoke export approvals")
        owner = approvals.get(approval_id).tenant_id
        if tenant is not None or not auth.may_administer(caller):
            _, tenant_id = managed_tenant(session, caller, tenant, "revoke export approvals")
            if owner != tenant_id:
                raise NotFound(f"no export approval {approval_id}", pointer="id")
        return approvals.revoke(approval_id, actor=auth.audit_actor(caller))
