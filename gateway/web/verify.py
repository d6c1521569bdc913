"""The importer's verify page: paste a credential or upload its file, read the checks.

The form posts without a CSRF token on purpose: verifying acts for nobody (the result
does not depend on who is signed in) and changes nothing, so a forged request gains an
attacker nothing, and an importer can verify without a session cookie.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request

from gateway import jsontext, services
from gateway.credentials.claims import credential_claims
from gateway.errors import GatewayError, InvalidInput
from gateway.web.common import bp, instance, page

ENVELOPE_PREFIX = "data:application/vc+jwt,"


def parse_submission(text: str) -> dict[str, Any] | str:
    """The credential in a pasted or uploaded text: a JSON credential (bare, wrapped as
    ``{"verifiableCredential": ...}`` or an ``EnvelopedVerifiableCredential``), or a
    compact JWS.

    :raises InvalidInput: neither JSON nor a compact JWS.
    """
    text = text.strip().lstrip("\ufeff")
    if not text:
        raise InvalidInput("paste a credential or choose a file", pointer="credential")
    if text.startswith(("{", "[")):
        try:
            value = jsontext.loads(text, what="the text")
        except jsontext.JsonTextError as exc:
            raise InvalidInput(exc.message, pointer="credential") from None
        if isinstance(value, dict) and "verifiableCredential" in value and "proof" not in value:
            value = value["verifiableCredential"]
            if isinstance(value, list) and len(value) == 1:
                value = value[0]
        if isinstance(value, dict) and str(value.get("id", "")).startswith(ENVELOPE_PREFIX):
            return str(value["id"])[len(ENVELOPE_PREFIX) :]
        if not isinstance(value, dict):
            raise InvalidInput("a credential is one JSON object", pointer="credential")
        return value
    if text.startswith(ENVELOPE_PREFIX):
        text = text[len(ENVELOPE_PREFIX) :]
    if text.count(".") == 2 and text.isascii() and " " not in text:
        return text
    raise InvalidInput(
        "the text is neither a JSON credential nor a compact JWS (header.payload.signature)",
        pointer="credential",
    )


def _trusted() -> list[dict[str, Any]]:
    """The instance-wide trust list the page judges issuers by (the page acts for nobody,
    so no tenant's list applies)."""
    return services.trusted_issuers(instance().db, None)


@bp.get("/verify")
def verify_form() -> Response:
    return page("verify.html", trusted=_trusted())


@bp.post("/verify")
def verify_submit() -> Response:
    text = request.form.get("credential", "")
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        try:
            text = upload.read().decode("utf-8")
        except UnicodeDecodeError:
            return page(
                "verify.html",
                422,
                error="the file is not UTF-8 text",
                pasted="",
                trusted=_trusted(),
            )
    try:
        credential = parse_submission(text)
    except InvalidInput as exc:
        return page("verify.html", 422, error=exc.detail, pasted=text[:20000], trusted=_trusted())
    result = services.verify_credential(instance(), credential)
    claims: dict[str, Any] = {}
    try:
        claims = credential_claims(credential)
    except (ValueError, IndexError, GatewayError):  # not a credential: no claims to show
        pass
    return page(
        "verify.html", result=result, claims=claims, pasted=text[:20000], trusted=_trusted()
    )
