"""Every record fixture: good ones load, bad ones are refused with the right pointers."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from gateway.errors import InvalidRecord, UnsafeInput
from gateway.paths import FIXTURES_DIR, ROOT
from gateway.records import field_paths, read_record, read_record_file

RECORDS = FIXTURES_DIR / "records"
GOOD = sorted(p for p in RECORDS.iterdir() if p.suffix in (".json", ".xml"))
INVALID = RECORDS / "invalid"

# Independent reference: the Catena-X TractionBatteryCode 2.0.0 syntax (CC-BY-4.0), with
# the day class's stray "0" left out, and its date alphabet (I, O, Q skipped).
CATENAX_CODE = re.compile(
    r"[A-Z0-9]{3}[PMC][A-GZ][A-Z0-9]{2}[A-Z0-9]{7}[1-9A-HJ-NPR-Y][1-9A-C][1-9A-HJ-NPR-Y][0-9]{7}"
)
ALPHABET = "123456789ABCDEFGHJKLMNPRSTUVWXY"
CODE_KEYS = {"code", "original_code", "new_code", "removed_code", "fitted_code", "cells"}


def production_date(code: str) -> date:
    year, month, day = code[14:17]
    return date(2011 + ALPHABET.index(year), ALPHABET.index(month) + 1, ALPHABET.index(day) + 1)


def codes_in(value: Any, key: str = "") -> list[str]:
    if isinstance(value, dict):
        found = []
        for k, v in value.items():
            if not (k == "code" and key in ("manufacturer",)):
                found += codes_in(v, k)
        return found
    if isinstance(value, list):
        return [c for v in value for c in codes_in(v, key)]
    return [value] if key in CODE_KEYS and isinstance(value, str) else []


def source_paths(value: Any, prefix: str = "") -> set[str]:
    out: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            path = f"{prefix}.{k}" if prefix else k
            out |= {path} | source_paths(v, path)
    elif isinstance(value, list):
        for v in value:
            out |= {prefix + "[]"} | source_paths(v, prefix + "[]")
    return out


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_good_fixture_loads(path: Path) -> None:
    record = read_record_file(path)
    assert record["model_version"] == "cn-trace/1"


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_fixture_codes_are_valid_gbt34014_with_real_dates(path: Path) -> None:
    record = read_record_file(path)
    codes = codes_in({k: v for k, v in record.items() if k != "manufacturer"})
    assert codes
    for code in codes:
        assert CATENAX_CODE.fullmatch(code), code
        production_date(code)  # raises on 2024-02-30 and the like
    maker = record["manufacturer"].get("code")
    if maker:
        assert record["battery"]["code"].startswith(maker)


def test_xml_fixture_equals_its_json_twin() -> None:
    assert read_record_file(RECORDS / "ncm-ev-pack.xml") == read_record_file(
        RECORDS / "ncm-ev-pack.json"
    )


def test_fixtures_together_use_every_field_of_the_model() -> None:
    seen: set[str] = set()
    for path in GOOD:
        seen |= source_paths(read_record_file(path))
    # The open-ended blocks are covered by their own tests (test_platform_fields.py).
    model = {p for p in field_paths() if not p.startswith(("eu_supplement.", "platform_fields"))}
    assert model - seen == set()
    assert seen - field_paths() == set()


def test_sparse_fixture_has_only_the_required_fields() -> None:
    record = read_record_file(RECORDS / "sparse-pack.json")
    assert record == {
        "model_version": "cn-trace/1",
        "battery": {"code": "Z9ZPEB3SPRS001E9R0000456", "category": "ev"},
        "manufacturer": {"name": "闽东示例动力电池有限公司"},
    }


def test_echelon_fixture_links_new_and_original_codes() -> None:
    record = read_record_file(RECORDS / "echelon-pack.json")
    battery = record["battery"]
    assert battery["status"] == "repurposed"
    assert battery["original_code"] != battery["code"]
    (echelon,) = [e for e in record["events"] if e["type"] == "echelon_use"]
    assert echelon["new_code"] == battery["code"]
    assert echelon["new_rated_capacity"] == record["specs"]["rated_capacity"]


def problems(path: Path) -> dict[str, str]:
    with pytest.raises(InvalidRecord) as caught:
        read_record_file(path)
    errors = caught.value.extensions["errors"]
    assert isinstance(errors, list)
    return {e["pointer"]: e["message"] for e in errors}


@pytest.mark.parametrize("name", ["doctype.xml", "entity.xml"])
def test_dtd_payloads_are_refused(name: str) -> None:
    with pytest.raises(UnsafeInput) as caught:
        read_record_file(INVALID / name)
    assert "DOCTYPE" in caught.value.detail
    assert "root:" not in str(caught.value.to_problem())


def test_missing_required_fields() -> None:
    assert problems(INVALID / "missing-required.json") == {
        "/battery/code": "required field is missing",
        "/manufacturer/name": "required field is missing",
    }


def test_wrong_units_name_field_and_allowed_units() -> None:
    found = problems(INVALID / "wrong-unit.json")
    assert set(found) == {"/specs/rated_capacity/unit", "/specs/mass/unit"}
    assert found["/specs/rated_capacity/unit"].endswith("allowed units: Ah, mAh")
    assert found["/specs/mass/unit"].endswith("allowed units: kg, g, t")


def test_float_overflow_and_unsafe_integer() -> None:
    found = problems(INVALID / "float-overflow.json")
    assert set(found) == {"/specs/rated_capacity/value", "/usage/cycles"}
    assert "out of range" in found["/specs/rated_capacity/value"]
    assert "2^53" in found["/usage/cycles"]


def test_nan_and_infinity() -> None:
    found = problems(INVALID / "nan.json")
    assert set(found) == {"/specs/nominal_voltage/value", "/usage/soh"}
    assert all("NaN and Infinity" in m for m in found.values())


def test_unknown_fields_are_named() -> None:
    found = problems(INVALID / "unknown-field.json")
    assert set(found) == {
        "/battery/colour",
        "/events/0/certificate_no",
        "/eu_supplement/not_a_catalog_key",
    }


def test_code_and_date_errors() -> None:
    found = problems(INVALID / "bad-codes.json")
    assert set(found) == {
        "/battery/code",
        "/battery/category",
        "/battery/modules/0/code",
        "/production/date",
    }
    assert "cell code" in found["/battery/modules/0/code"]
    assert "module code is required" in found["/battery/modules/0/code"]


def test_xsd_problems_carry_xpath_and_line() -> None:
    with pytest.raises(InvalidRecord) as caught:
        read_record_file(INVALID / "xsd-invalid.xml")
    errors = caught.value.extensions["errors"]
    assert {(e["pointer"], e["line"]) for e in errors} >= {
        ("/record/battery/colour", 5),
        ("/record/usage/cycles", 11),
    }


def test_model_problems_in_xml_carry_xpath_and_line() -> None:
    with pytest.raises(InvalidRecord) as caught:
        read_record_file(INVALID / "wrong-unit.xml")
    errors = caught.value.extensions["errors"]
    assert [(e["pointer"], e["line"]) for e in errors] == [
        ("/record/specs/rated_capacity/unit", 13),
        ("/record/events/event[2]/reported_on", 22),
    ]
    assert caught.value.detail.startswith("/record/specs/rated_capacity/unit: unit 'V'")


def test_documented_examples_are_valid_twins() -> None:
    text = (ROOT / "docs" / "record-model.md").read_text(encoding="utf-8")
    (json_example,) = re.findall(r"```json\n(.*?)```", text, re.S)
    (xml_example,) = re.findall(r"```xml\n(.*?)```", text, re.S)
    from_json = read_record(json_example.encode(), "application/json")
    assert read_record(xml_example.encode(), "application/xml") == from_json
