"""GB/T 32960.3-2016 frames: the EV remote-monitoring protocol, as far as batteries need it.

Frame (GB/T 32960.3-2016, data packet structure): ``##`` | command | response flag |
VIN (17 ASCII) | encryption | data-unit length (WORD) | data unit | BCC, where BCC is
the XOR of every byte from the command through the last data byte. All multi-byte values
are big-endian. Times are BYTE[6] YY MM DD hh mm ss, read as Beijing time (UTC+8).

Decoded data units (encryption 0x01 only):

* 0x01 vehicle login (time, serial, ICCID, the RESS codes: GB/T 34014 pack codes in
  practice), 0x04 logout, 0x05/0x06 platform login/logout, 0x07 heartbeat,
  0x08 time calibration;
* 0x02 real-time / 0x03 re-issued data: collection time, then information units
  0x01 vehicle, 0x06 extreme values, 0x07 alarm (levels, general flag bits 0-18 with
  bit 0 = least significant bit, fault lists), 0x08 cell voltages, 0x09 probe
  temperatures, scaled to physical units. 0x02 drive motor, 0x03 fuel cell,
  0x04 engine and 0x05 position are walked (units carry no length, so each must be
  measured to reach the next) and returned raw, unscaled. An OEM unit (0x80-0xFE) has
  no standard layout: it and every byte after it are returned as hex.

A field holding the abnormal marker (BYTE 0xFE, WORD 0xFFFE, DWORD 0xFFFFFFFE) or the
invalid marker (0xFF, 0xFFFF, 0xFFFFFFFF) becomes ``None`` in ``physical`` and is named in
``markers`` (JSON pointer -> ``abnormal`` | ``invalid`` | ``out_of_range`` |
``undefined``); values outside the standard's range or enumeration are treated the same,
so no made-up number reaches a passport. ``raw`` keeps the bytes' integer values.

GB/T 32960.3-2025 (in force 2025-11-01) is known here only from third-party code: start
bytes ``$$``, SM2/SM4 encryption codes, response codes 0x05-0x07, commands 0x09-0x0B,
renumbered information types (0x06 alarm, 0x07 cell voltages, 0x08 temperatures, the
extreme-values unit gone), a trailing signature on real-time data, total current offset
-3000 A, per-BMS pack-code lists at login. Until those are checked against the standard
text, a ``$$`` frame is checked (header, length, BCC) and its data unit returned as hex,
undecoded.
"""

from __future__ import annotations

import datetime as dt
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gateway.errors import InvalidFrame

START_2016 = b"##"
START_2025 = b"$$"
HEADER_LENGTH = 24  # start 2 + command 1 + response 1 + VIN 17 + encryption 1 + length 2
MAX_DATA_LENGTH = 65531  # the standard's data-unit length range

BEIJING = dt.timezone(dt.timedelta(hours=8), "CST")

_HEADER = struct.Struct(">2sBB17sBH")
_B = struct.Struct(">B")
_H = struct.Struct(">H")
_I = struct.Struct(">I")
_TIME = struct.Struct(">6B")
# Information unit 0x01 vehicle data: 20 bytes.
_VEHICLE = struct.Struct(">BBBHIHHBBBHBB")
# 0x06 extreme values: 14 bytes.
_EXTREME = struct.Struct(">BBHBBHBBBBBB")
# 0x08 per-subsystem header: no, voltage, current, cell total, frame start, frame count.
_RESS_V = struct.Struct(">BHHHHB")
# 0x09 per-subsystem header: no, probe count.
_RESS_T = struct.Struct(">BH")
_LOGIN_HEAD = struct.Struct(">6BH20sBB")

COMMANDS_2016 = {
    0x01: "vehicle login",
    0x02: "real-time report",
    0x03: "re-issued report",
    0x04: "vehicle logout",
    0x05: "platform login",
    0x06: "platform logout",
    0x07: "heartbeat",
    0x08: "terminal time calibration",
    0x80: "query",
    0x81: "set",
    0x82: "terminal control",
}
# GB/T 45688-2025 safety-monitoring results, carried over the same framing.
COMMANDS_45688 = {0x10: "safety monitoring", 0x11: "safety monitoring",
                  0x12: "safety monitoring", 0x13: "safety monitoring"}
