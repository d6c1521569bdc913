"""The exporter's dashboard: upload a batch of records, follow its progress, read each
batch's gap heatmap, readiness and national compliance findings, download the results.

An upload goes through ``services.issue_many``, exactly as the API's
``POST /passports/batch`` and ``gateway convert --sign --store`` do. A browser with
scripts reads the outcome of each record as a streamed NDJSON line while the batch runs;
without scripts the form posts normally and the result page lists every outcome.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from flask import Response, request, stream_with_context, url_for

from gateway import auth, services
from gateway.access import disclosure
from gateway.annex_xiii import POINTS
from gateway.auth import Principal
from gateway.csv_cells import csv_text
from gateway.errors import GatewayError, InvalidInput
from gateway.services import web as web_services
from gateway.vocab.catalog import load_catalog
from gateway.web.common import bp, instance, page, require

NDJSON = "application/x-ndjson"
#: Gap statuses in the order the heatmap legend lists them, with a one-letter code so
#: the map does not rely on colour alone (WCAG 1.4.1).
STATUSES = (
    ("filled", "F"),
    ("partial", "P"),
    ("missing_data", "M"),
    ("unmappable", "U"),
    ("withheld", "W"),
    ("not_applicable", "–"),
)
#: The heatmap's filter: the attributes of one Annex XIII point.
POINT_CHOICES = tuple(str(p) for p in POINTS)
GAP_CSV_COLUMNS = ("battery_code", "key", "label", "access_group", "obligation", "status", "reason")


def _exporter() -> Principal:
    return require(auth.may_issue, "use the exporter dashboard")


@bp.get("/dashboard")
def dashboard() -> Response:
    caller = _exporter()
    found = web_services.batches(instance(), caller)
    rows = []
    for batch in found:
        readiness = [p.gaps["summary"]["readiness"] for p in batch.passports]
        rows.append(
            {
                "id": batch.id,
                "created_at": batch.created_at,
                "count": len(batch.passports),
                "readiness": sum(readiness) / len(readiness),
            }
        )
    return page("dashboard.html", batches=rows, formats=services.PROOF_FORMATS)


def _outcomes(
    records: Iterator[web_services.Item], batch_id: str, caller: Principal, proof_format: str
) -> Iterator[dict[str, Any]]:
    """Each record's outcome, as :func:`services.issue_many` issues them."""
    outcomes = services.issue_many(
        instance(),
        records,
        principal=caller,
        proof_format=proof_format,
        idempotency_key=lambda number: web_services.batch_item_key(batch_id, number),
    )
    for outcome in outcomes:
        yield _item(outcome, batch_id)


def _item(outcome: services.Outcome, batch_id: str) -> dict[str, Any]:
    """One record's outcome as the upload page and its script show it."""
    issued = outcome.issued
    if issued is None:
        problem = outcome.problem or {}
        # The detail as the page words it: led by the field's pointer, if any.
        detail = str(outcome.error) if outcome.error else problem.get("detail")
        return {
            "item": outcome.number,
            "outcome": outcome.outcome,
            "title": problem.get("title"),
            "detail": detail,
        }
    passport = issued.passport
    return {
        "item": outcome.number,
        "outcome": outcome.outcome,
        "batteryCode": passport.battery_code,
        "readiness": passport.gaps["summary"]["readiness"],
        "url": url_for("web.batch_page", batch_id=batch_id) + f"#p-{passport.battery_code}",
    }


@bp.post("/dashboard/upload")
def upload() -> Response:
    caller = _exporter()
    proof_format = services.proof_format(request.form.get("format", "di"))
    upload_file = request.files.get("file")
    if upload_file is None or not upload_file.filename:
        raise InvalidInput("choose a file to upload", pointer="file")
    fmt = web_services.upload_format(upload_file.filename)
    data = upload_file.read()
    batch_id = request.form.get("batch") or web_services.new_batch_id()
    if not batch_id.replace("-", "").replace("_", "").isalnum() or len(batch_id) > 64:
        raise InvalidInput("batch ids are 1-64 letters, digits, - and _", pointer="batch")
    records = web_services.read_upload(data, fmt)
    batch_url = url_for("web.batch_page", batch_id=batch_id)
    if request.accept_mimetypes.best == NDJSON:

        def stream() -> Iterator[bytes]:
            yield _line({"batch": batch_id, "url": batch_url})
            try:
                for outcome in _outcomes(records, batch_id, caller, proof_format):
                    yield _line(outcome)
            except GatewayError as exc:  # the file as a whole is unreadable
                whole = services.Outcome(0, problem=exc.to_problem(), error=exc)
                yield _line(_item(whole, batch_id))
            yield _line({"done": True, "url": batch_url})

        return Response(stream_with_context(stream()), mimetype=NDJSON)
    outcomes = list(_outcomes(records, batch_id, caller, proof_format))
    created = sum(1 for o in outcomes if o["outcome"] != "refused")
    return page(
        "upload_result.html",
        outcomes=outcomes,
        batch_id=batch_id,
        batch_url=batch_url if created else None,
        created=created,
    )


