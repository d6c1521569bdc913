"""What anyone may fetch without a key: status lists, the issuer's DID document, the
pinned JSON-LD contexts, battery code decoding."""

from __future__ import annotations

import json

from flask import Blueprint, Response

from gateway import services
from gateway.api.http import instance

bp = Blueprint("public", __name__)

# Verifiers re-read a status list at most this often; a revocation shows within it.
STATUS_LIST_MAX_AGE = 60


def _json(body: object, mimetype: str = "application/json") -> Response:
    return Response(json.dumps(body, ensure_ascii=False), mimetype=mimetype)


@bp.get("/status-lists/<id>")
def status_list(id: str) -> Response:  # the name the contract gives the path parameter
    response = _json(services.status_list_credential(instance(), id), "application/vc")
    response.headers["Cache-Control"] = f"max-age={STATUS_LIST_MAX_AGE}"
    return response


@bp.get("/.well-known/did.json")
def did_document() -> Response:
    # did:web §3.2.1: the DID of a bare host resolves to /.well-known/did.json.
    return _json(instance().keys.did_document(), "application/did+json")


@bp.get("/contexts/<name>")
def context(name: str) -> Response:
    return _json(services.pinned_context(name), "application/ld+json")


@bp.get("/codes/<code>")
def decode_code(code: str) -> Response:
    return _json(services.decode_code(code))