COMMANDS_2025 = {0x09: "activation", 0x0A: "activation response", 0x0B: "payload key sync"}

RESPONSES_2016 = {0x01: "success", 0x02: "error", 0x03: "VIN duplicate",
                  0x04: "VIN unknown", 0xFE: "command"}
RESPONSES_2025 = {0x05: "signature invalid", 0x06: "structure invalid",
                  0x07: "decryption failed"}

ENCRYPTIONS_2016 = {0x01: "none", 0x02: "RSA", 0x03: "AES-128",
                    0xFE: "abnormal", 0xFF: "invalid"}
ENCRYPTIONS_2025 = {0x04: "SM2", 0x05: "SM4"}

INFO_TYPES_2016 = {
    0x01: "vehicle",
    0x02: "drive motor",
    0x03: "fuel cell",
    0x04: "engine",
    0x05: "position",
    0x06: "extreme values",
    0x07: "alarm",
    0x08: "RESS cell voltages",
    0x09: "RESS temperatures",
}

# General alarm flag, 2016; bit 0 = least significant bit of the big-endian DWORD
# (GB/T 45688-2025 Table A.6 restates it; some dissectors number from the MSB).
ALARM_BITS_2016 = (
    "temperature_difference",
    "battery_high_temperature",
    "ress_overvoltage",
    "ress_undervoltage",
    "soc_low",
    "cell_overvoltage",
    "cell_undervoltage",
    "soc_high",
    "soc_jump",
    "ress_mismatch",
    "cell_poor_consistency",
    "insulation",
    "dcdc_temperature",
    "brake_system",
    "dcdc_status",
    "motor_controller_temperature",
    "hv_interlock",
    "motor_temperature",
    "ress_overcharge",
)

ALARM_LEVELS = {
    0: "level 0 (no fault)",
    1: "level 1 (does not affect normal driving)",
    2: "level 2 (affects vehicle performance; driver should limit driving)",
    3: "level 3 (stop immediately or call for rescue)",
}
VEHICLE_STATUS = {1: "started", 2: "off", 3: "other"}
CHARGING_STATUS = {1: "parked charging", 2: "driving charging", 3: "not charging",
                   4: "charge complete"}
RUN_MODE = {1: "pure electric", 2: "hybrid", 3: "fuel"}
DCDC_STATUS = {1: "working", 2: "off"}
GEARS = {0: "neutral", 1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 5: "5th", 6: "6th",
         13: "R", 14: "D", 15: "P"}

# Abnormal / invalid markers by field width in bytes.
_ABNORMAL = {1: 0xFE, 2: 0xFFFE, 4: 0xFFFFFFFE}
_INVALID = {1: 0xFF, 2: 0xFFFF, 4: 0xFFFFFFFF}


@dataclass(frozen=True)
class Frame:
    """One GB/T 32960.3 frame.

    ``data`` is the decoded data unit, or None when it is encrypted, of a command whose
    layout is not decoded, or of the 2025 revision; ``data_hex`` then holds it and
    ``undecoded`` says why.
    """

    version: str
    command: int
    response_flag: int
    vin: str
    encryption: int
    data_length: int
    bcc: int
    data: dict[str, Any] | None
    data_hex: str | None = None
    undecoded: str | None = None

    @property
    def vin_valid(self) -> bool:
        """True when the unique ID is a 17-character VIN (ISO 3779 alphabet, GB 16735)."""
        return len(self.vin) == 17 and all(c in _VIN_CHARS for c in self.vin)

    def as_dict(self) -> dict[str, Any]:
        """The frame as JSON-ready data."""
        commands, responses, encryptions = _names(self.version)
        return {
            "version": self.version,
            "start": "##" if self.version == "2016" else "$$",
            "command": self.command,
            "command_name": commands.get(self.command, "platform-defined"),
            "response_flag": self.response_flag,
            "response_name": responses[self.response_flag],
            "vin": self.vin,
            "vin_valid": self.vin_valid,
            "encryption": self.encryption,
            "encryption_name": encryptions[self.encryption],
            "data_length": self.data_length,
            "bcc": self.bcc,
            "data": self.data,
            "data_hex": self.data_hex,
            "undecoded": self.undecoded,
        }


