"""Export approvals of BMS health data: an exporter records, lists and revokes its
tenant's; an admin any tenant's (``?tenant=NAME``)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, request

from gateway import services
from gateway.api.http import instance, json_body, principal
from gateway.errors import InvalidInput

bp = Blueprint("approvals", __name__)
#: Longest tenant name (the column's width).
MAX_TENANT = 100


def _json(body: object, status: int = 200) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json"
    )


def query_tenant() -> str | None:
    """The ``tenant`` query parameter: whose data policy settings an admin means.

    :raises InvalidInput: empty or longer than a tenant name can be.
    """
    value = request.args.get("tenant")
    if value is not None and (not 1 <= len(value) <= MAX_TENANT or not value.isprintable()):
        raise InvalidInput(f"tenant must be 1-{MAX_TENANT} printable characters", pointer="tenant")
    return value


@bp.get("/approvals")
def list_approvals() -> Response:
    """The approvals of the caller's tenant (an admin: of ``?tenant=`` or of all)."""
    found = services.list_approvals(instance().db, principal(), query_tenant())
    return _json({"items": [a.as_json() for a in found]})


@bp.post("/approvals")
def add_approval() -> Response:
    """Record an approval; audited as ``approval.added``."""
    caller = services.require_manager(principal(), "record export approvals")
    tenant = query_tenant()
    body = json_body("ApprovalRequest")
    approval = services.add_approval(instance().db, caller, body, tenant)
    return _json(approval.as_json(), 201)


# Bounded: a larger id cannot exist, and the database would overflow on it.
@bp.post(f"/approvals/<int(min=1, max={services.MAX_ROW_ID}):approval_id>/revoke")
def revoke_approval(approval_id: int) -> Response:
    """Revoke an approval at once; audited as ``approval.revoked``."""
    approval = services.revoke_approval(instance().db, principal(), approval_id, query_tenant())
    return _json(approval.as_json())
