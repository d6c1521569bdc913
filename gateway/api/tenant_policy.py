"""A tenant's tightening of the shipped data policy: read and replaced by the tenant's
exporters, or by an admin naming the tenant (``?tenant=NAME``)."""

from __future__ import annotations

import json

from flask import Blueprint, Response

from gateway import services
from gateway.api.approvals import query_tenant
from gateway.api.http import instance, json_body, principal

bp = Blueprint("tenant_policy", __name__)


def _json(body: object) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")


@bp.get("/tenant-policy")
def show() -> Response:
    """The tenant's policy: version, shipped table, policy applied, rules."""
    return _json(services.tenant_policy(instance().db, principal(), query_tenant()))


@bp.put("/tenant-policy")
def replace() -> Response:
    """Replace the tenant's rules (a new version, audited); loosening is refused."""
    caller = services.require_manager(principal(), "set the tenant policy")
    tenant = query_tenant()
    body = json_body("TenantPolicyRequest")
    return _json(services.set_tenant_policy(instance().db, caller, body["rules"], tenant))