def _line(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8") + b"\n"


def _heatmap(passports: tuple[Any, ...], only_mandatory: bool, point: int | None) -> dict[str, Any]:
    catalog = load_catalog()
    by_key = [{a["key"]: a for a in p.gaps["attributes"]} for p in passports]
    rows = []
    for attribute in catalog:
        if point is not None and attribute.point != point:
            continue
        cells = [found.get(attribute.key) for found in by_key]
        if only_mandatory and not any(c and c.get("mandatory") for c in cells):
            continue
        rows.append({"attribute": attribute, "cells": cells})
    return {"rows": rows}


@bp.get("/dashboard/batches/<batch_id>")
def batch_page(batch_id: str) -> Response:
    caller = _exporter()
    batch = web_services.batch(instance(), caller, batch_id)
    only_mandatory = request.args.get("mandatory") == "1"
    point = request.args.get("point", "")
    if point and point not in POINT_CHOICES:
        raise InvalidInput(f"point must be one of {', '.join(POINT_CHOICES)}", pointer="point")
    counts: dict[str, int] = {s: 0 for s, _ in STATUSES}
    for passport in batch.passports:
        for status, n in passport.gaps["summary"]["by_status"].items():
            counts[status] = counts.get(status, 0) + n
    return page(
        "batch.html",
        batch=batch,
        heatmap=_heatmap(batch.passports, only_mandatory, int(point) if point else None),
        statuses=STATUSES,
        counts=counts,
        only_mandatory=only_mandatory,
        point=point,
        points=POINT_CHOICES,
    )


def _download(body: str | bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/dashboard/batches/<batch_id>/passports.json")
def batch_passports_json(batch_id: str) -> Response:
    caller = _exporter()
    batch = web_services.batch(instance(), caller, batch_id)
    items = []
    for stored in batch.passports:
        _, credentials = services.passport_credentials(
            instance(), stored.battery_code, caller, channel=disclosure.DOWNLOAD
        )
        items.append(
            {
                "id": stored.id,
                "batteryCode": stored.battery_code,
                "status": stored.status,
                "mapping": f"{stored.mapping_set}@{stored.mapping_version}",
                "credentials": credentials,
            }
        )
    body = json.dumps({"batch": batch.id, "passports": items}, ensure_ascii=False, indent=1)
    return _download(body, "application/json", f"batch-{batch.id}-passports.json")


@bp.get("/dashboard/batches/<batch_id>/gaps.json")
def batch_gaps_json(batch_id: str) -> Response:
    caller = _exporter()
    batch = web_services.batch(instance(), caller, batch_id)
    reports = [services.passport_gaps(instance(), p.battery_code, caller) for p in batch.passports]
    body = json.dumps({"batch": batch.id, "reports": reports}, ensure_ascii=False, indent=1)
    return _download(body, "application/json", f"batch-{batch.id}-gaps.json")


@bp.get("/dashboard/batches/<batch_id>/gaps.csv")
def batch_gaps_csv(batch_id: str) -> Response:
    caller = _exporter()
    batch = web_services.batch(instance(), caller, batch_id)
    # Reasons quote mapping-row comments: cells a spreadsheet would run as formulas are
    # neutralised (see gateway.csv_cells).
    text = csv_text(GAP_CSV_COLUMNS, web_services.gap_rows(batch.passports))
    # A byte order mark so spreadsheet programs read the Chinese labels as UTF-8.
    return _download("\ufeff" + text, "text/csv", f"batch-{batch.id}-gaps.csv")
