from decimal import Decimal

import pytest

from gateway.errors import TransformError
from gateway.mapping import transforms
from gateway.mapping.transforms import check_params, decimal_string

CONTEXT = transforms.Context(
    record={}, base_url="https://gw.example/", decode_code=lambda code: {"battery_type_name": "LFP"}
)


def run(name, value, **params):
    return transforms.apply(name, value, CONTEXT, params)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("350.40", "350.4"),
        ("150", "150"),
        (Decimal("1.5E+2"), "150"),
        ("0.0007", "0.0007"),
        ("-0", "0"),
        (3000, "3000"),
    ],
)
def test_decimal_text_has_no_exponent_and_no_trailing_zeros(value, text):
    assert decimal_string(value) == text


def test_quantity_converts_units():
    assert run("quantity", {"value": "52560", "unit": "Wh"}, unit="kWh") == "52.56"
    assert run("quantity", {"value": "0.7", "unit": "mOhm"}, unit="Ohm") == "0.0007"
    assert run("quantity", {"value": "150", "unit": "kW"}, unit="W") == "150000"


def test_quantity_refuses_a_unit_of_another_dimension():
    with pytest.raises(TransformError, match="cannot convert V"):
        run("quantity", {"value": "3.2", "unit": "V"}, unit="Ah")


def test_ratio_and_range_bound():
    specs = {
        "power": {"value": "150", "unit": "kW"},
        "rated_energy": {"value": "52.56", "unit": "kWh"},
    }
    assert (
        run("ratio", specs, numerator="power", denominator="rated_energy", unit="W/Wh", places=3)
        == "2.854"
    )
    assert (
        run("range_bound", {"min": "-20", "max": "55", "unit": "°C"}, bound="min", unit="°C")
        == "-20"
    )


def test_enum_refuses_unlisted_codes():
    assert run("enum", "ev", values={"ev": "electric vehicle battery"}) == (
        "electric vehicle battery"
    )
    with pytest.raises(TransformError, match="not in the enumeration map"):
        run("enum", "bus", values={"ev": "electric vehicle battery"})


def test_passport_url_and_code_segment():
    assert run("passport_url", "Z9ZPBA10000001F3F0000123") == (
        "https://gw.example/passports/Z9ZPBA10000001F3F0000123"
    )
    assert run("code_segment", "Z9ZPBA10000001F3F0000123", segment="battery_type_name") == "LFP"


def test_integer_refuses_fractions():
    assert run("integer", "3000") == 3000
    with pytest.raises(TransformError, match="whole number"):
        run("integer", "2.5")


@pytest.mark.parametrize(
    ("name", "params", "problem"),
    [
        ("no_such", {}, "is not registered"),
        ("quantity", {}, "needs parameter 'unit'"),
        ("quantity", {"unit": 5}, "must be str"),
        ("quantity", {"unit": "V", "scale": 2}, "takes no parameter 'scale'"),
    ],
)
def test_parameters_are_checked(name, params, problem):
    assert any(problem in p for p in check_params(name, params))


def test_engine_parameters_are_not_transform_parameters():
    assert check_params("year_month", {"where": {"type": "sale"}, "pick": "first"}) == []


# Unified social credit codes as published in the national enterprise credit register
# (Huawei Technologies, Shenzhen Tencent Computer Systems, BYD, CATL): an independent
# check of the GB 32100-2015 weights and alphabet.
PUBLISHED_USCC = (
    "914403001922038216",
    "9144030071526726XG",
    "91440300192317458F",
    "91350900587527783P",
)


@pytest.mark.parametrize("code", PUBLISHED_USCC)
def test_uscc_check_character_agrees_with_published_codes(code):
    assert transforms.uscc_check_character(code[:17]) == code[17]
    assert run("uscc", code) == f"GB32100:{code}"


@pytest.mark.parametrize(
    "code", ["914403001922038217", "91440300192203821", "9144030019220382I6", "914403001922038216X"]
)
def test_uscc_refuses_a_wrong_check_character_length_or_letter(code):
    with pytest.raises(transforms.Refused, match="GB 32100"):
        run("uscc", code)


def _decoding(decoded):
    return transforms.Context(
        record={}, base_url="https://gw.example/", decode_code=lambda c: decoded
    )


