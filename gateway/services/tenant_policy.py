"""Tenant policies: a tenant withholds more than the shipped data policy (never less),
through the API and the console; each change is a new version, audited, and the newest
is applied to every conversion of the tenant (:func:`tenant_rules`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from gateway import auth
from gateway.auth import Principal
from gateway.errors import InvalidInput, PolicyError
from gateway.policy.approvals import Approval
from gateway.policy.table import CLASSES, Policy, load_policy
from gateway.records.paths import field_paths
from gateway.store import Database, Tenants
from gateway.store.approvals import Approvals
from gateway.store.tenant_policies import TenantPolicies, TenantPolicyVersion

#: Most paths one tenant policy names.
MAX_RULES = 500
#: Longest record path a rule may name.
MAX_PATH = 200
_PATH = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*")
_TIMESTAMP = "%Y-%m-%dT%H:%M:%SZ"


#: Roles that manage a tenant's data policy settings: its exporters, and admins.
POLICY_MANAGERS = (auth.EXPORTER, auth.ADMIN)


def require_manager(principal: Principal | None, what: str) -> Principal:
    """The caller, if it may manage data policy settings (export approvals, tenant
    policy) of some tenant.

    :raises Unauthorized: no caller. :raises Forbidden: another role.
    """
    return auth.require(
        principal, principal is not None and principal.role in POLICY_MANAGERS, what
    )


def managed_tenant(
    session: Any, principal: Principal | None, tenant: str | None, what: str
) -> tuple[Principal, int]:
    """The caller and the tenant whose data policy settings it manages: its own as an
    exporter, any named one as an admin.

    :param tenant: the tenant named by the caller; ``None``: the caller's own.
    :raises Unauthorized: no caller. :raises Forbidden: another role, or an exporter
        naming another tenant. :raises NotFound: no such tenant. :raises InvalidInput:
        the console named no tenant.
    """
    caller = require_manager(principal, what)
    if tenant is None or (caller.tenant_id and tenant == caller.tenant_name):
        if not caller.tenant_id:
            raise InvalidInput("the console acts for no tenant; name one", pointer="tenant")
        return caller, caller.tenant_id
    auth.require(caller, auth.may_administer(caller), f"{what} of another tenant")
    return caller, Tenants(session).get(tenant).id


def _record_paths() -> frozenset[str]:
    return frozenset(p.replace("[]", "") for p in field_paths())


def check_rules(rules: object, base: Policy) -> dict[str, str]:
    """A tenant's rules, checked: ``{path: class}`` with every path a field of the record
    model and every class at least as strict as ``base`` has it.

    :raises InvalidInput: not an object, too many rules, a path that is not a record
        field (named). :raises PolicyError: a class that is unknown or would loosen the
        shipped policy (naming the path).
    """
    if not isinstance(rules, Mapping):
        raise InvalidInput("/rules: must be an object {path: class}", pointer="/rules")
    if len(rules) > MAX_RULES:
        raise InvalidInput(f"/rules: at most {MAX_RULES} paths", pointer="/rules")
    known = _record_paths()
    checked: dict[str, str] = {}
    for path, cls in rules.items():
        pointer = f"/rules/{path}"
        if not isinstance(path, str) or len(path) > MAX_PATH or not _PATH.fullmatch(path):
            raise InvalidInput(
                f"/rules: {str(path)[:MAX_PATH]!r} is not a dotted record path",
                pointer="/rules",
            )
        if path not in known:
            raise InvalidInput(f"{pointer}: not a field of the record model", pointer=pointer)
        if not isinstance(cls, str) or cls not in CLASSES:
            raise PolicyError(
                f"{pointer}: class must be one of {', '.join(CLASSES)}", pointer=pointer
            )
        checked[path] = cls
    try:
        base.stricter(checked, name="tenant")
    except PolicyError as exc:
        raise PolicyError(f"/rules/{exc.detail}", pointer=f"/rules/{exc.pointer}") from None
    return checked


@lru_cache(maxsize=256)
def _tightened(base: str, tenant: str, version: int, rules: tuple[tuple[str, str], ...]) -> Policy:
    return load_policy(base).stricter(dict(rules), name=f"tenant:{tenant}@{version}")


def applied_policy(stored: TenantPolicyVersion | None) -> Policy:
    """The data policy a tenant's conversions use: the shipped one, tightened by the
    newest version of the tenant's policy if it set one.

    :raises PolicyError: a stored rule would now loosen the shipped policy (the shipped
        table changed since); conversions are refused until the tenant sets its policy
        again.
    """
    base = load_policy()
    if stored is None:
        return base
    return _tightened(
        base.table, stored.tenant, stored.version, tuple(sorted(stored.rules.items()))
    )


@dataclass(frozen=True)
class TenantRules:
    """What a conversion of one tenant is judged by, read in one go at issuance.

    :ivar policy: the data policy (:func:`applied_policy`).
    :ivar approvals: the tenant's export approvals in force at issuance.
    """

    policy: Policy
    approvals: tuple[Approval, ...]


def tenant_rules(session: Any, tenant_id: int, at: datetime) -> TenantRules:
    """The policy and the approvals in force at ``at`` of a tenant, read in an open
    session (the issuance pipeline's one read before converting)."""
    stored = TenantPolicies(session).current(tenant_id) if tenant_id else None
    approvals = Approvals(session).in_force(tenant_id, at) if tenant_id else []
    return TenantRules(applied_policy(stored), tuple(approvals))


def _view(tenant: str, stored: TenantPolicyVersion | None) -> dict[str, Any]:
    policy = applied_policy(stored)
    return {
        "tenant": tenant,
        "version": stored.version if stored else 0,
        "base": policy.table,
        "applied": policy.ref,
        "rules": dict(stored.rules) if stored else {},
        "setBy": stored.set_by if stored else None,
        "setAt": stored.set_at.strftime(_TIMESTAMP) if stored and stored.set_at else None,
    }


def tenant_policy(
    db: Database, principal: Principal | None, tenant: str | None = None
) -> dict[str, Any]:
    """A tenant's policy as it stands: its version (0: never set), the shipped table, the
    policy applied, and its rules ``{path: class}``.

    :raises Unauthorized: no caller. :raises Forbidden: not the tenant's exporter or an
        admin. :raises NotFound: no such tenant.
    """
    with db.reading() as session:
        _, tenant_id = managed_tenant(session, principal, tenant, "read the tenant policy")
        name = Tenants(session).get_by_id(tenant_id).name
        return _view(name, TenantPolicies(session).current(tenant_id))


def set_tenant_policy(
    db: Database, principal: Principal | None, rules: object, tenant: str | None = None
) -> dict[str, Any]:
    """Replace a tenant's rules with ``rules`` (a new version; audited as
    ``tenant_policy.set``). An empty object goes back to the shipped policy.

    :raises Unauthorized: no caller. :raises Forbidden: not the tenant's exporter or an
        admin. :raises NotFound: no such tenant. :raises InvalidInput: a path that is not
        a record field. :raises PolicyError: a class that would loosen the shipped policy.
    """
    base = load_policy()
    checked = check_rules(rules, base)
    with db.transaction() as session:
        caller, tenant_id = managed_tenant(session, principal, tenant, "set the tenant policy")
        stored = TenantPolicies(session).set(
            tenant_id, checked, base=base.table, actor=auth.audit_actor(caller)
        )
        return _view(stored.tenant, stored)
