"""The record schema's value rules, field by field."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.errors import InvalidRecord
from gateway.jsonvalues import MAX_SAFE_INTEGER
from gateway.records.fields import canonical_decimal
from gateway.records.reader import read_record
from gateway.records.validation import validate_record

MINIMAL: dict[str, Any] = {
    "model_version": "cn-trace/1",
    "battery": {"code": "Z9ZPEB3SPRS001E9R0000456", "category": "ev"},
    "manufacturer": {"name": "闽东示例动力电池有限公司"},
}


def record(**parts: Any) -> dict[str, Any]:
    out = copy.deepcopy(MINIMAL)
    for key, value in parts.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key].update(value)
        else:
            out[key] = value
    return out


def errors_of(data: Any) -> dict[str, str]:
    with pytest.raises(InvalidRecord) as caught:
        validate_record(data)
    return {e["pointer"]: e["message"] for e in caught.value.extensions["errors"]}


def test_minimal_record_is_valid() -> None:
    assert validate_record(record()) == MINIMAL


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        (Decimal("350.40"), "350.4"),
        (Decimal("1E+2"), "100"),
        (Decimal("-0.0"), "0"),
        (Decimal("0.0007"), "0.0007"),
        (Decimal("7E-4"), "0.0007"),
        ("+.5", "0.5"),
        ("150.", "150"),
        (150, "150"),
    ],
)
def test_decimals_become_canonical_strings(given: Any, canonical: str) -> None:
    data = record(specs={"rated_capacity": {"value": given, "unit": "Ah"}})
    assert validate_record(data)["specs"]["rated_capacity"]["value"] == canonical


@given(
    st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
        lambda d: abs(d) < Decimal(10) ** 20 and (d == 0 or abs(d) > Decimal(10) ** -15)
    )
)
def test_canonical_decimal_keeps_the_value_and_has_no_exponent(value: Decimal) -> None:
    text = canonical_decimal(value)
    assert Decimal(text) == value
    assert "E" not in text.upper()
    assert text == canonical_decimal(Decimal(text))  # idempotent


@pytest.mark.parametrize(
    "value", [1.5, True, "1e3", "1,5", " 150", "0x10", Decimal("NaN"), Decimal("-Infinity")]
)
def test_decimal_rejects(value: Any) -> None:
    data = record(specs={"rated_capacity": {"value": value, "unit": "Ah"}})
    assert set(errors_of(data)) == {"/specs/rated_capacity/value"}


def test_negative_quantity_is_refused() -> None:
    data = record(specs={"mass": {"value": "-1", "unit": "kg"}})
    assert errors_of(data) == {"/specs/mass/value": "must be at least 0"}


@pytest.mark.parametrize("value", [MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 0])
def test_integers_within_2_53(value: int) -> None:
    data = record(specs={"expected_cycles": abs(value)})
    assert validate_record(data)["specs"]["expected_cycles"] == abs(value)


@pytest.mark.parametrize("value", [MAX_SAFE_INTEGER + 1, 1.0, Decimal("3000.0"), "3000", True])
def test_integer_rejects(value: Any) -> None:
    assert set(errors_of(record(usage={"cycles": value}))) == {"/usage/cycles"}


@pytest.mark.parametrize(
    "text", ["a\x00b", "tab\there", "line\nbreak", "del\x7f", "c1\x85", "\ud800"]
)
def test_control_characters_are_refused(text: str) -> None:
    found = errors_of(record(battery={"model": text}))
    assert "control character" in found["/battery/model"]


def test_empty_string_is_refused() -> None:
    assert "must not be empty" in errors_of(record(battery={"model": ""}))["/battery/model"]


@pytest.mark.parametrize("value", ["2024-02-29", "2000-02-29", "1999-12-31"])
def test_real_dates(value: str) -> None:
    assert validate_record(record(production={"date": value}))["production"]["date"] == value


@pytest.mark.parametrize(
    "value",
    [
        "2023-02-29",
        "2024-13-01",
        "2024-04-31",
        "20240704",
        "2024-7-4",
        "2024-07-04T00:00:00",
        20240704,
    ],
)
def test_not_dates(value: Any) -> None:
    assert set(errors_of(record(production={"date": value}))) == {"/production/date"}


@pytest.mark.parametrize(
    "code",
    [
        "Z9ZPEB3SPRS001E9R0000456",
        "4A6PCPM27KLPCLE742946319",
        "Z9ZMB01F3F0000042RP",  # 19-character echelon-use form (Catena-X)
    ],
)
def test_code_syntax_accepts(code: str) -> None:
    assert validate_record(record(battery={"code": code}))["battery"]["code"] == code


@pytest.mark.parametrize(
    "code",
    [
        "Z9ZPBA10000001F3F000012",  # 23 characters
        "Z9ZXBA10000001F3F0000123",  # product type X
        "z9zpba10000001f3f0000123",  # lower case
        "Z9ZPBA10000001F3F0000123X",
        "Z9ZMB01F3F0000042XP",
    ],
)
def test_code_syntax_refuses(code: str) -> None:
    assert "GB/T 34014" in errors_of(record(battery={"code": code}))["/battery/code"]


def test_module_and_cell_codes_must_name_their_level() -> None:
    data = record(
        battery={
            "modules": [{"code": "Z9ZPEN8M12S1P1E6A0001201", "cells": ["Z9ZMEN8C150A01E660012001"]}]
        }
    )
    found = errors_of(data)
    assert set(found) == {"/battery/modules/0/code", "/battery/modules/0/cells/0"}


def test_duplicate_codes_are_refused() -> None:
    cell = "Z9ZCEN8C150A01E660012001"
    data = record(
        battery={
            "modules": [
                {"code": "Z9ZMEN8M12S1P1E6A0001201", "cells": [cell]},
                {"code": "Z9ZMEN8M12S1P1E6A0001202", "cells": [cell]},
            ]
        }
    )
    assert (
        "listed twice (first at modules/0/cells/0)" in errors_of(data)["/battery/modules/1/cells/0"]
    )


def test_original_code_must_differ() -> None:
    code = MINIMAL["battery"]["code"]
    assert "/battery/original_code" in errors_of(record(battery={"original_code": code}))


def test_manufacturer_code_must_match_the_battery_code() -> None:
    found = errors_of(record(manufacturer={"code": "4A6"}))
    assert "Z9Z" in found["/manufacturer/code"]


def test_null_means_absent() -> None:
    data = record(battery={"original_code": None, "model": None}, specs=None)
    assert validate_record(data) == MINIMAL


def test_null_in_a_required_field_is_refused() -> None:
    assert errors_of(record(battery={"code": None})) == {"/battery/code": "must not be null"}


def test_unknown_model_version() -> None:
    assert set(errors_of(record(model_version="cn-trace/2"))) == {"/model_version"}


@pytest.mark.parametrize(
    ("field", "bad", "allowed"),
    [
        ("rated_capacity", "Wh", "Ah, mAh"),
        ("nominal_voltage", "A", "V, mV"),
        ("rated_energy", "Ah", "kWh, Wh, MWh"),
        ("mass", "lb", "kg, g, t"),
        ("power", "kWh", "kW, W"),
        ("internal_resistance_pack", "ohm", "Ohm, mOhm"),
    ],
)
def test_unit_errors_list_allowed_units(field: str, bad: str, allowed: str) -> None:
    found = errors_of(record(specs={field: {"value": "1", "unit": bad}}))
    assert set(found) == {f"/specs/{field}/unit"}
    message = found[f"/specs/{field}/unit"]
    assert message.startswith(f"unit {bad!r} is not allowed")
    assert message.endswith(f"allowed units: {allowed}")


def test_temperature_range() -> None:
    ok = {"min": "-20", "max": "55", "unit": "°C"}
    assert (
        validate_record(record(specs={"temperature_range": ok}))["specs"]["temperature_range"] == ok
    )
    found = errors_of(record(specs={"temperature_range": {"min": "60", "max": "55", "unit": "K"}}))
    assert set(found) == {"/specs/temperature_range/unit"}
    found = errors_of(record(specs={"temperature_range": {"min": "60", "max": "55", "unit": "°C"}}))
    assert set(found) == {"/specs/temperature_range/max"}


def test_events_are_a_discriminated_union() -> None:
    events = [
        {
            "type": "handover",
            "date": "2026-05-01",
            "recipient": {"name": "R", "licence_no": "MIIT-2018-40-04", "activity": "recycling"},
        },
        {"type": "handover", "date": "2026-05-01", "new_code": "Z9ZPBA10000001F3F0000123"},
        {"type": "scrapping", "date": "2026-05-01"},
        {"date": "2026-05-01"},
        {"type": "sale"},
        {"type": "sale", "date": "2026-05-02", "reported_on": "2026-05-01"},
        "sale",
    ]
    found = errors_of(record(events=events))
    assert set(found) == {
        "/events/1/new_code",
        "/events/2/type",
        "/events/3/type",
        "/events/4/date",
        "/events/5/reported_on",
        "/events/6",
    }
    assert "echelon_use" in found["/events/2/type"]


def test_handover_activity_enum() -> None:
    events = [
        {"type": "handover", "date": "2026-05-01", "recipient": {"name": "R", "activity": "resale"}}
    ]
    assert set(errors_of(record(events=events))) == {"/events/0/recipient/activity"}


def test_vehicle_fields() -> None:
    vehicle = {
        "vin": "LNBSCTEST0000000I",
        "owner": {"name": "张三", "phone": "13800000000"},
        "last_location": {"lat": "91", "lon": "104.0668"},
    }
    assert set(errors_of(record(vehicle=vehicle))) == {
        "/vehicle/vin",
        "/vehicle/last_location/lat",
    }


def test_usage_ranges_and_alarms() -> None:
    usage = {
        "soh": "100.1",
        "soc": "-1",
        "alarms": [{"type": "insulation", "level": 4, "time": "2025-02-08T10:12:00"}],
    }
    assert set(errors_of(record(usage=usage))) == {
        "/usage/soh",
        "/usage/soc",
        "/usage/alarms/0/level",
        "/usage/alarms/0/time",
    }


def test_usage_temperature_extremes() -> None:
    good = {"min": -14, "max": 58, "since": "2024-07-22", "as_of": "2026-04-30"}
    assert validate_record(record(usage={"temperature": good}))["usage"]["temperature"] == good
    # GB/T 32960.3 probe temperatures: whole degrees from -40 to +210 °C.
    assert set(errors_of(record(usage={"temperature": {"min": -41, "max": "58"}}))) == {
        "/usage/temperature/min",
        "/usage/temperature/max",
        "/usage/temperature/as_of",
    }
    assert set(errors_of(record(usage={"temperature": {"max": 58.5, "as_of": "2026-04-30"}}))) == {
        "/usage/temperature/max"
    }
    upside_down = {"min": 30, "max": 20, "since": "2026-05-01", "as_of": "2026-04-30"}
    refused = errors_of(record(usage={"temperature": upside_down}))
    assert set(refused) == {"/usage/temperature/max", "/usage/temperature/as_of"}
    assert "30" not in refused["/usage/temperature/max"]  # withheld figures are not echoed
    no_value = errors_of(record(usage={"temperature": {"as_of": "2026-04-30"}}))
    assert "/usage/temperature/max" in no_value


def test_eu_supplement_values_follow_catalog_types() -> None:
    supplement = {
        "carbon_footprint_per_fu": "0.047",
        "absolute_carbon_footprint": 4,
        "manufacturing_date": "2024-07",
        "placed_on_market_date": "2024-09-01",
        "cf_study_link": "https://battery.example.cn/pcf.pdf",
        "cf_performance_class": "B",
    }
    assert validate_record(record(eu_supplement=supplement))["eu_supplement"] == supplement
    bad = {
        "carbon_footprint_per_fu": 0.047,
        "absolute_carbon_footprint": "4",
        "manufacturing_date": "2024-13",
        "placed_on_market_date": "2024-09",
        "cf_study_link": "pcf.pdf",
        "cf_performance_class": 2,
        "rated_capacity~x": "1",
    }
    found = errors_of(record(eu_supplement=bad))
    assert set(found) == {f"/eu_supplement/{k}" for k in bad if "~" not in k} | {
        "/eu_supplement/rated_capacity~0x"
    }
    assert found["/eu_supplement/placed_on_market_date"].endswith("(catalog type date)")


def test_all_problems_are_reported_and_detail_names_the_first() -> None:
    data = record(battery={"category": "car", "model": ""}, specs={"mass": {"value": "1"}})
    with pytest.raises(InvalidRecord) as caught:
        validate_record(data)
    errors = caught.value.extensions["errors"]
    assert [e["pointer"] for e in errors] == [
        "/battery/category",
        "/battery/model",
        "/specs/mass/unit",
    ]
    assert caught.value.detail == (
        "/battery/category: 'car' is not one of: ev, lmt, industrial, stationary "
        "(and 2 more problems)"
    )
    assert caught.value.to_problem()["status"] == 422


def test_output_is_plain_json() -> None:
    out = read_record(
        json.dumps(record(specs={"mass": {"value": 328.50, "unit": "kg"}})).encode(),
        "application/json",
    )
    assert json.loads(json.dumps(out)) == out
    assert out["specs"]["mass"]["value"] == "328.5"