_NOT_PRINTABLE = re.compile(rb"[^\x20-\x7e]")
_VIN_CHARS = frozenset("ABCDEFGHJKLMNPRSTUVWXYZ0123456789")


def _names(version: str) -> tuple[dict[int, str], dict[int, str], dict[int, str]]:
    if version == "2016":
        return ({**COMMANDS_2016, **COMMANDS_45688}, RESPONSES_2016, ENCRYPTIONS_2016)
    return (
        {**COMMANDS_2016, **COMMANDS_45688, **COMMANDS_2025},
        {**RESPONSES_2016, **RESPONSES_2025},
        {**ENCRYPTIONS_2016, **ENCRYPTIONS_2025},
    )


def _view(data: bytes | bytearray | memoryview) -> memoryview:
    view = memoryview(data)
    return view if view.format == "B" else view.cast("B")


def _fail(offset: int, message: str) -> InvalidFrame:
    return InvalidFrame(f"byte {offset}: {message}", offset=offset)


def bcc(data: bytes | bytearray | memoryview) -> int:
    """XOR of all bytes (the frame check of GB/T 32960.3).

    Folds the bytes as one big integer, halving it each round, so the work is done in C
    rather than one Python step per byte.

    :param data: the bytes from the command byte through the last data byte.
    :returns: the check byte.
    """
    n = len(data)
    value = int.from_bytes(data, "big")
    while n > 1:
        half = n // 2
        bits = half * 8
        value = (value >> bits) ^ (value & ((1 << bits) - 1))
        n -= half
    return value


def parse_frame(data: bytes | bytearray | memoryview) -> Frame:
    """Parse exactly one frame.

    :param data: the frame's bytes, start bytes through BCC.
    :returns: the frame with its data unit decoded where the layout is known.
    :raises InvalidFrame: wrong start, truncated frame, trailing bytes, wrong BCC,
        unknown command / flag / encryption / information type, or a field outside its
        structure; ``offset`` (also in the message) is the byte at fault.
    """
    view = _view(data)
    frame, end = _parse(view, 0)
    if end != len(view):
        raise _fail(end, f"{len(view) - end} byte(s) after the BCC; one frame expected")
    return frame


def iter_frames(data: bytes | bytearray | memoryview) -> Iterator[Frame]:
    """Parse frames lying back to back in a byte stream.

    :param data: concatenated frames.
    :returns: an iterator of frames, in order.
    :raises InvalidFrame: at the first bad frame; ``offset`` counts from the stream start.
    """
    view = _view(data)
    position = 0
    while position < len(view):
        frame, position = _parse(view, position)
        yield frame


