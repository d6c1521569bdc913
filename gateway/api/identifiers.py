"""A tenant's unique product identifier scheme: read and set by the tenant's exporters,
or by an admin naming the tenant (``?tenant=NAME``)."""

from __future__ import annotations

import json

from flask import Blueprint, Response

from gateway import services
from gateway.api.approvals import query_tenant
from gateway.api.http import instance, json_body, principal

bp = Blueprint("identifiers", __name__)


def _json(body: object) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")


@bp.get("/identifier-scheme")
def show() -> Response:
    """The tenant's scheme and domain, with an example identifier."""
    gateway = instance()
    return _json(
        services.identifier_scheme(gateway.db, principal(), gateway.base_url, query_tenant())
    )


@bp.put("/identifier-scheme")
def replace() -> Response:
    """Set the tenant's scheme and domain (audited); issued identifiers stay."""
    caller = services.require_manager(principal(), "set identifier schemes")
    tenant = query_tenant()
    body = json_body("IdentifierSchemeRequest")
    gateway = instance()
    return _json(services.set_identifier_scheme(gateway.db, caller, body, gateway.base_url, tenant))
