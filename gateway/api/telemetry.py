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
# Physically plausible bounds: outside them a value is a mistake, and huge ones would
# overflow the decimal arithmetic of the aggregates.
NUMBER_ARGS = {
    "rated_capacity_ah": (0.001, 1_000_000),
    "temp_min": (-100, 200),
    "temp_max": (-100, 200),
    "deep_discharge_soc": (0, 100),
    "pack_min_voltage": (0, 100_000),
    "pack_max_voltage": (0, 100_000),
}
INTEGER_ARGS = {"max_interval_s": (1, 86_400), "reorder_window_s": (0, 86_400)}


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
    specs = [(n, float, b) for n, b in NUMBER_ARGS.items()] + [
        (n, int, b) for n, b in INTEGER_ARGS.items()]
    for name, kind, (low, high) in specs:
        if name in request.args:
            try:
                value = kind(request.args[name])
            except ValueError:
                raise InvalidInput(f"{name} must be a {kind.__name__} number",
                                   pointer=name) from None
            if not low <= value <= high:
                raise InvalidInput(f"{name} must be between {low} and {high}", pointer=name)
            out[name] = value
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