def _parse(view: memoryview, base: int) -> tuple[Frame, int]:
    available = len(view) - base
    if available < 2:
        raise _fail(base + available, "frame truncated before the start bytes")
    start = bytes(view[base : base + 2])
    if start == START_2016:
        version = "2016"
    elif start == START_2025:
        version = "2025"
    else:
        raise _fail(base, f"start bytes {start.hex().upper()} are neither '##' nor '$$'")
    if available < HEADER_LENGTH + 1:
        raise _fail(base + available, f"frame truncated: {available} bytes, header needs "
                    f"{HEADER_LENGTH} plus the BCC")
    _, command, response, vin_raw, encryption, length = _HEADER.unpack_from(view, base)
    data_start = base + HEADER_LENGTH
    data_end = data_start + length
    if length > MAX_DATA_LENGTH:
        raise _fail(base + 22, f"data-unit length {length} exceeds {MAX_DATA_LENGTH}")
    if data_end + 1 > len(view):
        raise _fail(len(view), f"frame truncated: the length at byte {base + 22} declares "
                    f"{length} data bytes, so the frame ends at byte {data_end + 1}")
    expected = bcc(view[base + 2 : data_end])
    if view[data_end] != expected:
        raise _fail(data_end, f"BCC is 0x{view[data_end]:02X}, the XOR of bytes "
                    f"{base + 2}-{data_end - 1} is 0x{expected:02X}")

    commands, responses, encryptions = _names(version)
    if command not in commands and not 0xC0 <= command <= 0xFE:
        raise _fail(base + 2, f"command 0x{command:02X} is reserved in GB/T 32960.3-{version}")
    if response not in responses:
        raise _fail(base + 3, f"response flag 0x{response:02X} is not defined")
    if encryption not in encryptions:
        raise _fail(base + 21, f"encryption flag 0x{encryption:02X} is not defined")
    vin = _vin(vin_raw, base + 4)

    body: dict[str, Any] | None = None
    undecoded: str | None = None
    if version != "2016":
        undecoded = "GB/T 32960.3-2025 data units are not decoded (layout not yet verified)"
    elif encryption != 0x01:
        undecoded = f"data unit is not in clear (encryption {encryptions[encryption]})"
    else:
        decoder = _DECODERS.get(command)
        if decoder is None:
            undecoded = f"layout of command 0x{command:02X} data is not decoded"
        else:
            body = decoder(view, data_start, data_end)
    frame = Frame(
        version=version,
        command=command,
        response_flag=response,
        vin=vin,
        encryption=encryption,
        data_length=length,
        bcc=expected,
        data=body,
        data_hex=bytes(view[data_start:data_end]).hex().upper() if body is None else None,
        undecoded=undecoded,
    )
    return frame, data_end + 1


def _vin(raw: bytes, offset: int) -> str:
    # Some terminals pad a short ID with NUL; keep the ID, let vin_valid say it is no VIN.
    return _ascii(raw, offset, "unique ID")


def _need(offset: int, size: int, end: int, what: str) -> None:
    if offset + size > end:
        raise _fail(end, f"data unit ends inside {what} (needs bytes {offset}-"
                    f"{offset + size - 1})")


def _time(view: memoryview, offset: int, end: int, what: str = "time") -> str:
    _need(offset, 6, end, what)
    yy, mo, dd, hh, mi, ss = _TIME.unpack_from(view, offset)
    try:
        return dt.datetime(2000 + yy, mo, dd, hh, mi, ss, tzinfo=BEIJING).isoformat()
    except ValueError:
        raise _fail(offset, f"{what} {yy:02d}-{mo:02d}-{dd:02d} {hh:02d}:{mi:02d}:{ss:02d} "
                    "is not a date and time") from None


def _no_trailing(offset: int, end: int, what: str) -> None:
    if offset != end:
        raise _fail(offset, f"{end - offset} unexpected byte(s) after the {what}")


# -- commands ---------------------------------------------------------------------------


def _login(view: memoryview, offset: int, end: int) -> dict[str, Any]:
    # Vehicle login: time, login serial, ICCID (20), RESS count n, code length m, n*m code bytes.
    _need(offset, _LOGIN_HEAD.size, end, "vehicle login header")
    time = _time(view, offset, end, "login time")
    *_, serial, iccid, count, size = _LOGIN_HEAD.unpack_from(view, offset)
    position = offset + _LOGIN_HEAD.size
    _need(position, count * size, end, f"{count} RESS codes of {size} bytes")
    codes = []
    for index in range(count):
        codes.append(_ascii(bytes(view[position : position + size]), position,
                            f"RESS code {index + 1}"))
        position += size
    _no_trailing(position, end, "RESS codes")
    return {
        "collection_time": time,
        "login_serial": serial,
        "iccid": _ascii(iccid, offset + 8, "ICCID"),
        "ress_subsystem_count": count,
        "ress_code_length": size,
        "ress_codes": codes,
    }


def _ascii(raw: bytes, offset: int, what: str) -> str:
    text = raw.rstrip(b"\x00")
    bad = _NOT_PRINTABLE.search(text)
    if bad:
        raise _fail(offset + bad.start(), f"{what} byte 0x{text[bad.start()]:02X} is not "
                    "printable ASCII")
    return text.decode("ascii")


def _logout(view: memoryview, offset: int, end: int) -> dict[str, Any]:
    time = _time(view, offset, end, "logout time")
    _need(offset + 6, 2, end, "login serial")
    (serial,) = _H.unpack_from(view, offset + 6)
    _no_trailing(offset + 8, end, "login serial")
    return {"logout_time": time, "login_serial": serial}


