"""GB/T 32960.3-2016 frames against the reference vectors (fixtures/reference/cn)."""

from __future__ import annotations

import datetime as dt
import json
import struct
from functools import reduce
from operator import xor
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.codes.gbt32960 import bcc, iter_frames, parse_frame
from gateway.codes.gbt32960_units import parse_info_units
from gateway.errors import InvalidFrame
from gateway.paths import FIXTURES_DIR

VECTORS = json.loads(
    (FIXTURES_DIR / "reference" / "cn" / "gbt32960_2016_vectors.json").read_text(encoding="utf-8")
)
FRAMES = VECTORS["frames"]
BODIES = VECTORS["info_unit_bodies"]
VIN = b"LNBSCTEST00000001"


def build(
    command: int,
    data: bytes,
    *,
    start: bytes = b"##",
    response: int = 0xFE,
    encryption: int = 0x01,
    vin: bytes = VIN,
) -> bytes:
    """A frame with a correct length and BCC, computed independently of the parser."""
    body = bytes([command, response]) + vin + bytes([encryption]) + struct.pack(">H", len(data))
    body += data
    return start + body + bytes([reduce(xor, body, 0)])


def number(value: Any) -> Any:
    """The reference writes some raw values as '0x..' strings; compare as integers."""
    if isinstance(value, str) and value.startswith("0x"):
        return int(value, 16)
    if isinstance(value, list):
        return [number(v) for v in value]
    if isinstance(value, dict):
        return {k: number(v) for k, v in value.items()}
    return value


def code_of(label: str) -> int:
    return int(label.split()[0], 16)


def same_time(actual: str, expected: str) -> None:
    got, want = dt.datetime.fromisoformat(actual), dt.datetime.fromisoformat(expected)
    assert got.utcoffset() == dt.timedelta(hours=8)
    if want.tzinfo is None:
        got = got.replace(tzinfo=None)
    assert got == want


def check_physical(actual: dict, expected: dict) -> None:
    for key, value in expected.items():
        if key == "gear" and isinstance(value, str):
            assert actual["gear"]["gear"] == value
        else:
            assert actual[key] == value, key


@pytest.mark.parametrize("case", FRAMES, ids=[c["id"] for c in FRAMES])
def test_reference_frames(case: dict) -> None:
    frame = parse_frame(bytes.fromhex(case["hex"]))
    expected = case["expected"]
    data = frame.as_dict()
    assert data["command"] == code_of(expected["command"])
    if "response_flag" in expected:
        assert data["response_flag"] == code_of(expected["response_flag"])
    if "encryption" in expected:
        assert data["encryption"] == code_of(expected["encryption"])
    if "vin" in expected:
        assert data["vin"] == expected["vin"] and data["vin_valid"]
    if "vin_raw_ascii" in expected:  # a 9-character ID padded with NUL: kept, flagged
        assert data["vin"] == "123456789" and not data["vin_valid"]
    assert data["data_length"] == expected["data_length"]
    assert expected["bcc_valid"] is True
    body = data["data"]
    assert body is not None
    for key, value in expected.get("data", {}).items():
        if key.endswith("_time"):
            same_time(body[key], value)
        else:
            assert body[key] == value, key
    if "collection_time" in expected:
        same_time(body["collection_time"], expected["collection_time"])
    if "info_units" in expected:
        units = body["info_units"]
        assert [u["type"] for u in units] == [code_of(u["type"]) for u in expected["info_units"]]
        for unit, want in zip(units, expected["info_units"], strict=True):
            assert unit["raw"] == number(want["raw"])
            check_physical(unit["physical"], want["physical"])
            assert unit["markers"] == {}


@pytest.mark.parametrize("case", BODIES, ids=[c["id"] for c in BODIES])
def test_reference_info_unit_bodies(case: dict) -> None:
    (unit,) = parse_info_units(bytes.fromhex(case["hex"]))
    raw = case.get("expected_raw") or case["expected_raw_standard_order"]
    assert unit["raw"] == number(raw)
    if "expected_physical" in case:
        check_physical(unit["physical"], case["expected_physical"])
    if "expected_flags_lsb_bit0" in case:
        assert unit["physical"]["general_alarm_flags"] == case["expected_flags_lsb_bit0"]
    if "strict_validation" in case:
        # every field the reference calls out of range is withheld, not reported
        for field in (
            "vehicle_status",
            "charging_status",
            "run_mode",
            "dcdc_status",
            "max_alarm_level",
        ):
            if field in case["strict_validation"]:
                assert unit["physical"][field] is None
                assert unit["markers"][f"/{field}"] == "undefined"


