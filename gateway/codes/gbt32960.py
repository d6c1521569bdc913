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
  no standard layout: it and every byte after it are returned as hex. The units are
  read by :mod:`gateway.codes.gbt32960_units`; this module reads the frame around them.

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

from gateway.codes.gbt32960_units import byte_view, frame_error, need, read_units

START_2016 = b"##"
START_2025 = b"$$"
HEADER_LENGTH = 24  # start 2 + command 1 + response 1 + VIN 17 + encryption 1 + length 2
MAX_DATA_LENGTH = 65531  # the standard's data-unit length range

BEIJING = dt.timezone(dt.timedelta(hours=8), "CST")

_HEADER = struct.Struct(">2sBB17sBH")
_H = struct.Struct(">H")
_TIME = struct.Struct(">6B")
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
COMMANDS_45688 = {
    0x10: "safety monitoring",
    0x11: "safety monitoring",
    0x12: "safety monitoring",
    0x13: "safety monitoring",
}
COMMANDS_2025 = {0x09: "activation", 0x0A: "activation response", 0x0B: "payload key sync"}

RESPONSES_2016 = {
    0x01: "success",
    0x02: "error",
    0x03: "VIN duplicate",
    0x04: "VIN unknown",
    0xFE: "command",
}
RESPONSES_2025 = {0x05: "signature invalid", 0x06: "structure invalid", 0x07: "decryption failed"}

ENCRYPTIONS_2016 = {0x01: "none", 0x02: "RSA", 0x03: "AES-128", 0xFE: "abnormal", 0xFF: "invalid"}
ENCRYPTIONS_2025 = {0x04: "SM2", 0x05: "SM4"}


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
    view = byte_view(data)
    frame, end = _parse(view, 0)
    if end != len(view):
        raise frame_error(end, f"{len(view) - end} byte(s) after the BCC; one frame expected")
    return frame


def iter_frames(data: bytes | bytearray | memoryview) -> Iterator[Frame]:
    """Parse frames lying back to back in a byte stream.

    :param data: concatenated frames.
    :returns: an iterator of frames, in order.
    :raises InvalidFrame: at the first bad frame; ``offset`` counts from the stream start.
    """
    view = byte_view(data)
    position = 0
    while position < len(view):
        frame, position = _parse(view, position)
        yield frame


def _parse(view: memoryview, base: int) -> tuple[Frame, int]:
    available = len(view) - base
    if available < 2:
        raise frame_error(base + available, "frame truncated before the start bytes")
    start = bytes(view[base : base + 2])
    if start == START_2016:
        version = "2016"
    elif start == START_2025:
        version = "2025"
    else:
        raise frame_error(base, f"start bytes {start.hex().upper()} are neither '##' nor '$$'")
    if available < HEADER_LENGTH + 1:
        raise frame_error(
            base + available,
            f"frame truncated: {available} bytes, header needs {HEADER_LENGTH} plus the BCC",
        )
    _, command, response, vin_raw, encryption, length = _HEADER.unpack_from(view, base)
    data_start = base + HEADER_LENGTH
    data_end = data_start + length
    if length > MAX_DATA_LENGTH:
        raise frame_error(base + 22, f"data-unit length {length} exceeds {MAX_DATA_LENGTH}")
    if data_end + 1 > len(view):
        raise frame_error(
            len(view),
            f"frame truncated: the length at byte {base + 22} declares "
            f"{length} data bytes, so the frame ends at byte {data_end + 1}",
        )
    expected = bcc(view[base + 2 : data_end])
    if view[data_end] != expected:
        raise frame_error(
            data_end,
            f"BCC is 0x{view[data_end]:02X}, the XOR of bytes "
            f"{base + 2}-{data_end - 1} is 0x{expected:02X}",
        )

    commands, responses, encryptions = _names(version)
    if command not in commands and not 0xC0 <= command <= 0xFE:
        raise frame_error(
            base + 2, f"command 0x{command:02X} is reserved in GB/T 32960.3-{version}"
        )
    if response not in responses:
        raise frame_error(base + 3, f"response flag 0x{response:02X} is not defined")
    if encryption not in encryptions:
        raise frame_error(base + 21, f"encryption flag 0x{encryption:02X} is not defined")
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


def _time(view: memoryview, offset: int, end: int, what: str = "time") -> str:
    need(offset, 6, end, what)
    yy, mo, dd, hh, mi, ss = _TIME.unpack_from(view, offset)
    try:
        return dt.datetime(2000 + yy, mo, dd, hh, mi, ss, tzinfo=BEIJING).isoformat()
    except ValueError:
        raise frame_error(
            offset,
            f"{what} {yy:02d}-{mo:02d}-{dd:02d} {hh:02d}:{mi:02d}:{ss:02d} is not a date and time",
        ) from None


def _no_trailing(offset: int, end: int, what: str) -> None:
    if offset != end:
        raise frame_error(offset, f"{end - offset} unexpected byte(s) after the {what}")


# -- commands ---------------------------------------------------------------------------


def _login(view: memoryview, offset: int, end: int) -> dict[str, Any]:
    # Vehicle login: time, login serial, ICCID (20), RESS count n, code length m, n*m code bytes.
    need(offset, _LOGIN_HEAD.size, end, "vehicle login header")
    time = _time(view, offset, end, "login time")
    *_, serial, iccid, count, size = _LOGIN_HEAD.unpack_from(view, offset)
    position = offset + _LOGIN_HEAD.size
    need(position, count * size, end, f"{count} RESS codes of {size} bytes")
    codes = []
    for index in range(count):
        codes.append(
            _ascii(bytes(view[position : position + size]), position, f"RESS code {index + 1}")
        )
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
        raise frame_error(
            offset + bad.start(), f"{what} byte 0x{text[bad.start()]:02X} is not printable ASCII"
        )
    return text.decode("ascii")


def _logout(view: memoryview, offset: int, end: int) -> dict[str, Any]:
    time = _time(view, offset, end, "logout time")
    need(offset + 6, 2, end, "login serial")
    (serial,) = _H.unpack_from(view, offset + 6)
    _no_trailing(offset + 8, end, "login serial")
    return {"logout_time": time, "login_serial": serial}


def _platform_login(view: memoryview, offset: int, end: int) -> dict[str, Any]:
    # Platform login: time, serial, user name (12), password (20), encryption rule; the password is
    # never echoed.
    need(offset, 41, end, "platform login")
    time = _time(view, offset, end, "login time")
    (serial,) = _H.unpack_from(view, offset + 6)
    user = _ascii(bytes(view[offset + 8 : offset + 20]), offset + 8, "user name")
    rule = view[offset + 40]
    _no_trailing(offset + 41, end, "encryption rule")
    return {"login_time": time, "login_serial": serial, "username": user, "encryption_rule": rule}


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
    return {"collection_time": time, "info_units": read_units(view, offset + 6, end)}


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