def _platform_login(view: memoryview, offset: int, end: int) -> dict[str, Any]:
    # Platform login: time, serial, user name (12), password (20), encryption rule; the password is
    # never echoed.
    _need(offset, 41, end, "platform login")
    time = _time(view, offset, end, "login time")
    (serial,) = _H.unpack_from(view, offset + 6)
    user = _ascii(bytes(view[offset + 8 : offset + 20]), offset + 8, "user name")
    rule = view[offset + 40]
    _no_trailing(offset + 41, end, "encryption rule")
    return {"login_time": time, "login_serial": serial, "username": user,
            "encryption_rule": rule}


def _empty_or_time(view: memoryview, offset: int, end: int) -> dict[str, Any]:
    # Heartbeat and the terminal's calibration request carry nothing; the platform's
    # calibration answer carries the time.
    if offset == end:
        return {}
    time = _time(view, offset, end, "calibration time")
    _no_trailing(offset + 6, end, "time")
    return {"time": time}


def _heartbeat(view: memoryview, offset: int, end: int) -> dict[str, Any]:
    _no_trailing(offset, end, "heartbeat (no data unit)")
    return {}


def _realtime(view: memoryview, offset: int, end: int) -> dict[str, Any]:
    time = _time(view, offset, end, "collection time")
    return {"collection_time": time, "info_units": _units(view, offset + 6, end)}


# -- information units ------------------------------------------------------------------


class _Values:
    """Collects physical values and their markers for one information unit."""

    __slots__ = ("physical", "markers")

    def __init__(self) -> None:
        self.physical: dict[str, Any] = {}
        self.markers: dict[str, str] = {}

    def scaled(self, pointer: str, raw: int, width: int, divisor: int = 1, offset: int = 0,
               high: int | None = None) -> float | int | None:
        """raw -> (raw - offset) / divisor, or None with a marker (abnormal, invalid,
        out of the range 0..high of raw values)."""
        if raw == _ABNORMAL[width]:
            self.markers[pointer] = "abnormal"
            return None
        if raw == _INVALID[width]:
            self.markers[pointer] = "invalid"
            return None
        if high is not None and raw > high:
            self.markers[pointer] = "out_of_range"
            return None
        value = raw - offset
        return value / divisor if divisor != 1 else value

    def enum(self, pointer: str, raw: int, names: dict[int, str]) -> str | None:
        if raw in names:
            return names[raw]
        self.markers[pointer] = (
            "abnormal" if raw == 0xFE else "invalid" if raw == 0xFF else "undefined"
        )
        return None


def _unit(kind: int, offset: int, raw: dict[str, Any], values: _Values | None) -> dict:
    unit: dict[str, Any] = {"type": kind, "type_name": INFO_TYPES_2016.get(kind, "oem-defined"),
                            "offset": offset, "raw": raw}
    if values is not None:
        unit["physical"] = values.physical
        unit["markers"] = values.markers
    return unit