def test_code_segment_refuses_a_letter_read_without_confirmation():
    ambiguous = {
        "battery_type_name": "LMO (probable, unverified)",
        "ambiguities": [
            {
                "segment": "battery_type",
                "position": 5,
                "reason": "battery type 'C' read as lmo (confidence P)",
            }
        ],
    }
    with pytest.raises(transforms.Refused, match=r"confidence P"):
        transforms.apply(
            "code_segment", "X", _decoding(ambiguous), {"segment": "battery_type_name"}
        )
    rated = {"battery_type_name": "LTO", "confidence": {"battery_type": "U"}}
    with pytest.raises(transforms.Refused, match="confidence U"):
        transforms.apply("code_segment", "X", _decoding(rated), {"segment": "battery_type_name"})
    # An ambiguity of another segment does not matter to this one.
    other = {"battery_type_name": "LFP", "ambiguities": [{"segment": "production_date_code"}]}
    assert (
        transforms.apply("code_segment", "X", _decoding(other), {"segment": "battery_type_name"})
        == "LFP"
    )


def test_known_passport_links_only_to_a_passport_the_gateway_holds():
    with pytest.raises(transforms.Refused, match="predecessor_passport_id"):
        run("known_passport", "Z9ZPBA10000001F3F0000123")
    known = transforms.Context(
        record={},
        base_url="https://gw.example/",
        decode_code=lambda c: {},
        passport_of={"Z9ZPBA10000001F3F0000123": "https://other.example/passports/1"}.get,
    )
    assert transforms.apply("known_passport", "Z9ZPBA10000001F3F0000123", known, {}) == (
        "https://other.example/passports/1"
    )


def test_multilingual_text_prefers_english_and_keeps_every_language():
    fields = {"en": "name_en", "zh": "name"}
    both = run("multilingual", {"name": "闽东", "name_en": "Mindong"}, fields=fields)
    assert both == transforms.Multilingual("Mindong", (("en", "Mindong"), ("zh", "闽东")))
    assert run("multilingual", {"name": "闽东"}, fields=fields) == "闽东"
    assert run("multilingual", {}, fields=fields) is None


def test_negative_events_are_repairs_and_replacements():
    assert run("negative_event", {"type": "repair", "date": "2025-02-10", "reason": "cell"}) == (
        "repair 2025-02-10: cell"
    )
    assert run("negative_event", {"type": "replacement", "date": "2025-11-03"}) == (
        "replacement 2025-11-03"
    )
    assert run("negative_event", {"type": "sale", "date": "2025-11-03"}) is None


def _history(record):
    context = transforms.Context(
        record=record, base_url="https://gw.example/", decode_code=lambda code: {}
    )
    alarms = record.get("usage", {}).get("alarms")
    return transforms.apply("accident_history", alarms, context, {"min_level": 3})


REPAIR = {"type": "repair", "date": "2025-02-10", "reason": "cooling plate leak."}
COUNTS = {
    "from": "2024-07",
    "to": "2026-04",
    "counts": [
        {"type": "insulation", "level": 3, "count": 2},
        {"type": "temperature_difference", "level": 1, "count": 4},
    ],
}


def test_accident_history_states_repairs_and_alarm_counts_together():
    record = {"events": [REPAIR], "usage": {"as_of": "2026-04-30", "alarms": COUNTS}}
    assert _history(record) == (
        "repair 2025-02-10: cooling plate leak. BMS alarms: insulation, level 3: 2 "
        "(2024-07 to 2026-04)"
    )


def test_accident_history_says_none_recorded_and_never_a_timestamped_alarm():
    empty = dict(COUNTS, counts=[])
    record = {
        "events": [{"type": "sale", "date": "2024-07-22"}],
        "usage": {"as_of": "2026-04-30", "alarms": empty},
    }
    assert _history(record) == (
        "no repair or replacement recorded. BMS alarms: none recorded at level >= 3 "
        "from 2024-07 to 2026-04"
    )
    # Alarms the policy did not summarise (a list of timed events) are never stated.
    raw = [{"type": "insulation", "level": 3, "time": "2025-10-29T07:55:31+08:00"}]
    timed = {"events": [REPAIR], "usage": {"as_of": "2026-04-30", "alarms": raw}}
    assert _history(timed) is None  # the rows that state the repairs alone answer
    assert _history({"usage": {"as_of": "2026-04-30"}}) is None


def test_accident_history_states_a_repair_later_than_the_usage_figures_with_the_counts():
    # The row is dated by the later of its sources (its as_of lists both), so a repair
    # after the usage date no longer drops the alarm counts.
    later = dict(REPAIR, date="2026-05-02")
    record = {"events": [later], "usage": {"as_of": "2026-04-30", "alarms": COUNTS}}
    stated = _history(record)
    assert stated.startswith("repair 2026-05-02")
    assert "BMS alarms: insulation, level 3: 2" in stated
