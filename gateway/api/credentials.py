"""Credentials and presentations, shaped as the W3C VC API: verify any credential or
presentation, issue a credential on the generic route; the verifier's trust lists and
pinned contexts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from gateway import jsontext, services
from gateway.api.http import instance, is_json, json_body, principal, query_text
from gateway.errors import (
    InvalidInput,
    MalformedBody,
    UnsupportedMediaType,
    VerificationFailed,
)

bp = Blueprint("credentials", __name__)

JWT_TYPES = ("application/vc+jwt", "application/jwt")


def _json(body: object, status: int = 200, mimetype: str = "application/json") -> Response:
    return Response(jsontext.dumps(body), status=status, mimetype=mimetype)


def _verdict(result: dict[str, Any], what: str) -> Response:
    """200 with the result when verified; else a 400 problem carrying ``verified: false``
    and the checks (W3C VC API)."""
    if result["verified"]:
        return _json(result)
    failed = [c for c in result["checks"] if not c["ok"]]
    for inner in result.get("credentialResults", []):
        failed.extend(c for c in inner["checks"] if not c["ok"])
    first = f": {failed[0]['id']}" if failed else ""
    raise VerificationFailed(f"the {what} did not verify{first}", **result)


@bp.post("/credentials/verify")
def verify_credential() -> Response:
    """Verify a credential: ``{"verifiableCredential": ..., "options": ...}`` (a JSON
    credential with a proof, or a compact JWS string), or a bare compact JWS as
    ``application/vc+jwt``. 200 only when verified; otherwise a 400 problem with
    ``verified: false`` and the checks."""
    options: dict[str, Any] = {}
    if request.mimetype in JWT_TYPES:
        try:
            credential = request.get_data().decode("ascii").strip()
        except UnicodeDecodeError as exc:
            raise MalformedBody("a compact JWS is ASCII text") from exc
    elif is_json(request.mimetype):
        body = json_body("VerifyRequest")
        credential = body["verifiableCredential"]
        options = body.get("options") or {}
    else:
        raise UnsupportedMediaType(
            f"Content-Type {request.mimetype or '(none)'!r} is not accepted here; send "
            "application/json or application/vc+jwt",
            pointer="Content-Type",
        )
    result = services.verify_credential(instance(), credential, principal(), options)
    return _verdict(result, "credential")


@bp.post("/presentations/verify")
def verify_presentation() -> Response:
    """Verify a presentation and its embedded credentials:
    ``{"verifiablePresentation": ..., "options": {"challenge", "domain", "checks"}}``."""
    body = json_body("PresentationVerifyRequest")
    result = services.verify_presentation(
        instance(), body["verifiablePresentation"], principal(), body.get("options") or {}
    )
    return _verdict(result, "presentation")


@bp.post("/credentials/issue")
def issue_credential() -> Response:
    """Sign a credential with the VC API key and DID (never the passport key)."""
    body = json_body("IssueRequest")
    secured = services.issue_credential(
        instance(), body["credential"], principal(), body.get("options") or {}
    )
    return _json({"verifiableCredential": secured}, 201)


@bp.get("/vc-api/did.json")
def vc_api_did_document() -> Response:
    # did:web §3.2: did:web:<host>:vc-api resolves to https://<host>/vc-api/did.json.
    return _json(services.vc_api_did_document(instance()), mimetype="application/did+json")


@bp.get("/contexts")
def contexts() -> Response:
    """Every context the verifier serves, shipped or pinned, with its SHA-256."""
    return _json({"items": services.context_listing(instance().db)})


@bp.post("/contexts")
def pin_context() -> Response:
    """Pin a context: the body is the context document, byte for byte; ``url`` names it."""
    url = query_text("url")
    if not is_json(request.mimetype):
        raise UnsupportedMediaType(
            "send the context as application/ld+json", pointer="Content-Type"
        )
    caller = principal()
    return _json(services.pin_context(instance().db, caller, url, request.get_data()), 201)


@bp.delete("/contexts")
def unpin_context() -> Response:
    services.unpin_context(instance().db, principal(), query_text("url"))
    return Response(status=204)


@bp.get("/trusted-issuers")
def trusted_issuers() -> Response:
    """The trust list entries that apply to the caller (instance-wide without a key)."""
    return _json({"items": services.trusted_issuers(instance().db, principal())})


@bp.post("/trusted-issuers")
def add_trusted_issuer() -> Response:
    body = json_body("TrustedIssuerRequest")
    kinds = [k for k in ("did", "domain") if k in body]
    if len(kinds) != 1:
        raise InvalidInput("give exactly one of did or domain", pointer="/did")
    entry = services.add_trusted_issuer(
        instance().db, principal(), kinds[0], body[kinds[0]], body.get("scope", "tenant")
    )
    return _json(entry, 201)


# Bounded: an id beyond a 64-bit integer cannot exist, and SQLite would overflow on it.
@bp.delete(f"/trusted-issuers/<int(min=1, max={services.MAX_ROW_ID}):entry_id>")
def remove_trusted_issuer(entry_id: int) -> Response:
    services.remove_trusted_issuer(instance().db, principal(), entry_id)
    return Response(status=204)
