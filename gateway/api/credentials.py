"""Credentials, shaped as the W3C VC API: verify any credential, issue one."""

from __future__ import annotations

import json

from flask import Blueprint, Response, request

from gateway import services
from gateway.api.http import instance, is_json, json_body, principal
from gateway.errors import MalformedBody, UnsupportedMediaType

bp = Blueprint("credentials", __name__)

JWT_TYPES = ("application/vc+jwt", "application/jwt")


@bp.post("/credentials/verify")
def verify_credential() -> Response:
    """Verify a credential: ``{"verifiableCredential": ...}`` (a JSON credential with a
    proof, or a compact JWS string), or a bare compact JWS as ``application/vc+jwt``.
    A failed verification is a 200 with ``verified: false``."""
    if request.mimetype in JWT_TYPES:
        try:
            credential = request.get_data().decode("ascii").strip()
        except UnicodeDecodeError as exc:
            raise MalformedBody("a compact JWS is ASCII text") from exc
    elif is_json(request.mimetype):
        credential = json_body("VerifyRequest")["verifiableCredential"]
    else:
        raise UnsupportedMediaType(
            f"Content-Type {request.mimetype or '(none)'!r} is not accepted here; send "
            "application/json or application/vc+jwt",
            pointer="Content-Type",
        )
    result = services.verify_credential(instance(), credential)
    return Response(json.dumps(result, ensure_ascii=False), mimetype="application/json")


@bp.post("/credentials/issue")
def issue_credential() -> Response:
    body = json_body("IssueRequest")
    caller = principal()
    fmt = (body.get("options") or {}).get("format", "di")
    secured = services.issue_credential(instance(), body["credential"], caller, fmt)
    return Response(json.dumps({"verifiableCredential": secured}, ensure_ascii=False),
                    mimetype="application/json", status=201)
