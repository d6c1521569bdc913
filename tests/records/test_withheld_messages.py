"""A refused record never hands back the value of a field the cross-border policy
withholds (VIN, owner, location, BMS data): the problem names the field and the rule."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.errors import InvalidRecord
from gateway.paths import FIXTURES_DIR
from gateway.records import read_record

RECORDS = FIXTURES_DIR / "records"
BAD_VIN = "LSJSECXY98765432I"  # an I: not a VIN
BAD_EVENT_VIN = "LSJSECXY98765432Q"
BAD_TIME = "2025-13-45T10:12:00Z"
BAD_PHONE = "call-me-maybe"
BAD_LAT = "30,5728N"
SECRETS = (BAD_VIN, BAD_EVENT_VIN, BAD_TIME, BAD_PHONE, BAD_LAT)


def _bad_record() -> dict[str, Any]:
    record = json.loads((RECORDS / "vin-repair-pack.json").read_text(encoding="utf-8"))
    vehicle = record["vehicle"]
    vehicle["vin"] = BAD_VIN
    vehicle["owner"]["phone"] = BAD_PHONE
    vehicle["last_location"]["time"] = BAD_TIME
    vehicle["last_location"]["lat"] = BAD_LAT
    for event in record["events"]:
        if "vin" in event:
            event["vin"] = BAD_EVENT_VIN
    return record


def _problems(data: bytes, media_type: str = "application/json") -> InvalidRecord:
    with pytest.raises(InvalidRecord) as caught:
        read_record(data, media_type)
    return caught.value


def _assert_silent(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, secret


def test_problems_about_withheld_fields_name_field_and_rule_not_value() -> None:
    error = _problems(json.dumps(_bad_record()).encode())
    found = {p["pointer"]: p["message"] for p in error.extensions["errors"]}
    _assert_silent(json.dumps(error.to_problem(), ensure_ascii=False))
    _assert_silent(str(error))
    assert found["/vehicle/vin"].startswith("the value is not a VIN (17 characters")
    assert "withholds this field" in found["/vehicle/vin"]
    assert "is not a real date-time" in found["/vehicle/last_location/time"]
    assert "is not a telephone number" in found["/vehicle/owner/phone"]
    assert "is not a decimal number" in found["/vehicle/last_location/lat"]
    assert any(p.startswith("/events/") and p.endswith("/vin") for p in found)


def test_exported_fields_still_quote_the_value() -> None:
    record = json.loads((RECORDS / "ncm-ev-pack.json").read_text(encoding="utf-8"))
    record["manufacturer"]["uscc"] = "NOT-A-USCC"
    error = _problems(json.dumps(record).encode())
    assert "'NOT-A-USCC' is not a unified social credit code" in str(error)


def test_xml_schema_messages_about_withheld_fields_do_not_quote_the_value() -> None:
    xml = (RECORDS / "ncm-ev-pack.xml").read_text(encoding="utf-8")
    vehicle = (
        f"<vehicle><vin>{BAD_VIN}</vin><last_location><lat>30.1</lat><lon>104.1</lon>"
        f"<time>{BAD_TIME}</time></last_location></vehicle>\n  <usage>"
    )
    error = _problems(xml.replace("<usage>", vehicle, 1).encode(), "application/xml")
    _assert_silent(json.dumps(error.to_problem(), ensure_ascii=False))
    assert any(
        "dateTime" in p["message"] and p["pointer"].endswith("last_location/time")
        for p in error.extensions["errors"]
    )


@pytest.mark.parametrize(
    ("lat", "secret"),
    [("O&apos;Secret", "O'Secret"), ("Sec\nret", "Sec\nret"), ("Se&quot;cret", 'Se"cret')],
    ids=["apostrophe", "newline", "double-quote"],
)
def test_xml_schema_messages_hide_values_python_would_quote_differently(
    lat: str, secret: str
) -> None:
    """libxml2 quotes a value as ``'...'`` whatever it holds; Python's ``repr`` switches
    to double quotes for an apostrophe and escapes a newline, so a value without digits
    (searched only in its quoted forms) came back whole."""
    xml = (RECORDS / "ncm-ev-pack.xml").read_text(encoding="utf-8")
    vehicle = (
        f"<vehicle><last_location><lat>{lat}</lat><lon>104.1</lon>"
        "</last_location></vehicle>\n  <usage>"
    )
    error = _problems(xml.replace("<usage>", vehicle, 1).encode(), "application/xml")
    text = json.dumps(error.to_problem(), ensure_ascii=False)
    assert "xs:decimal" in text
    assert secret not in text and json.dumps(secret)[1:-1] not in text


def test_record_paths_and_redaction_rules() -> None:
    from gateway.records.redaction import is_withheld, pointer_path, redact, xpath_path

    assert pointer_path("/events/2/vin") == "events.vin"
    assert xpath_path("/record/events/event[2]/vin") == "events.vin"
    assert (
        xpath_path("/record/platform_fields/field[@name='digital_id']")
        == "platform_fields.digital_id"
    )
    assert is_withheld("events.vin") and is_withheld("vehicle.owner.name")
    assert is_withheld("usage.soh") and not is_withheld("battery.code")
    assert (
        redact("'ABC123' is not X", "ABC123")
        == "the value is not X (value not shown: the cross-border policy withholds this field)"
    )
    assert redact("must be at most 3", 5) == "must be at most 3"


def test_api_problem_body_does_not_echo_withheld_values(tmp_path) -> None:
    from tests.helpers import issue_keys, make_app

    app = make_app(tmp_path / "instance")
    try:
        keys = issue_keys(app.extensions["gateway.settings"])
        refused = app.test_client().post(
            "/passports",
            data=json.dumps(_bad_record()),
            content_type="application/json",
            headers=keys["exporter"],
        )
        assert refused.status_code == 422
        _assert_silent(refused.get_data(as_text=True))
        assert refused.get_json()["pointer"] == "/vehicle/vin"
    finally:
        app.extensions["gateway.instance"].db.dispose()


def test_cli_output_does_not_echo_withheld_values(runner, tmp_path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_bad_record()), encoding="utf-8")
    result = runner.invoke(args=["convert", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert "/vehicle/vin" in result.output
    _assert_silent(result.output)