def _vehicle(view: memoryview, offset: int, end: int) -> tuple[dict, int]:
    _need(offset, _VEHICLE.size, end, "vehicle data (0x01)")
    (status, charging, mode, speed, odometer, voltage, current, soc, dcdc, gear,
     insulation, accelerator, brake) = _VEHICLE.unpack_from(view, offset)
    raw = {"vehicle_status": status, "charging_status": charging, "run_mode": mode,
           "speed": speed, "odometer": odometer, "total_voltage": voltage,
           "total_current": current, "soc": soc, "dcdc_status": dcdc, "gear": gear,
           "insulation_resistance": insulation, "accelerator_pedal": accelerator,
           "brake_pedal": brake}
    v = _Values()
    p = v.physical
    p["vehicle_status"] = v.enum("/vehicle_status", status, VEHICLE_STATUS)
    p["charging_status"] = v.enum("/charging_status", charging, CHARGING_STATUS)
    p["run_mode"] = v.enum("/run_mode", mode, RUN_MODE)
    p["speed_kmh"] = v.scaled("/speed_kmh", speed, 2, 10, high=2200)
    p["odometer_km"] = v.scaled("/odometer_km", odometer, 4, 10, high=9_999_999)
    p["total_voltage_V"] = v.scaled("/total_voltage_V", voltage, 2, 10, high=10_000)
    # 0.1 A with a -1000 A offset (2016); the 2025 revision moves the offset to -3000 A.
    p["total_current_A"] = v.scaled("/total_current_A", current, 2, 10, 10_000, 20_000)
    p["soc_pct"] = v.scaled("/soc_pct", soc, 1, high=100)
    p["dcdc_status"] = v.enum("/dcdc_status", dcdc, DCDC_STATUS)
    # Gear byte: bits 0-3 the gear, bit 4 braking force, bit 5 driving force.
    if (gear & 0x0F) in GEARS:
        p["gear"] = {"gear": GEARS[gear & 0x0F], "driving_force": bool(gear & 0x20),
                     "braking_force": bool(gear & 0x10)}
    else:
        v.markers["/gear"] = "undefined"
        p["gear"] = None
    p["insulation_resistance_kohm"] = v.scaled("/insulation_resistance_kohm", insulation, 2,
                                               high=60_000)
    p["accelerator_pct"] = v.scaled("/accelerator_pct", accelerator, 1, high=100)
    p["brake_pct"] = v.scaled("/brake_pct", brake, 1, high=100)
    return _unit(0x01, offset - 1, raw, v), offset + _VEHICLE.size


_EXTREME_KEYS = ("max_v_subsys", "max_v_cell", "max_cell_v", "min_v_subsys", "min_v_cell",
                 "min_cell_v", "max_t_subsys", "max_t_probe", "max_t", "min_t_subsys",
                 "min_t_probe", "min_t")


def _extreme(view: memoryview, offset: int, end: int) -> tuple[dict, int]:
    # GB/T 32960.3-2016 order: subsystem no before probe no (some codecs swap them).
    _need(offset, _EXTREME.size, end, "extreme values (0x06)")
    raw = dict(zip(_EXTREME_KEYS, _EXTREME.unpack_from(view, offset), strict=True))
    v = _Values()
    p = v.physical
    p["max_cell_voltage_V"] = v.scaled("/max_cell_voltage_V", raw["max_cell_v"], 2, 1000,
                                       high=15_000)
    p["min_cell_voltage_V"] = v.scaled("/min_cell_voltage_V", raw["min_cell_v"], 2, 1000,
                                       high=15_000)
    p["max_temp_C"] = v.scaled("/max_temp_C", raw["max_t"], 1, 1, 40, high=250)
    p["min_temp_C"] = v.scaled("/min_temp_C", raw["min_t"], 1, 1, 40, high=250)
    return _unit(0x06, offset - 1, raw, v), offset + _EXTREME.size


_ALARM_NAMES = tuple(
    f"bit{bit}:{ALARM_BITS_2016[bit] if bit < len(ALARM_BITS_2016) else 'reserved'}"
    for bit in range(32)
)


def _bits(value: int) -> Iterator[int]:
    while value:
        lowest = value & -value
        yield lowest.bit_length() - 1
        value ^= lowest


def _fault_list(view: memoryview, offset: int, end: int, what: str,
                v: _Values) -> tuple[list[int], int]:
    _need(offset, 1, end, f"{what} count")
    count = view[offset]
    if count in (0xFE, 0xFF):
        # The count itself is marked abnormal/invalid: no list follows it.
        v.markers[f"/{what}"] = "abnormal" if count == 0xFE else "invalid"
        return [], offset + 1
    if count > 252:
        raise _fail(offset, f"{what} count {count} exceeds 252")
    _need(offset + 1, 4 * count, end, f"{count} {what}")
    codes = list(struct.unpack_from(f">{count}I", view, offset + 1))
    return codes, offset + 1 + 4 * count