def test_frames_back_to_back() -> None:
    stream = b"".join(bytes.fromhex(c["hex"]) for c in FRAMES)
    frames = list(iter_frames(stream))
    assert [f.command for f in frames] == [code_of(c["expected"]["command"]) for c in FRAMES]


def realtime(units: bytes) -> bytes:
    return build(0x02, bytes([25, 3, 15, 8, 30, 10]) + units)


VEHICLE = bytes.fromhex("0101030102580001E2400092261650012E13881400")


def test_markers_replace_values_never_invent_them() -> None:
    vehicle = bytearray(VEHICLE)
    vehicle[4:6] = b"\xff\xff"  # speed invalid
    vehicle[10:12] = b"\xff\xfe"  # total voltage abnormal
    vehicle[14] = 0xFE  # SOC abnormal
    vehicle[17:19] = struct.pack(">H", 60_001)  # insulation out of range
    cells = bytes.fromhex("0801010092261600040001040E42FFFFFFFE3A99")
    temps = bytes.fromhex("090101000347FFFB")
    units = parse_frame(realtime(bytes(vehicle) + cells + temps)).data["info_units"]
    v, c, t = units
    assert v["physical"]["speed_kmh"] is None and v["markers"]["/speed_kmh"] == "invalid"
    assert v["physical"]["total_voltage_V"] is None
    assert v["markers"]["/total_voltage_V"] == "abnormal"
    assert v["physical"]["soc_pct"] is None and v["markers"]["/soc_pct"] == "abnormal"
    assert v["markers"]["/insulation_resistance_kohm"] == "out_of_range"
    assert v["raw"]["speed"] == 0xFFFF
    assert c["physical"]["subsystems"][0]["cell_voltages_V"] == [3.65, None, None, None]
    assert c["markers"] == {
        "/subsystems/0/cell_voltages_V/1": "invalid",
        "/subsystems/0/cell_voltages_V/2": "abnormal",
        "/subsystems/0/cell_voltages_V/3": "out_of_range",  # 15.001 V > 15 V
    }
    assert t["physical"]["subsystems"][0]["probe_temps_C"] == [31, None, None]
    assert t["markers"] == {
        "/subsystems/0/probe_temps_C/1": "invalid",
        "/subsystems/0/probe_temps_C/2": "out_of_range",
    }


def test_alarm_reserved_bits_and_marked_counts() -> None:
    alarm = bytes.fromhex("070380040000FF01000000070000")
    (unit,) = parse_info_units(alarm)
    assert unit["physical"]["max_alarm_level"].startswith("level 3")
    assert unit["physical"]["general_alarm_flags"] == ["bit18:ress_overcharge", "bit31:reserved"]
    assert unit["raw"]["ress_fault_codes"] == [] and unit["markers"] == {
        "/ress_fault_codes": "invalid"
    }
    assert unit["raw"]["motor_fault_codes"] == [7]


def test_units_before_the_battery_ones_are_walked() -> None:
    motors = bytes.fromhex("02010101414E204E204113882710")
    engine = bytes.fromhex("04010BB80010")
    position = bytes.fromhex("050006CA8C200225D7A0")
    fuel = bytes.fromhex("0301000200001000023C3D00500100100200200301")
    extreme = bytes.fromhex("061115007B07090008321242113206")
    units = parse_info_units(motors + engine + position + fuel + extreme)
    assert [u["type"] for u in units] == [2, 4, 5, 3, 6]
    assert units[0]["raw"]["motors"][0]["speed"] == 20000
    assert units[3]["raw"]["probe_temps"] == [0x3C, 0x3D]
    assert units[4]["physical"]["max_temp_C"] == 26


def test_oem_unit_keeps_the_rest_undecoded() -> None:
    units = parse_info_units(bytes.fromhex("061115007B07090008321242113206800102"))
    assert units[1] == {"type": 0x80, "type_name": "oem-defined", "offset": 15, "raw_hex": "0102"}


