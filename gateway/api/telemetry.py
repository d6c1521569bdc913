"""GB/T 32960 telemetry in, per-battery usage aggregates out (never the VIN)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import asdict
from typing import IO, Any, cast

from flask import Blueprint, Response, jsonify, request

from gateway import auth
from gateway.api import http
from gateway.codes.gbt32960 import HEADER_LENGTH, MAX_DATA_LENGTH
from gateway.errors import BodyTooLarge, InvalidFrame, InvalidInput, UnsupportedMediaType
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
#: Longest line that can hold one frame: the largest GB/T 32960 frame (header, data,
#: BCC) written as hexadecimal with a space after every byte, and a CR LF.
MAX_LINE_BYTES = 3 * (HEADER_LENGTH + MAX_DATA_LENGTH + 1) + 2
#: Werkzeug's request stream is unbuffered (its readline() reads one byte per call);
#: lines come out of reads of this size instead.
_READ_BUFFER = 64 * 1024


def _lines(stream: IO[bytes], limit: int) -> Iterator[bytes]:
    """The body's lines as they arrive, read through a buffer; the whole body is held
    to ``limit`` bytes and each line to :data:`MAX_LINE_BYTES`.

    :raises BodyTooLarge: a line longer than any frame (refused as soon as its first
        :data:`MAX_LINE_BYTES` bytes are read), or a body over ``limit``.
    """
    # The request stream reads raw bytes; typeshed wants the RawIOBase class itself.
    buffered = io.BufferedReader(cast(io.RawIOBase, stream), buffer_size=_READ_BUFFER)
    seen = number = 0
    while line := buffered.readline(MAX_LINE_BYTES + 1):
        number += 1
        seen += len(line)
        if seen > limit:
            raise BodyTooLarge(f"the body exceeds {limit} bytes", pointer="body")
        if len(line) > MAX_LINE_BYTES:
            raise BodyTooLarge(
                f"line {number} is longer than any GB/T 32960 frame "
                f"({MAX_LINE_BYTES} bytes as hexadecimal)",
                pointer=f"line {number}",
            )
        yield line


def _thresholds() -> dict[str, Any]:
    out: dict[str, Any] = {}
    specs = [(n, float, b) for n, b in NUMBER_ARGS.items()] + [
        (n, int, b) for n, b in INTEGER_ARGS.items()
    ]
    for name, kind, (low, high) in specs:
        if name in request.args:
            try:
                value = kind(request.args[name])
            except ValueError:
                raise InvalidInput(
                    f"{name} must be a {kind.__name__} number", pointer=name
                ) from None
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
    auth.require(principal, auth.may_issue(principal), "aggregate telemetry")
    if request.mimetype != "text/plain":
        raise UnsupportedMediaType(
            "send the frames as text/plain, one hex frame per line", pointer="Content-Type"
        )
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
