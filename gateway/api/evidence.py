"""Evidence packages for inspections: one deterministic ZIP per passport."""

from __future__ import annotations

import base64

from flask import Blueprint, Response

from gateway import services
from gateway.api.http import instance, principal

bp = Blueprint("evidence", __name__)


@bp.get("/passports/<code>/evidence")
def get_evidence(code: str) -> Response:
    """The passport's evidence package (issuing exporter, authorities, admins)."""
    package = services.evidence_package(instance(), code, principal())
    response = Response(package.data, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{package.filename}"'
    # RFC 9530: lets a client check the download against the audit log's record of it.
    digest = base64.b64encode(bytes.fromhex(package.sha256)).decode("ascii")
    response.headers["Repr-Digest"] = f"sha-256=:{digest}:"
    response.headers["Cache-Control"] = "no-store"
    return response
