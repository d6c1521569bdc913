"""Who may read which Annex XIII point: the access table, access grants and the
disclosure log."""

from __future__ import annotations

import json

from flask import Blueprint, Response, request

from gateway import services
from gateway.api.http import instance, json_body, principal
from gateway.errors import InvalidInput

bp = Blueprint("access", __name__)

#: Longest page of the disclosure log.
MAX_LIMIT = 1000
# Digits of the largest id a 64-bit integer column holds.
_MAX_ID_DIGITS = 19


def _json(body: object, status: int = 200) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json"
    )


def _whole(name: str, default: int, low: int, high: int) -> int:
    """A whole-number query parameter within ``low``-``high``."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > _MAX_ID_DIGITS:
        raise InvalidInput(f"{name} must be a whole number", pointer=name)
    value = int(raw)
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}", pointer=name)
    return value


@bp.get("/access-table")
def get_access_table() -> Response:
    """The access table in force: which audience reads which Annex XIII points."""
    return _json(services.access_table(instance().db))


@bp.put("/access-table")
def put_access_table() -> Response:
    """A new version of the access table, in force at once (admins; audited)."""
    body = json_body("AccessTableRequest")
    table = services.set_access_table(
        instance().db,
        principal(),
        body["audiences"],
        version=body["version"],
        reason=body["reason"],
        name=body.get("name"),
    )
    return _json(table)


@bp.get("/grants")
def get_grants() -> Response:
    """The grants the caller gave and received."""
    return _json(services.list_grants(instance().db, principal()))


@bp.post("/grants")
def post_grant() -> Response:
    """Grant a party points 2 and/or 4 of a passport, a batch or all the issuer's
    passports (the issuing exporter or an admin; audited)."""
    body = json_body("GrantRequest")
    return _json(services.add_grant(instance(), principal(), body), 201)


# Bounded: a larger id cannot exist, and the database would overflow on it.
@bp.post(f"/grants/<int(min=1, max={services.MAX_ROW_ID}):grant_id>/revoke")
def revoke_grant(grant_id: int) -> Response:
    body = json_body("GrantRevocation")
    return _json(services.revoke_grant(instance().db, principal(), grant_id, body["reason"]))


@bp.get("/disclosures")
def get_disclosures() -> Response:
    """The disclosure log of the caller's tenant (admins: every tenant's)."""
    limit = _whole("limit", 100, 1, MAX_LIMIT)
    items = services.list_disclosures(
        instance(),
        principal(),
        battery_code=request.args.get("batteryCode") or None,
        since=request.args.get("since"),
        until=request.args.get("until"),
        tenant=request.args.get("tenant") or None,
        after=_whole("after", 0, 0, services.MAX_ROW_ID),
        limit=limit,
    )
    body = {
        "items": [d.as_json() for d in items],
        "next": items[-1].id if len(items) == limit else None,
    }
    return _json(body)
