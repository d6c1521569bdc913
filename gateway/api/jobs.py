"""Bulk jobs: an NDJSON upload answered at once with a job id; its progress; its outcome
lines, a page at a time."""

from __future__ import annotations

import io
import json
import sys
from typing import Any, cast

from flask import Blueprint, Response, request, url_for

from gateway import services
from gateway.api.http import instance, principal, query_choice
from gateway.errors import InvalidInput, UnsupportedMediaType

bp = Blueprint("jobs", __name__)

NDJSON = "application/x-ndjson"
_READ_BUFFER = 64 * 1024
#: Largest value of the ``after`` and ``limit`` query parameters.
_MAX_CURSOR = 2**31 - 1


def _json(body: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False), mimetype="application/json", status=status
    )


def _progress(progress: services.JobProgress) -> dict[str, Any]:
    body = progress.to_dict()
    body["results"] = url_for("jobs.get_results", job_id=progress.job.id)
    return body


def _count_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or int(raw) > _MAX_CURSOR:
        raise InvalidInput(f"{name} must be a whole number up to {_MAX_CURSOR}", pointer=name)
    return int(raw)


@bp.post("/jobs")
def submit() -> Response:
    """Store an NDJSON upload as a bulk job; 202 with its id and ``Location``."""
    if request.mimetype != NDJSON:
        raise UnsupportedMediaType(
            f"Content-Type {request.mimetype or '(none)'!r} is not accepted here; send {NDJSON}",
            pointer="Content-Type",
        )
    fmt = query_choice("format", services.PROOF_FORMATS, "di")
    mapping = request.args.get("mapping")
    caller = principal()
    services.require_issuer(caller)
    # As the batch stream: each line is held to the body limit, the job to its record
    # limit, and the stream is read through a buffer (Werkzeug's reads a byte a call).
    request.max_content_length = sys.maxsize
    stream = io.BufferedReader(cast(io.RawIOBase, request.stream), buffer_size=_READ_BUFFER)
    progress = services.submit_job(
        instance(), stream, principal=caller, proof_format=fmt, mapping=mapping
    )
    response = _json(_progress(progress), status=202)
    response.headers["Location"] = url_for("jobs.get_job", job_id=progress.job.id)
    return response


@bp.get("/jobs")
def list_jobs() -> Response:
    """The caller's tenant's jobs, newest first; ``next`` is the next page's ``after``."""
    limit = _count_arg("limit", 100)
    jobs = services.list_jobs(instance(), principal(), after=request.args.get("after"), limit=limit)
    last = jobs[-1].job.id if len(jobs) == limit else None
    response = _json({"items": [_progress(p) for p in jobs], "next": last})
    if last is not None:
        after = url_for("jobs.list_jobs", after=last, limit=limit)
        response.headers["Link"] = f'<{after}>; rel="next"'
    return response


@bp.get("/jobs/<job_id>")
def get_job(job_id: str) -> Response:
    """A job's state and its outcomes counted so far."""
    return _json(_progress(services.job_progress(instance(), principal(), job_id)))


@bp.get("/jobs/<job_id>/results")
def get_results(job_id: str) -> Response:
    """A page of a job's outcome lines, in line order; ``next`` is the next page's
    ``after`` (``null`` once the job is finished and every line was given)."""
    after = _count_arg("after", 0)
    limit = _count_arg("limit", 1000)
    if limit < 1:
        raise InvalidInput("limit must be at least 1", pointer="limit")
    lines, cursor = services.job_results(instance(), principal(), job_id, after=after, limit=limit)
    body: dict[str, Any] = {"items": lines, "next": cursor}
    response = _json(body)
    if cursor is not None:
        response.headers["Link"] = (
            f'<{url_for("jobs.get_results", job_id=job_id, after=cursor)}>; rel="next"'
        )
    return response
