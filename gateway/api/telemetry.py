"""GB/T 32960 telemetry in, per-battery usage aggregates out (never the VIN)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from typing import IO, Any

from flask import Blueprint, Response, jsonify, request

from gateway import auth
from gateway.api import http
from gateway.errors import BodyTooLarge, InvalidFrame, InvalidInput, UnsupportedMediaType
from gateway.services.passports import require
from gateway.telemetry.aggregate import BadFrame, aggregate_frames

bp = Blueprint("telemetry", __name__)
NUMBER_ARGS = ("rated_capacity_ah", "temp_min", "temp_max", "deep_discharge_soc",
               "pack_min_voltage", "pack_max_voltage")
INTEGER_ARGS = ("max_interval_s", "reorder_window_s")


def _lines(stream: IO[bytes], limit: int) -> Iterator[bytes]:
    """The body's lines as they arrive; the whole body is held to ``limit`` bytes."""
    seen = 0
    for line in stream:
        seen += len(line)
        if seen > limit:
            raise BodyTooLarge(f"the body exceeds {limit} bytes", pointer="body")
        yield line


def _thresholds() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, kind in [(n, float) for n in NUMBER_ARGS] + [(n, int) for n in INTEGER_ARGS]:
        if name in request.args:
            try:
                out[name] = kind(request.args[name])
            except ValueError:
                raise InvalidInput(f"{name} must be a {kind.__name__} number",
                                   pointer=name) from None
    return out


@bp.post("/telemetry/aggregate")
def aggregate() -> Response:
    """Aggregate hex frames (one per line) for one battery code.

    Raw frames hold the VIN and positions: they are read here, inside China, and only
    the battery-keyed aggregates go back.
    """
    principal = http.principal()
    require(principal, auth.may_issue(principal), "aggregate telemetry")
    if request.mimetype != "text/plain":
        raise UnsupportedMediaType("send the frames as text/plain, one hex frame per line",
                                   pointer="Content-Type")
    battery_code = http.query_text("battery_code")
    skip_bad = request.args.get("skip_bad", "false").lower() in ("1", "true", "yes")
    rejected: list[BadFrame] = []
    result = aggregate_frames(
        _lines(request.stream, http.instance().settings.max_body_bytes),
        battery_code=battery_code,
        on_bad=rejected.append,
        **_thresholds(),
    )
    if rejected and not skip_bad:
        first = rejected[0]
        raise InvalidFrame(
            f"{len(rejected)} line(s) are not valid frames; first: {first.describe()}",
            pointer=f"line {first.line}",
            errors=[asdict(bad) for bad in rejected[:100]],
        )
    return jsonify({**result.as_dict(), "rejected": [asdict(bad) for bad in rejected]})
