"""Passports: convert and sign (one record, or NDJSON in bulk), read by Annex XIII point
(as credentials, an Asset Administration Shell or an AASX package), list, gap reports,
status changes."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from typing import Any, cast

from flask import Blueprint, Response, request, stream_with_context, url_for

from gateway import jsontext, services
from gateway.api.http import (
    LD_JSON,
    PASSPORT_PAGE,
    html_page,
    instance,
    json_body,
    principal,
    query_choice,
)
from gateway.errors import (
    BodyTooLarge,
    InvalidInput,
    MalformedBody,
    UnsupportedMediaType,
)
from gateway.mapping import names
from gateway.records.reader import read_record
from gateway.transform.aas_media_types import AAS_JSON, AASX
from gateway.transform.en18223 import dpp_status
from gateway.vocab.loader import CREDENTIALS_V2, current_passport_context

bp = Blueprint("passports", __name__)

NDJSON = "application/x-ndjson"
HTML = "text/html"
_READ_BUFFER = 64 * 1024


def _mapping_arg() -> str | None:
    """``?mapping=SET@VERSION``, its names checked before anything looks for the table."""
    value = request.args.get("mapping")
    if value is not None:
        names.parse_ref(value, "mapping")
    return value


def _issued(issued: services.IssuedPassport, fmt: str) -> dict[str, Any]:
    passport = issued.passport
    return {
        "id": passport.id,
        "batteryCode": passport.battery_code,
        "status": passport.status,
        "created": issued.created,
        "format": fmt,
        "mapping": f"{passport.mapping_set}@{passport.mapping_version}",
        "credentials": issued.credentials,
        "gaps": passport.gaps,
    }


def _location(code: str) -> str:
    return url_for("passports.get_passport", code=code)


@bp.post("/passports")
def create_passport() -> Response:
    fmt = query_choice("format", services.PROOF_FORMATS, "di")
    mapping = _mapping_arg()
    caller = principal()
    services.require_issuer(caller)
    record = read_record(request.get_data(), request.content_type or "")
    issued = services.issue_passport(
        instance(),
        record,
        principal=caller,
        mapping=mapping,
        proof_format=fmt,
        idempotency_key=request.headers.get("Idempotency-Key"),
    )
    body = _issued(issued, fmt)
    response = Response(
        json.dumps(body, ensure_ascii=False),
        mimetype="application/json",
        status=201 if issued.created else 200,
    )
    response.headers["Location"] = _location(issued.passport.battery_code)
    return response


@bp.post("/passports/batch")
def create_passports_batch() -> Response:
    """Bulk conversion: one record per NDJSON line in, one outcome per line out, each
    record committed in its own unit of work before its outcome is written."""
    if request.mimetype != NDJSON:
        raise UnsupportedMediaType(
            f"Content-Type {request.mimetype or '(none)'!r} is not accepted here; send {NDJSON}",
            pointer="Content-Type",
        )
    fmt = query_choice("format", services.PROOF_FORMATS, "di")
    mapping = _mapping_arg()
    caller = principal()
    services.require_issuer(caller)
    key = services.check_idempotency_key(request.headers.get("Idempotency-Key"))
    gateway = instance()
    limit = gateway.settings.max_body_bytes
    # The whole stream may be far larger than one request body; each line is held to
    # the body limit instead. (Flask 3.1 reads None here as "the app's limit".)
    request.max_content_length = sys.maxsize
    # Werkzeug's stream is unbuffered: its readline() reads one byte per call, which
    # cost more than converting the record. Buffered, lines come out of 64 KiB reads.
    # (The request stream reads raw bytes; typeshed wants the RawIOBase class itself.)
    stream = io.BufferedReader(cast(io.RawIOBase, request.stream), buffer_size=_READ_BUFFER)

    def records() -> Iterator[services.RecordItem]:
        for number, line in services.ndjson_lines(stream, limit):
            if line is not None and not line.strip():
                continue
            try:
                if line is None:
                    raise BodyTooLarge(f"line {number} is longer than {limit} bytes")
                yield number, read_record(line, "application/json")
            except Exception as exc:  # refused as this line's outcome, not the stream's
                yield number, exc

    outcomes = services.issue_many(
        gateway,
        records(),
        principal=caller,
        mapping=mapping,
        proof_format=fmt,
        idempotency_key=(lambda number: f"{key}#{number}") if key else None,
    )

    def generate() -> Iterator[bytes]:
        for outcome in outcomes:
            yield jsontext.dumps(services.outcome_line(outcome)) + b"\n"

    return Response(stream_with_context(generate()), mimetype=NDJSON)


def _enveloped(credential: dict[str, Any] | str) -> dict[str, Any]:
    if isinstance(credential, str):
        return {
            "@context": CREDENTIALS_V2,
            "id": f"data:application/vc+jwt,{credential}",
            "type": "EnvelopedVerifiableCredential",
        }
    return credential


def _wants_aas() -> bool:
    """Whether the request prefers the AAS JSON to JSON-LD and pages (an Accept header
    naming ``application/aas+json``; ``*/*`` still gets JSON-LD)."""
    best = request.accept_mimetypes.best_match([LD_JSON, "application/json", AAS_JSON, HTML])
    return best == AAS_JSON


def _alternates(code: str) -> str:
    """The ``Link`` header naming a passport's other representations."""
    here = url_for("passports.get_passport", code=code)
    return ", ".join(
        (
            f'<{here}>; rel="alternate"; type="{LD_JSON}"',
            f'<{here}>; rel="alternate"; type="{AAS_JSON}"',
            f'<{url_for("passports.get_aasx", code=code)}>; rel="alternate"; type="{AASX}"',
            f'<{url_for("registry.metadata", code=code)}>; rel="describedby"; '
            'type="application/json"',
            f'<{url_for("resolver.linkset", code=code)}>; rel="linkset"; '
            'type="application/linkset+json"',
        )
    )


@bp.get("/passports/<code>")
def get_passport(code: str) -> Response:
    """What the caller may see of a passport (the Annex XIII points it may read): a
    Verifiable Presentation of those credentials, the Asset Administration Shell of
    them (``Accept: application/aas+json``), or a page for browsers."""
    if _wants_aas():
        export = services.passport_aas(instance(), code, principal())
        response = Response(export.to_json(), mimetype=AAS_JSON)
    else:
        page = html_page(PASSPORT_PAGE)
        if page is not None:
            shown: Response = page(code)
            shown.headers["Link"] = _alternates(code)
            return shown
        passport, credentials = services.passport_credentials(instance(), code, principal())
        # The passport's live state (EN 18223 dppStatus, a term of the passport
        # context): a ceased or revoked passport says so beside what was signed.
        body = {
            "@context": [CREDENTIALS_V2, current_passport_context()],
            "id": passport.id,
            "type": ["VerifiablePresentation"],
            "dppStatus": dpp_status(passport.status),
            "verifiableCredential": [_enveloped(c) for c in credentials.values()],
        }
        response = Response(json.dumps(body, ensure_ascii=False), mimetype=LD_JSON)
    response.headers["Vary"] = "Accept, Authorization"
    response.headers["Link"] = _alternates(code)
    return response


@bp.get("/passports/<code>/aasx")
def get_aasx(code: str) -> Response:
    """The AASX package of what the caller may see of a passport (as the AAS JSON)."""
    export = services.passport_aas(instance(), code, principal())
    response = Response(export.to_aasx(), mimetype=AASX)
    name = code if code.isascii() and code.isalnum() else "passport"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.aasx"'
    response.headers["Vary"] = "Authorization"
    response.headers["Link"] = _alternates(code)
    return response


@bp.get("/passports/<code>/gaps")
def get_gaps(code: str) -> Response:
    gaps = services.passport_gaps(instance(), code, principal())
    return Response(json.dumps(gaps, ensure_ascii=False), mimetype="application/json")


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit():
        raise InvalidInput(f"{name} must be a whole number", pointer=name)
    return int(raw)


@bp.get("/passports")
def list_passports() -> Response:
    limit = _int_arg("limit", 100)
    status = request.args.get("status")
    if status is not None and status not in services.PASSPORT_STATUSES:
        raise InvalidInput(
            f"status must be one of {', '.join(services.PASSPORT_STATUSES)}", pointer="status"
        )
    caller = principal()
    items = services.list_passports(
        instance(),
        caller,
        status=status,
        battery_code=request.args.get("batteryCode"),
        after=request.args.get("after"),
        limit=limit,
    )
    body = {
        "items": services.passport_summaries(instance(), caller, items),
        "next": items[-1].battery_code if len(items) == limit else None,
    }
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")


def _change(code: str, action: str) -> Response:
    body = json_body("StatusChange", optional=True)
    if not isinstance(body, dict):
        raise MalformedBody("the body must be a JSON object")
    passport = services.change_status(
        instance(),
        code,
        action,
        principal(),
        successor=body.get("successor"),
        reason=body.get("reason"),
    )
    return Response(json.dumps(services.passport_status(passport)), mimetype="application/json")


@bp.post("/passports/<code>/revoke")
def revoke(code: str) -> Response:
    return _change(code, "revoke")


@bp.post("/passports/<code>/suspend")
def suspend(code: str) -> Response:
    return _change(code, "suspend")


@bp.post("/passports/<code>/unsuspend")
def unsuspend(code: str) -> Response:
    return _change(code, "unsuspend")


@bp.post("/passports/<code>/supersede")
def supersede(code: str) -> Response:
    return _change(code, "supersede")


@bp.post("/passports/<code>/cease")
def cease(code: str) -> Response:
    """Art. 77(8): the battery was recycled, so its passport ceases to exist (kept, shown
    as ceased, its credentials still valid as what was true when signed)."""
    body = json_body("PassportCease")
    passport, _ = services.cease_passport(
        instance(),
        code,
        principal(),
        recycled_on=body.get("recycledOn"),
        reason=body.get("reason"),
    )
    return Response(json.dumps(services.passport_status(passport)), mimetype="application/json")
