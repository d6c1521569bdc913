"""The instance's white-list of comprehensive-utilisation enterprises (admins)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, request

from gateway import auth, services
from gateway.api.http import instance, principal
from gateway.errors import UnsupportedMediaType

bp = Blueprint("whitelist", __name__)
CSV = "text/csv"


@bp.post("/whitelist")
def import_whitelist() -> Response:
    """Merge a white-list CSV into the instance's white-list; audited."""
    caller = principal()
    caller = auth.require(caller, auth.may_administer(caller), "update the white-list")
    if request.mimetype != CSV:
        raise UnsupportedMediaType(
            f"Content-Type {request.mimetype or '(none)'!r} is not accepted here; send {CSV}",
            pointer="Content-Type",
        )
    gateway = instance()
    result = services.import_whitelist(
        gateway.db,
        request.get_data(),
        actor=auth.audit_actor(caller),
        source="api",
    )
    return Response(json.dumps(result.as_dict(), ensure_ascii=False), mimetype="application/json")