@pytest.mark.parametrize(
    "mutate,offset,words",
    [
        (lambda f: b"#$" + f[2:], 0, "start bytes"),
        (lambda f: f[:-1] + bytes([f[-1] ^ 1]), 32, "BCC"),
        (lambda f: f[:20], 20, "truncated"),
        (lambda f: f + b"\x00", 33, "after the BCC"),
    ],
)
def test_bad_frames_name_the_offset(mutate, offset: int, words: str) -> None:
    good = bytes.fromhex(FRAMES[2]["hex"])  # logout, 33 bytes
    with pytest.raises(InvalidFrame) as caught:
        parse_frame(mutate(good))
    assert caught.value.extensions["offset"] == offset
    assert f"byte {offset}:" in caught.value.detail and words in caught.value.detail
    assert caught.value.status == 422


@pytest.mark.parametrize(
    "frame,offset,words",
    [
        (realtime(bytes.fromhex("0A00")), 30, "information type 0x0A"),
        (realtime(VEHICLE[:10]), 40, "vehicle data"),
        (build(0x0C, b""), 2, "command 0x0C"),
        (build(0x07, b"", response=0x09), 3, "response flag"),
        (build(0x07, b"", encryption=0x07), 21, "encryption"),
        (build(0x04, bytes([25, 2, 30, 0, 0, 0, 0, 1])), 24, "not a date"),
        (build(0x04, bytes([25, 2, 3, 0, 0, 0, 0, 1, 9])), 32, "unexpected"),
        (build(0x07, b"", vin=b"LNBSCTEST0000000\x80"), 20, "printable"),
    ],
)
def test_structure_errors_name_the_offset(frame: bytes, offset: int, words: str) -> None:
    with pytest.raises(InvalidFrame) as caught:
        parse_frame(frame)
    assert caught.value.extensions["offset"] == offset
    assert words in caught.value.detail


def test_offsets_in_a_stream_count_from_its_start() -> None:
    good = bytes.fromhex(FRAMES[5]["hex"])
    with pytest.raises(InvalidFrame) as caught:
        list(iter_frames(good + good[:-1] + b"\x00"))
    assert caught.value.extensions["offset"] == 2 * len(good) - 1


def test_encrypted_and_unparsed_data_units_are_kept_as_hex() -> None:
    frame = parse_frame(build(0x02, b"\x01\x02\x03", encryption=0x03))
    assert frame.data is None and frame.data_hex == "010203"
    assert "AES-128" in frame.undecoded
    query = parse_frame(build(0x80, b"\x19\x03\x0f\x08\x1e\x00\x01\x01", response=0x01))
    assert query.data is None and query.as_dict()["command_name"] == "query"


def test_2025_frames_are_checked_but_not_decoded() -> None:
    frame = parse_frame(build(0x02, b"\x19\x03\x0f\x08\x1e\x00", start=b"$$", encryption=0x05))
    data = frame.as_dict()
    assert (data["version"], data["start"], data["encryption_name"]) == ("2025", "$$", "SM4")
    assert data["data"] is None and data["data_hex"] == "19030F081E00"
    assert "2025" in data["undecoded"]


def test_time_calibration_answer_carries_the_time() -> None:
    frame = parse_frame(build(0x08, bytes([25, 3, 15, 8, 30, 0]), response=0x01))
    assert frame.data == {"time": "2025-03-15T08:30:00+08:00"}


@given(st.binary(max_size=600))
def test_bcc_is_the_xor_of_all_bytes(data: bytes) -> None:
    assert bcc(data) == reduce(xor, data, 0)


@settings(max_examples=400)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_parse_or_raise_invalid_frame(data: bytes) -> None:
    try:
        parse_frame(b"##" + data)
    except InvalidFrame:
        pass


@settings(max_examples=400)
@given(st.sampled_from([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08]), st.binary(max_size=200))
def test_arbitrary_data_units_parse_or_raise_invalid_frame(command: int, data: bytes) -> None:
    # A well-formed envelope with random content reaches every data-unit decoder.
    for payload in (data, bytes([25, 3, 15, 8, 30, 10]) + data):
        try:
            parse_frame(build(command, payload))
        except InvalidFrame as exc:
            assert 0 <= exc.extensions["offset"] <= len(payload) + 25
