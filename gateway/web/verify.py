"""The importer's verify page: paste a credential or upload its file, read the checks.

The form posts without a CSRF token on purpose: verifying acts for nobody (the result
does not depend on who is signed in) and changes nothing, so a forged request gains an
attacker nothing, and an importer can verify without a session cookie.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Response, request

from gateway import jsontext, services
from gateway.annex_xiii import format_points, is_section, points_of
from gateway.codes import gbt34014
from gateway.credentials.claims import credential_claims
from gateway.errors import GatewayError, InvalidInput
from gateway.web.common import bp, instance, page

ENVELOPE_PREFIX = "data:application/vc+jwt,"
#: Subject members that may hold the battery's GB/T 34014 code, most specific first.
CODE_TERMS = ("batteryUniqueIdentifier", "batteryPassportId", "batterySerialNumber")
#: Longer values are no battery code and are not decoded.
MAX_CODE_LENGTH = 64


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


@dataclass(frozen=True)
class Statement:
    """What a credential that verified states, for the reader who pasted it.

    :ivar points: the Annex XIII points its section holds, as ``"1"`` or ``"2 4"``;
        empty when it names no section.
    :ivar attributes: how many attributes its subject carries.
    """

    issuer: str
    subject: str
    battery_code: str
    points: str
    valid_from: str
    valid_until: str
    mapping: str
    attributes: int


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _battery_code(subject: Mapping[str, Any]) -> str:
    """The first value of the subject (or the last segment of its id) that decodes as a
    GB/T 34014 code."""
    candidates = [subject.get(term) for term in CODE_TERMS]
    candidates.append(_text(subject.get("id")).rstrip("/").rsplit("/", 1)[-1])
    for value in candidates:
        if isinstance(value, str) and 0 < len(value) <= MAX_CODE_LENGTH:
            try:
                return gbt34014.decode(value).code
            except GatewayError:
                continue
    return ""


def statement(claims: Mapping[str, Any]) -> Statement:
    """What a credential's claims state: issuer, subject and battery code, the Annex XIII
    points it holds, its validity period and the mapping it was made with."""
    subject = claims.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    if not isinstance(subject, Mapping):
        subject = {}
    issuer = claims.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    section = claims.get("accessGroup") or subject.get("accessGroup")
    points = format_points(points_of(section)) if is_section(section) else ""
    mapping = ""
    if isinstance(claims.get("mappingSet"), str) and isinstance(claims.get("mappingVersion"), str):
        mapping = f"{claims['mappingSet']}@{claims['mappingVersion']}"
    return Statement(
        issuer=_text(issuer),
        subject=_text(subject.get("id")),
        battery_code=_battery_code(subject),
        points=points,
        valid_from=_text(claims.get("validFrom")),
        valid_until=_text(claims.get("validUntil")),
        mapping=mapping,
        attributes=len([k for k in subject if k not in ("id", "type", "accessGroup")]),
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
        "verify.html",
        result=result,
        claims=claims,
        stated=statement(claims) if result["verified"] else None,
        pasted=text[:20000],
        trusted=_trusted(),
    )
