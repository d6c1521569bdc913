"""GB/T 34014 decoding against the reference code set (fixtures/reference/cn)."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.codes.gbt34014 import check_hierarchy, decode, flags
from gateway.codes.tables import TABLES_DIR, load_tables
from gateway.errors import ConfigError, InvalidBatteryCode
from gateway.paths import FIXTURES_DIR

REFERENCE = json.loads(
    (FIXTURES_DIR / "reference" / "cn" / "gbt34014_codes.json").read_text(encoding="utf-8")
)
CASES = REFERENCE["codes"]
VALID = [c for c in CASES if c["expected"]["valid_syntax"]]
INVALID = [c for c in CASES if not c["expected"]["valid_syntax"]]

# Each error wording of the reference set -> what our problem entries must carry.
ERROR_MAP = {
    "length != 24": {"rule": "length"},
    "product type not in P/M/C": {"segment": "product_type", "position": 4},
    "battery type not in A-G/Z": {"segment": "battery_type", "position": 5},
    "year char not in assumed alphabet": {"segment": "production_date_code", "position": 15},
    "month char not in 1-9/A-C": {"segment": "production_date_code", "position": 16},
    "day char not in assumed alphabet": {"segment": "production_date_code", "position": 17},
    "lowercase characters": {"rule": "lowercase"},
}


def _matches(problem: dict, wanted: dict) -> bool:
    return all(problem[key] == value for key, value in wanted.items())


@pytest.mark.parametrize("case", VALID, ids=[c["code"] for c in VALID])
def test_reference_codes_decode_as_expected(case: dict) -> None:
    decoded = decode(case["code"]).as_dict()
    for key, value in case["expected"].items():
        assert decoded[key] == value, key
    assert decoded["kind"] == "standard"


@pytest.mark.parametrize("case", INVALID, ids=[c["note"] for c in INVALID])
def test_reference_negatives_are_refused_with_every_problem(case: dict) -> None:
    with pytest.raises(InvalidBatteryCode) as caught:
        decode(case["code"])
    problems = caught.value.extensions["errors"]
    wanted = [ERROR_MAP[text] for text in case["expected"]["errors"]]
    # every expected error is reported ...
    for text, rule in zip(case["expected"]["errors"], wanted, strict=True):
        assert any(_matches(p, rule) for p in problems), text
    # ... and nothing else is
    for problem in problems:
        assert any(_matches(problem, rule) for rule in wanted), problem
    first = problems[0]
    assert f"position {first['position']} ({first['segment']})" in caught.value.detail
    assert caught.value.status == 422


def test_impossible_date_decodes_but_strict_refuses() -> None:
    code = "Z9ZMEB2ABC1234H9Y0000001"
    decoded = decode(code)
    assert decoded.valid_date is False and decoded.production_date is None
    assert [p.rule for p in decoded.problems] == ["calendar"]
    assert decoded.problems[0].position == 17
    with pytest.raises(InvalidBatteryCode) as caught:
        decode(code, strict=True)
    assert caught.value.extensions["errors"][0]["rule"] == "calendar"
    assert "2027-09-31" in caught.value.detail


def test_ambiguities_follow_table_confidence() -> None:
    # Day letters A-H (10-17) read the same in both alphabets the sources use (the one
    # skipping I, O and Q, and the contiguous one): they are not ambiguous.
    solid = decode("Z9ZPBA10000001F3F0000123")  # B, 2025, month 3, day F
    assert solid.ambiguities == ()
    for letter, day in zip("ABCDEFGH", range(10, 18), strict=True):
        decoded = decode(f"Z9ZPBA10000001F3{letter}0000123")
        assert (decoded.day, decoded.ambiguities) == (day, ())
    catenax = decode("X12MCPM27KLPCLX2M2382320")
    flagged = {a.position for a in catenax.ambiguities}
    assert flagged == {5, 15, 17}  # battery type C, year X (after H), day M (21 or 22)
    after_h = decode("Z9ZCBA1000000191J0000007")  # day J: 18 here, 19 counted contiguously
    assert {a.position for a in after_h.ambiguities} == {17}
    ternary_digit_day = decode("Z9ZCEA100000019190000007")
    assert ternary_digit_day.ambiguities == ()


@pytest.mark.parametrize(
    ("code", "echelon", "expected"),
    [
        ("Z9ZPBA10000001F3F0000123", False, []),
        ("Z9ZPBA10000001G3F0000123", False, []),  # 2026-03-15, before the day judged on
        ("Z9ZPBA10000001HC10000123", False, [("future-date", 15)]),  # 2027-12-01
        ("Z9ZPBA10000001F3F0000000", False, [("serial-zero", 18)]),
        ("Z9ZPBA10000001F3F0000123", True, [("standard-form-on-echelon", 8)]),
        ("Z9ZPBA1HC10000000RP", True, [("future-date", 8), ("serial-zero", 11)]),
    ],
)
def test_flags_of_unlikely_codes(code: str, echelon: bool, expected: list[Any]) -> None:
    today = dt.date(2026, 12, 6)
    found = flags(decode(code), today=today, echelon=echelon)
    assert [(f.flag, f.position) for f in found] == expected
    assert all(f.reason and f.as_dict()["flag"] == f.flag for f in found)


def test_hierarchy_example_is_consistent() -> None:
    example = REFERENCE["hierarchy_example"]
    assert check_hierarchy(example["pack"], example["modules"]) == []
    for module, cells in example["modules"].items():
        assert decode(module).product_type == "M"
        assert all(decode(cell).product_type == "C" for cell in cells)


def test_hierarchy_reports_wrong_level_duplicates_and_bad_codes() -> None:
    example = REFERENCE["hierarchy_example"]
    module, cells = next(iter(example["modules"].items()))
    findings = check_hierarchy(cells[0], {module: [module, cells[1], cells[1], "BAD"]})
    rules = [(f["rule"], f["pointer"]) for f in findings if f["severity"] == "error"]
    assert ("level", "/pack") in rules  # a cell given as the pack
    assert ("level", f"/modules/{module}/0") in rules  # a module among the cells
    assert ("duplicate", f"/modules/{module}/0") in rules
    assert ("duplicate", f"/modules/{module}/2") in rules
    assert ("invalid-code", f"/modules/{module}/3") in rules


def test_hierarchy_warns_on_mixed_battery_types() -> None:
    findings = check_hierarchy(
        "Z9ZPBA10000001F3F0000123", {"Z9ZMEB2ABC1234F3F0000001": ["Z9ZCEA1000000191C0000007"]}
    )
    assert [(f["severity"], f["rule"]) for f in findings] == [("warning", "battery-type")]


def test_echelon_19_character_form() -> None:
    example = REFERENCE["echelon_use_examples"][0]
    regex = re.compile(REFERENCE["assumptions"]["echelon_use_19char_regex_per_catenax"])
    assert (
        bool(regex.fullmatch(example["code"]))
        == example["expected"]["matches_catenax_echelon_regex"]
    )
    decoded = decode(example["code"])
    data = decoded.as_dict()
    assert data["length"] == example["expected"]["length"]
    assert data["kind"] == "echelon"
    assert data["traceability_code"] is None
    assert data["echelon_suffix"] == "RP"
    assert (
        data["manufacturer_code"],
        data["product_type"],
        data["battery_type"],
        data["spec_code"],
        data["production_date"],
        data["serial_number"],
    ) == ("Z9Z", "M", "B", "01", "2025-03-15", "0000042")
    assert any(
        a["segment"] == "echelon_suffix" and a["position"] == 18 for a in data["ambiguities"]
    )


def test_echelon_product_may_carry_a_standard_24_character_code() -> None:
    assert decode("Z9ZPBA10000001F3F0000123").kind == "standard"


@pytest.mark.parametrize(
    "code,position",
    [
        ("Z9ZMB01F3F0000042XP", 18),  # marker not R
        ("Z9ZMB01F3F0000042RX", 19),  # level not P/M/C
        ("Z9ZMB01F3F00000A2RP", 16),  # serial not digits
    ],
)
def test_echelon_form_refusals_name_the_position(code: str, position: int) -> None:
    with pytest.raises(InvalidBatteryCode) as caught:
        decode(code)
    assert caught.value.extensions["errors"][0]["position"] == position


def test_hostile_input_is_refused_without_echoing_it() -> None:
    with pytest.raises(InvalidBatteryCode) as caught:
        decode("A" * 100_000)
    assert len(caught.value.detail) < 300
    with pytest.raises(InvalidBatteryCode):
        decode(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidBatteryCode) as caught:
        decode("Z9ZPBA10000001F3F000012\u0663")  # Arabic-Indic digit three
    assert caught.value.extensions["errors"][0]["position"] == 24


SYNTAX = re.compile(REFERENCE["assumptions"]["syntax_regex"])


@settings(max_examples=300)
@given(st.from_regex(SYNTAX, fullmatch=True))
def test_every_code_the_reference_regex_accepts_decodes(code: str) -> None:
    decoded = decode(code)
    assert decoded.kind == "standard" and decoded.code == code


@settings(max_examples=300)
@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabc-", min_size=24, max_size=24))
def test_decode_agrees_with_the_reference_regex(code: str) -> None:
    try:
        decode(code)
    except InvalidBatteryCode as exc:
        assert not SYNTAX.fullmatch(code)
        assert exc.extensions["errors"]
    else:
        assert SYNTAX.fullmatch(code)


@settings(max_examples=300)
@given(
    st.from_regex(SYNTAX, fullmatch=True)
    | st.from_regex(
        REFERENCE["assumptions"]["echelon_use_19char_regex_per_catenax"], fullmatch=True
    )
)
def test_a_decode_is_the_same_with_the_tables_given_explicitly(code: str) -> None:
    # Shipped tables, given or not, decode a code alike, down to every field and problem.
    tables = load_tables()
    for strict in (False, True):
        try:
            expected = decode(code, tables, strict=strict)
        except InvalidBatteryCode as exc:
            with pytest.raises(InvalidBatteryCode) as caught:
                decode(code, strict=strict)
            assert caught.value.extensions == exc.extensions
        else:
            assert decode(code, strict=strict) == expected


def test_decoding_many_distinct_codes_keeps_memory_flat() -> None:
    # Bulk conversion meets every cell code once: nothing may be kept per code.
    import tracemalloc

    tracemalloc.start()
    try:
        for serial in range(2_000):
            decode(f"Z9ZCEN8C150A01E66{serial:07d}")
        before = tracemalloc.get_traced_memory()[0]
        for serial in range(2_000, 22_000):
            decode(f"Z9ZCEN8C150A01E66{serial:07d}")
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 256 * 1024


def test_a_new_battery_type_letter_needs_only_a_table_row(tmp_path: Path) -> None:
    tables_dir = tmp_path / "gbt34014"
    shutil.copytree(TABLES_DIR, tables_dir)
    with (tables_dir / "battery_type.csv").open("a", encoding="utf-8") as handle:
        handle.write("H,sodium,sodium-ion,钠离子,P\n")
    tables = load_tables(tables_dir)
    code = "Z9ZPHA10000001F3F0000123"  # refused by the shipped tables
    with pytest.raises(InvalidBatteryCode):
        decode(code)
    decoded = decode(code, tables)
    assert decoded.battery_type == "H"
    assert decoded.battery_chemistry == "sodium"
    assert decoded.battery_type_name == "sodium-ion (probable, unverified)"
    assert any(a.position == 5 for a in decoded.ambiguities)


def test_shipped_tables_are_versioned_and_cover_the_reference_alphabet() -> None:
    tables = load_tables()
    assert re.fullmatch(r"\d+\.\d+\.\d+", tables.version)
    alphabet = REFERENCE["assumptions"]["year_and_day_alphabet"]
    assert tables.letters("year") == alphabet
    assert tables.letters("day") == alphabet
    assert tables.letters("month") == "123456789ABC"
    names = REFERENCE["assumptions"]["battery_type_map"]
    assert {
        row.letter: tables.qualified_name(row) for row in tables.tables["battery_type"].values()
    } == names


@pytest.mark.parametrize(
    "table,row,message",
    [
        ("battery_type", "B,lfp,LFP,磷酸铁锂,S", "repeated"),
        ("year", "Z,1800,,,U", "integer"),
        ("day", "Z,12,,,X", "confidence"),
        ("product_type", "pp,pack,pack,电池包,S", "letter"),
    ],
)
def test_bad_table_rows_are_named(tmp_path: Path, table: str, row: str, message: str) -> None:
    tables_dir = tmp_path / "gbt34014"
    shutil.copytree(TABLES_DIR, tables_dir)
    with (tables_dir / f"{table}.csv").open("a", encoding="utf-8") as handle:
        handle.write(row + "\n")
    with pytest.raises(ConfigError) as caught:
        load_tables(tables_dir)
    assert f"{table}.csv row" in caught.value.detail and message in caught.value.detail
