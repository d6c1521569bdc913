"""Telemetry aggregates merged into a national record, and the record's limits read."""

from __future__ import annotations

import pytest

from gateway.errors import InvalidRecord
from gateway.paths import FIXTURES_DIR
from gateway.records.reader import read_record_file
from gateway.telemetry import UsageAggregate, merge_usage, parameters_from_record

RECORD = FIXTURES_DIR / "records" / "vin-repair-pack.json"
CODE = "4A6PCPM27KLPCLE742946319"


def aggregate(**usage) -> UsageAggregate:
    return UsageAggregate(CODE, usage, {}, {})


@pytest.fixture
def record():
    return read_record_file(RECORD)


def test_record_values_win_and_telemetry_fills_the_rest(record):
    merged = merge_usage(
        record,
        aggregate(
            as_of="2025-11-20",
            soc="80",
            cycles=3,
            energy_throughput={"value": "82.933", "unit": "kWh"},
            capacity_throughput={"value": "223.14", "unit": "Ah"},
            time_above_max_temp_minutes=60,
            overcharge_events=1,
            alarms=[
                {"type": "insulation", "level": 3, "time": "2025-10-29T07:55:31+08:00"},
                {
                    "type": "battery_high_temperature",
                    "level": 3,
                    "time": "2025-11-20T09:00:00+08:00",
                },
            ],
        ),
    )
    usage = merged["usage"]
    own = record["usage"]
    for key in ("soc", "cycles", "energy_throughput", "overcharge_events", "soh"):
        assert usage[key] == own[key], key
    assert usage["capacity_throughput"] == {"value": "223.14", "unit": "Ah"}
    assert usage["time_above_max_temp_minutes"] == 60
    assert usage["as_of"] == "2025-11-20"
    # The record's insulation alarm is not repeated; the new one is added in time order.
    assert [a["type"] for a in usage["alarms"]] == [
        "temperature_difference",
        "insulation",
        "battery_high_temperature",
    ]
    assert record["usage"]["soc"] == own["soc"]  # the input is not modified


def test_nothing_filled_keeps_the_record_date(record):
    merged = merge_usage(record, aggregate(as_of="2026-01-01", soc="10"))
    assert merged["usage"]["as_of"] == record["usage"]["as_of"]


def test_a_record_without_usage_gets_the_aggregates_and_no_soh(record):
    del record["usage"]
    merged = merge_usage(
        record, {"battery_code": CODE, "usage": {"as_of": "2025-06-01", "soc": "95"}}
    )
    assert merged["usage"] == {"as_of": "2025-06-01", "soc": "95"}


def test_aggregates_of_another_battery_are_refused(record):
    other = UsageAggregate("4A6PCPM27KLPCLE7C2946777", {"soc": "1"}, {}, {})
    with pytest.raises(InvalidRecord, match="/battery/code"):
        merge_usage(record, other)


def test_an_aggregate_breaking_the_record_model_is_refused(record):
    del record["usage"]
    with pytest.raises(InvalidRecord, match="/usage/cycles"):
        merge_usage(record, aggregate(cycles=-1))


def test_parameters_come_from_specs_and_overrides_win(record):
    record["specs"]["temperature_range"] = {"min": "-20", "max": "55", "unit": "°C"}
    record["specs"]["max_voltage"] = {"value": "420000", "unit": "mV"}
    params = parameters_from_record(record, temp_max=45, deep_discharge_soc=None)
    assert (params.temp_min, params.temp_max) == (-20, 45)
    assert params.rated_capacity_ah == 150
    assert params.pack_max_voltage == 420
    assert params.deep_discharge_soc == 5


def test_temperature_extremes_are_filled_but_never_replace_the_records(record):
    extremes = {"min": -25, "max": 50, "since": "2025-06-01", "as_of": "2025-06-01"}
    merged = merge_usage(record, aggregate(as_of="2025-06-01", temperature=extremes))
    assert merged["usage"]["temperature"] == extremes
    # The whole-life figures of the record win, member and period together.
    own = {"min": -5, "max": 44, "since": "2024-07-22", "as_of": "2025-11-01"}
    record["usage"]["temperature"] = own
    assert merge_usage(record, aggregate(temperature=extremes))["usage"]["temperature"] == own