def _alarm(view: memoryview, offset: int, end: int) -> tuple[dict, int]:
    _need(offset, 5, end, "alarm data (0x07)")
    level = view[offset]
    (flags,) = _I.unpack_from(view, offset + 1)
    v = _Values()
    position = offset + 5
    raw: dict[str, Any] = {"max_alarm_level": level, "general_alarm_flag": flags}
    for key in ("ress_fault_codes", "motor_fault_codes", "engine_fault_codes",
                "other_fault_codes"):
        raw[key], position = _fault_list(view, position, end, key, v)
    v.physical["max_alarm_level"] = v.enum("/max_alarm_level", level, ALARM_LEVELS)
    if flags in (_ABNORMAL[4], _INVALID[4]):
        v.markers["/general_alarm_flags"] = "abnormal" if flags == _ABNORMAL[4] else "invalid"
        v.physical["general_alarm_flags"] = None
    else:
        v.physical["general_alarm_flags"] = [_ALARM_NAMES[bit] for bit in _bits(flags)]
    return _unit(0x07, offset - 1, raw, v), position


def _cell_voltages(view: memoryview, offset: int, end: int) -> tuple[dict, int]:
    _need(offset, 1, end, "RESS subsystem count (0x08)")
    count = view[offset]
    position = offset + 1
    v = _Values()
    raw_subs, phys_subs = [], []
    for index in range(count):
        _need(position, _RESS_V.size, end, f"RESS subsystem {index + 1} voltages")
        no, voltage, current, total, first, n = _RESS_V.unpack_from(view, position)
        position += _RESS_V.size
        _need(position, 2 * n, end, f"{n} cell voltages")
        cells = struct.unpack_from(f">{n}H", view, position)
        position += 2 * n
        raw_subs.append({"no": no, "voltage": voltage, "current": current, "cell_total": total,
                         "frame_start_cell": first, "frame_cell_count": n,
                         "cell_voltages": list(cells)})
        base = f"/subsystems/{index}"
        if not cells or max(cells) <= 15_000:
            volts: list[float | None] = [c / 1000 for c in cells]
        else:
            volts = [v.scaled(f"{base}/cell_voltages_V/{i}", c, 2, 1000, high=15_000)
                     for i, c in enumerate(cells)]
        phys_subs.append({
            "no": no,
            "voltage_V": v.scaled(f"{base}/voltage_V", voltage, 2, 10, high=10_000),
            "current_A": v.scaled(f"{base}/current_A", current, 2, 10, 10_000, 20_000),
            "cell_voltages_V": volts,
        })
    v.physical["subsystems"] = phys_subs
    return _unit(0x08, offset - 1, {"subsystem_count": count, "subsystems": raw_subs},
                 v), position


def _temperatures(view: memoryview, offset: int, end: int) -> tuple[dict, int]:
    _need(offset, 1, end, "RESS subsystem count (0x09)")
    count = view[offset]
    position = offset + 1
    v = _Values()
    raw_subs, phys_subs = [], []
    for index in range(count):
        _need(position, _RESS_T.size, end, f"RESS subsystem {index + 1} temperatures")
        no, n = _RESS_T.unpack_from(view, position)
        position += _RESS_T.size
        _need(position, n, end, f"{n} probe temperatures")
        probes = bytes(view[position : position + n])
        position += n
        raw_subs.append({"no": no, "probe_count": n, "probe_temps": list(probes)})
        if not probes or max(probes) <= 250:
            temps: list[int | None] = [t - 40 for t in probes]
        else:
            temps = [v.scaled(f"/subsystems/{index}/probe_temps_C/{i}", t, 1, 1, 40, high=250)
                     for i, t in enumerate(probes)]
        phys_subs.append({"no": no, "probe_temps_C": temps})
    v.physical["subsystems"] = phys_subs
    return _unit(0x09, offset - 1, {"subsystem_count": count, "subsystems": raw_subs},
                 v), position


def _fixed_raw(kind: int, struct_: struct.Struct, keys: tuple[str, ...]):
    def parse(view: memoryview, offset: int, end: int) -> tuple[dict, int]:
        _need(offset, struct_.size, end, f"{INFO_TYPES_2016[kind]} data (0x{kind:02X})")
        raw = dict(zip(keys, struct_.unpack_from(view, offset), strict=True))
        return _unit(kind, offset - 1, raw, None), offset + struct_.size
    return parse


