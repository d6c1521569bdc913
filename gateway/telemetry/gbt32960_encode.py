"""GB/T 32960.3-2016 frame encoder for synthetic telemetry streams.

The inverse of :mod:`gateway.codes.gbt32960` for the frames the usage aggregation reads:
vehicle login (0x01) with the RESS codes, real-time (0x02) and re-issued (0x03) data
with the vehicle (0x01), extreme-value (0x06), alarm (0x07) and per-subsystem voltage
(0x08) / temperature (0x09) units, and vehicle logout (0x04). Tests and benchmarks build
streams with it; it exists because the gateway only ever receives frames and no
maintained library writes them. Layouts, scaling and markers are those the parser
documents (GB/T 32960.3-2016 §7; data packet structure, BCC).

Physical values are given in the units the parser returns (V, A, °C, %, km/h); ``None``
writes the field's invalid marker (0xFF / 0xFFFF / 0xFFFFFFFF).
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Iterable, Sequence

from gateway.codes.gbt32960 import BEIJING, bcc
from gateway.codes.gbt32960_units import ALARM_BITS_2016

_INVALID = {1: 0xFF, 2: 0xFFFF, 4: 0xFFFFFFFF}
_CHARGING = {"parked charging": 1, "driving charging": 2, "not charging": 3, "charge complete": 4}
_VEHICLE = {"started": 1, "off": 2, "other": 3}


def _scaled(value: float | None, width: int, factor: int = 1, offset: int = 0) -> int:
    if value is None:
        return _INVALID[width]
    return round((value + offset) * factor)


def time_bytes(moment: dt.datetime) -> bytes:
    """BYTE[6] YY MM DD hh mm ss in Beijing time.

    :param moment: an aware datetime.
    :returns: the six bytes.
    """
    local = moment.astimezone(BEIJING)
    return bytes(
        [local.year - 2000, local.month, local.day, local.hour, local.minute, local.second]
    )


def frame(
    command: int, vin: str, data: bytes, *, response: int = 0xFE, encryption: int = 0x01
) -> bytes:
    """One 2016 frame: ``##``, command unit, VIN, encryption, length, data, BCC.

    :param command: the command byte.
    :param vin: the 17-character unique ID.
    :param data: the data unit.
    :returns: the frame's bytes.
    """
    body = (
        bytes([command, response])
        + vin.encode("ascii").ljust(17, b"\x00")
        + bytes([encryption])
        + struct.pack(">H", len(data))
        + data
    )
    return b"##" + body + bytes([bcc(body)])


def login(
    vin: str,
    moment: dt.datetime,
    codes: Sequence[str],
    *,
    serial: int = 1,
    iccid: str = "89860000000000000000",
) -> bytes:
    """A vehicle login frame (0x01) listing the RESS (pack) codes.

    :param codes: the RESS codes, all of one length (24 for GB/T 34014 pack codes).
    """
    size = len(codes[0]) if codes else 0
    data = (
        time_bytes(moment)
        + struct.pack(">H", serial)
        + iccid.encode("ascii").ljust(20, b"\x00")
        + bytes([len(codes), size])
        + b"".join(code.encode("ascii") for code in codes)
    )
    return frame(0x01, vin, data)


def logout(vin: str, moment: dt.datetime, *, serial: int = 1) -> bytes:
    """A vehicle logout frame (0x04)."""
    return frame(0x04, vin, time_bytes(moment) + struct.pack(">H", serial))


def realtime(
    vin: str, moment: dt.datetime, units: Iterable[bytes], *, reissued: bool = False
) -> bytes:
    """A real-time (0x02) or re-issued (0x03) data frame.

    :param units: encoded information units (type byte included), in order.
    """
    return frame(0x03 if reissued else 0x02, vin, time_bytes(moment) + b"".join(units))


def vehicle_unit(
    *,
    soc: float | None,
    voltage: float | None,
    current: float | None,
    charging: str | None = "not charging",
    status: str = "started",
    speed: float | None = 0,
    odometer: float | None = 0,
    insulation: int | None = 5000,
) -> bytes:
    """Information unit 0x01, vehicle data (20 bytes).

    :param current: total current in A, -1000..+1000 (stored with a 1000 A offset).
    :param charging: a charging-status name of the parser, or None for invalid.
    """
    return b"\x01" + struct.pack(
        ">BBBHIHHBBBHBB",
        _VEHICLE[status],
        _INVALID[1] if charging is None else _CHARGING[charging],
        1,  # pure electric
        _scaled(speed, 2, 10),
        _scaled(odometer, 4, 10),
        _scaled(voltage, 2, 10),
        _scaled(current, 2, 10, 1000),
        _scaled(soc, 1),
        1,  # DC-DC working
        0x0E,  # gear D
        _INVALID[2] if insulation is None else insulation,
        0,
        0,
    )


def extreme_unit(
    *,
    max_temp: float | None,
    min_temp: float | None,
    max_cell_voltage: float | None = 3.7,
    min_cell_voltage: float | None = 3.6,
    subsystem: int = 1,
) -> bytes:
    """Information unit 0x06, extreme values (14 bytes; temperatures offset -40 °C)."""
    return b"\x06" + struct.pack(
        ">BBHBBHBBBBBB",
        subsystem,
        1,
        _scaled(max_cell_voltage, 2, 1000),
        subsystem,
        2,
        _scaled(min_cell_voltage, 2, 1000),
        subsystem,
        1,
        _scaled(max_temp, 1, 1, 40),
        subsystem,
        2,
        _scaled(min_temp, 1, 1, 40),
    )


def alarm_flags(names: Iterable[str]) -> int:
    """The general alarm flag DWORD with the named 2016 bits set (bit 0 = LSB).

    :param names: names of :data:`gateway.codes.gbt32960_units.ALARM_BITS_2016`.
    """
    flags = 0
    for name in names:
        flags |= 1 << ALARM_BITS_2016.index(name)
    return flags


def alarm_unit(level: int | None, names: Iterable[str] = (), *, flags: int | None = None) -> bytes:
    """Information unit 0x07, alarm data with empty fault lists.

    :param level: max alarm level 0-3, None for invalid.
    :param names: alarm bits to set, by name.
    :param flags: the raw flag DWORD instead of ``names`` (e.g. a marker).
    """
    word = alarm_flags(names) if flags is None else flags
    return (
        b"\x07"
        + bytes([_INVALID[1] if level is None else level])
        + struct.pack(">I", word)
        + bytes(4)
    )


def voltages_unit(subsystems: Sequence[tuple[float | None, float | None]], cells: int = 2) -> bytes:
    """Information unit 0x08 with one entry per subsystem: (voltage V, current A), and
    ``cells`` cell voltages of 3.6 V each."""
    out = bytearray([0x08, len(subsystems)])
    for number, (voltage, current) in enumerate(subsystems, start=1):
        out += struct.pack(
            ">BHHHHB",
            number,
            _scaled(voltage, 2, 10),
            _scaled(current, 2, 10, 1000),
            cells,
            1,
            cells,
        )
        out += struct.pack(f">{cells}H", *([3600] * cells))
    return bytes(out)


def temperatures_unit(subsystems: Sequence[Sequence[int]]) -> bytes:
    """Information unit 0x09 with the probe temperatures (°C) of each subsystem."""
    out = bytearray([0x09, len(subsystems)])
    for number, probes in enumerate(subsystems, start=1):
        out += struct.pack(">BH", number, len(probes)) + bytes(t + 40 for t in probes)
    return bytes(out)


def position_unit(longitude: float, latitude: float, *, valid: bool = True) -> bytes:
    """Information unit 0x05, vehicle position: status byte (bit 0 set = invalid fix,
    bit 1 south, bit 2 west), then longitude and latitude in millionths of a degree."""
    status = (0 if valid else 1) | (2 if latitude < 0 else 0) | (4 if longitude < 0 else 0)
    return b"\x05" + struct.pack(
        ">BII", status, round(abs(longitude) * 1_000_000), round(abs(latitude) * 1_000_000)
    )
