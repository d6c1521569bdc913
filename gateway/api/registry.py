"""EU registry readiness: a passport's EN 18223 metadata (public), its registration payload
and recorded registrations (its exporter, admins), the bulk export of payloads, and a
tenant's registration defaults."""

from __future__ import annotations

import json
from collections.abc import Iterator

from flask import Blueprint, Response, request, stream_with_context

from gateway import services
from gateway.api.approvals import query_tenant
from gateway.api.http import instance, json_body, principal, query_choice
from gateway.errors import InvalidInput, NotFound

bp = Blueprint("registry", __name__)
#: Longest battery code looked up (a GB/T 34014 code has 24 characters).
MAX_CODE = 64
MEDIA_TYPES = {"jsonl": "application/jsonl", "csv": "text/csv"}


def _json(body: object, status: int = 200) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json"
    )


def _code(code: str) -> str:
    if len(code) > MAX_CODE:
        raise NotFound("no passport for that battery code", pointer="code")
    return code


def _flag(name: str) -> bool:
    value = request.args.get(name, "false")
    if value not in ("true", "false"):
        raise InvalidInput(f"{name} must be true or false", pointer=name)
    return value == "true"


@bp.get("/passports/<code>/metadata")
def metadata(code: str) -> Response:
    """The EN 18223 metadata block of a passport; anyone may read it."""
    return _json(services.passport_metadata(instance(), _code(code)))


@bp.get("/passports/<code>/registration-payload")
def registration_payload(code: str) -> Response:
    """What registering the passport's current version with the EU registry takes."""
    return _json(services.passport_payload(instance(), principal(), _code(code)))


@bp.get("/passports/<code>/registrations")
def registrations(code: str) -> Response:
    """The registrations recorded for the passport, oldest first."""
    found = services.passport_registrations(instance(), principal(), _code(code))
    return _json({"items": found})


@bp.post("/passports/<code>/registrations")
def record_registration(code: str) -> Response:
    """Record the registry's answer for the passport's current version (audited)."""
    caller = services.require_registrar(principal(), "record registrations")
    body = json_body("RegistrationRequest")
    return _json(services.record_registration(instance(), caller, _code(code), body), 201)


@bp.get("/registry/payloads")
def payloads() -> Response:
    """The payloads of every passport of the caller's tenant (an admin: of ``?tenant=``
    or of all), streamed as JSON Lines or CSV."""
    fmt = query_choice("format", services.PAYLOAD_FORMATS, "jsonl")
    unregistered = _flag("unregistered")
    rows = services.payload_rows(
        instance(), principal(), tenant=query_tenant(), unregistered=unregistered
    )
    text: Iterator[str] = services.payload_text(rows, fmt)
    response = Response(stream_with_context(text), mimetype=MEDIA_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="registry-payloads.{fmt}"'
    return response


@bp.get("/registry/profile")
def profile() -> Response:
    """The tenant's registration defaults."""
    return _json(services.registry_profile(instance().db, principal(), query_tenant()))


@bp.put("/registry/profile")
def set_profile() -> Response:
    """Replace the tenant's registration defaults (audited)."""
    caller = services.require_registrar(principal(), "set registry defaults")
    tenant = query_tenant()
    body = json_body("RegistryProfileRequest")
    return _json(services.set_registry_profile(instance().db, caller, body, tenant))
