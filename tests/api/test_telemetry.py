"""POST /telemetry/aggregate: frames in, battery-keyed aggregates out."""

from __future__ import annotations

import datetime as dt

from gateway.codes.gbt32960 import BEIJING
from gateway.telemetry import gbt32960_encode as enc
from tests.helpers import assert_problem

VIN = "LNBSCTEST00000001"
CODE = "Z9ZPBA10000001F3F0000123"


def _frames(count: int = 60) -> list[str]:
    start = dt.datetime(2025, 11, 1, 7, 0, tzinfo=BEIJING)
    frames = [enc.login(VIN, start, [CODE])]
    for i in range(count):
        frames.append(
            enc.realtime(
                VIN,
                start + dt.timedelta(seconds=10 * (i + 1)),
                [
                    enc.vehicle_unit(soc=90 - i // 6, voltage=350, current=50),
                    enc.extreme_unit(max_temp=30, min_temp=20),
                ],
            )
        )
    return [f.hex().upper() for f in frames]


def _post(api, keys, lines, role="exporter", **query):
    return api.post(
        "/telemetry/aggregate",
        headers=keys[role],
        query_string={"battery_code": CODE, **query},
        data="\n".join(lines),
        content_type="text/plain",
    )


def test_aggregates_are_keyed_by_battery_code_not_vin(api, keys):
    response = _post(api, keys, _frames(), rated_capacity_ah="150")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["battery_code"] == CODE
    assert body["usage"]["soc"] is not None or "soc" in body["usage"]
    assert VIN not in response.get_data(as_text=True)
    assert body["rejected"] == []


def test_a_bad_line_is_refused_naming_it_unless_skipped(api, keys):
    lines = _frames()
    lines.insert(5, "232302FE00")
    problem = assert_problem(_post(api, keys, lines), 422, "invalid-frame")
    assert problem["pointer"] == "line 6"
    skipped = _post(api, keys, lines, skip_bad="true")
    assert skipped.status_code == 200
    assert [r["line"] for r in skipped.get_json()["rejected"]] == [6]


def test_only_exporters_and_admins_send_telemetry(api, keys):
    assert_problem(_post(api, keys, _frames(), role="importer"), 403)
    assert_problem(
        api.post("/telemetry/aggregate?battery_code=" + CODE, data="x", content_type="text/plain"),
        401,
    )
    assert_problem(
        api.post(
            "/telemetry/aggregate?battery_code=" + CODE,
            data="{}",
            headers=keys["exporter"],
            content_type="application/json",
        ),
        415,
    )