_MOTOR = struct.Struct(">BBBHHBHH")  # 12 bytes per drive motor
_MOTOR_KEYS = ("no", "status", "controller_temperature", "speed", "torque", "temperature",
               "controller_input_voltage", "controller_dc_current")


def _motors(view: memoryview, offset: int, end: int) -> tuple[dict, int]:
    _need(offset, 1, end, "drive motor count (0x02)")
    count = view[offset]
    position = offset + 1
    _need(position, count * _MOTOR.size, end, f"{count} drive motors")
    motors = [dict(zip(_MOTOR_KEYS, item, strict=True))
              for item in _MOTOR.iter_unpack(view[position : position + count * _MOTOR.size])]
    position += count * _MOTOR.size
    return _unit(0x02, offset - 1, {"motor_count": count, "motors": motors}, None), position


_FUEL_HEAD = struct.Struct(">HHHH")
_FUEL_TAIL = struct.Struct(">HBHBHBB")


def _fuel_cell(view: memoryview, offset: int, end: int) -> tuple[dict, int]:
    _need(offset, _FUEL_HEAD.size, end, "fuel cell data (0x03)")
    voltage, current, consumption, n = _FUEL_HEAD.unpack_from(view, offset)
    position = offset + _FUEL_HEAD.size
    # An invalid/abnormal probe count means no probe bytes follow.
    probes_n = 0 if n in (0xFFFE, 0xFFFF) else n
    _need(position, probes_n + _FUEL_TAIL.size, end, "fuel cell probes")
    probes = list(bytes(view[position : position + probes_n]))
    position += probes_n
    tail = _FUEL_TAIL.unpack_from(view, position)
    keys = ("max_temperature", "max_temperature_probe", "max_hydrogen_concentration",
            "max_hydrogen_concentration_sensor", "max_hydrogen_pressure",
            "max_hydrogen_pressure_sensor", "dcdc_status")
    raw = {"voltage": voltage, "current": current, "consumption": consumption,
           "probe_count": n, "probe_temps": probes, **dict(zip(keys, tail, strict=True))}
    return _unit(0x03, offset - 1, raw, None), position + _FUEL_TAIL.size


_UNITS = {
    0x01: _vehicle,
    0x02: _motors,
    0x03: _fuel_cell,
    0x04: _fixed_raw(0x04, struct.Struct(">BHH"), ("status", "crankshaft_speed",
                                                    "fuel_consumption")),
    0x05: _fixed_raw(0x05, struct.Struct(">BII"), ("status", "longitude", "latitude")),
    0x06: _extreme,
    0x07: _alarm,
    0x08: _cell_voltages,
    0x09: _temperatures,
}


def _units(view: memoryview, offset: int, end: int) -> list[dict[str, Any]]:
    units = []
    while offset < end:
        kind = view[offset]
        parser = _UNITS.get(kind)
        if parser is not None:
            unit, offset = parser(view, offset + 1, end)
            units.append(unit)
        elif 0x80 <= kind <= 0xFE:
            # OEM units have no standard layout or length: keep the rest undecoded.
            units.append({"type": kind, "type_name": "oem-defined", "offset": offset,
                          "raw_hex": bytes(view[offset + 1 : end]).hex().upper()})
            offset = end
        else:
            raise _fail(offset, f"information type 0x{kind:02X} is not defined in "
                        "GB/T 32960.3-2016")
    return units


def parse_info_units(data: bytes | bytearray | memoryview) -> list[dict[str, Any]]:
    """Parse a sequence of information units (the real-time data after its time stamp).

    :param data: the units' bytes, each starting with its type byte.
    :returns: one dict per unit: ``type``, ``type_name``, ``offset``, ``raw``, and for
        battery-relevant units ``physical`` and ``markers``.
    :raises InvalidFrame: a unit is unknown or cut short; ``offset`` counts from ``data``.
    """
    view = _view(data)
    return _units(view, 0, len(view))


_DECODERS = {
    0x01: _login,
    0x02: _realtime,
    0x03: _realtime,
    0x04: _logout,
    0x05: _platform_login,
    0x06: _logout,
    0x07: _heartbeat,
    0x08: _empty_or_time,
}
