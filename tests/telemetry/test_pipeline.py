"""Telemetry aggregates through the normal pipeline: a second-life stationary pack,
for which Annex VII Part B (throughput, temperature exposure) is mandatory."""

from __future__ import annotations

import datetime as dt

from gateway.codes.gbt32960 import BEIJING
from gateway.paths import FIXTURES_DIR
from gateway.policy.table import load_policy
from gateway.records.reader import read_record_file
from gateway.services import draft_passport
from gateway.telemetry import aggregate_frames, merge_usage, parameters_from_record
from gateway.telemetry import gbt32960_encode as enc
from gateway.vocab.forms import plain_value
from tests.helpers import covering_everything

RECORD = FIXTURES_DIR / "records" / "lfp-storage-pack.json"


def test_aggregates_become_passport_attributes_and_soh_stays_a_gap():
    record = read_record_file(RECORD)
    code = record["battery"]["code"]
    limits = record["specs"]["temperature_range"]
    start = dt.datetime(2025, 7, 1, 12, tzinfo=BEIJING)
    frames = [enc.login("LNBSCTEST00000009", start, [code])]
    # 20 minutes charging at 55 °C (above the record's 50 °C limit), 100 A at 400 V.
    for i in range(121):
        moment = start + dt.timedelta(seconds=10 * i)
        frames.append(
            enc.realtime(
                "LNBSCTEST00000009",
                moment,
                [
                    enc.vehicle_unit(soc=50, voltage=400, current=-100, charging="parked charging"),
                    enc.extreme_unit(max_temp=55, min_temp=40),
                ],
            )
        )
    params = parameters_from_record(record)
    assert (params.temp_min, params.temp_max) == (float(limits["min"]), float(limits["max"]))
    aggregates = aggregate_frames(
        [f.hex() for f in frames],
        battery_code=code,
        rated_capacity_ah=params.rated_capacity_ah,
        temp_min=params.temp_min,
        temp_max=params.temp_max,
    )
    draft = draft_passport(
        merge_usage(record, aggregates),
        mapping="cn-trace-to-eu-passport@1.0.0",
        base_url="https://passports.example.com",
        approvals=[covering_everything()],  # BMS health data leaves only under one
    )
    document = {k: plain_value(v) for k, v in draft.documents["annex-xiii-4"].items()}
    assert document["timeExtremeTempAbove"] == 20
    assert document["timeChargingExtremeTempAbove"] == 20
    assert document["energyThroughput"] == "13.333"  # 400 V x 100 A x 1200 s
    assert document["capacityThroughput"] == "33.33"
    assert document["stateOfCharge"] == "50"
    status = {a["key"]: a["status"] for a in draft.gaps["attributes"]}
    assert status["state_of_health"] == "missing_data"


def _merged_stream_record(scenario):
    """The vehicle-A stream (tests/telemetry/stream.py) merged into the record of its
    battery, which has usage figures but no temperature extremes."""
    record = read_record_file(FIXTURES_DIR / "records" / "vin-repair-pack.json")
    assert record["battery"]["code"] == scenario.code_a
    assert "temperature" not in record["usage"]
    aggregates = aggregate_frames(
        scenario.stream.lines,
        battery_code=scenario.code_a,
        rated_capacity_ah=scenario.rated_ah,
        temp_min=scenario.temp_min,
        temp_max=scenario.temp_max,
        on_bad=lambda bad: None,
    )
    return merge_usage(record, aggregates)


def test_stream_temperature_extremes_reach_the_passport_under_an_approval(scenario):
    merged = _merged_stream_record(scenario)
    want = scenario.expected["temperature"]
    assert merged["usage"]["temperature"] == want
    draft = draft_passport(
        merged,
        mapping="cn-trace-to-eu-passport@1.2.0",
        base_url="https://passports.example.com",
        approvals=[covering_everything()],
    )
    node = draft.documents["annex-xiii-4"]["temperatureInformation"]
    # The highest probe temperature of the stream, dated by the last frame's day.
    assert plain_value(node) == str(want["max"]) == "50"
    assert node["measuredAt"].startswith(want["as_of"])
    gaps = {a["key"]: a for a in draft.gaps["attributes"]}
    assert gaps["temperature_information"]["status"] == "partial"
    assert gaps["temperature_information"]["source"] == "usage.temperature.max"


def test_stream_temperature_extremes_stay_in_china_without_an_approval(scenario):
    merged = _merged_stream_record(scenario)
    for policy, approvals, reason in (
        ("cn-export@1.2.0", [], "needs an approval (temperature)"),
        # 1.1.0 does not classify the member: it stays in China even under an approval.
        ("cn-export@1.1.0", [covering_everything()], "not classified for export"),
    ):
        draft = draft_passport(
            merged,
            mapping="cn-trace-to-eu-passport@1.2.0",
            base_url="https://passports.example.com",
            approvals=approvals,
            policy=load_policy(policy),
        )
        assert "temperatureInformation" not in draft.documents.get("annex-xiii-4", {})
        gap = next(a for a in draft.gaps["attributes"] if a["key"] == "temperature_information")
        assert gap["status"] == "withheld", policy
        assert reason in gap["reason"], policy
        assert "50" not in gap["reason"]
