"""GB/T 32960.3-2016 information units: the real-time data of commands 0x02 and 0x03.

After its collection time, a real-time report is a sequence of information units, each
starting with its type byte and carrying no length: 0x01 vehicle, 0x06 extreme values,
0x07 alarm, 0x08 cell voltages and 0x09 probe temperatures are scaled to physical units;
0x02 drive motor, 0x03 fuel cell, 0x04 engine and 0x05 position are measured (to reach
the next unit) and returned raw; an OEM unit (0x80-0xFE) and every byte after it are
returned as hex. The frame around them is read by :mod:`gateway.codes.gbt32960`, whose
docstring states the marker rules (abnormal, invalid, out of range, undefined) applied here.

The bounds checks that both modules read bytes with live here, the lower of the two.

Why one module of some 500 lines: one parser per information unit of one table of the
standard (§7.2.3), each a few dozen lines that share the marker rules and bounds checks.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from typing import Any

from gateway.errors import InvalidFrame

_I = struct.Struct(">I")
# Information unit 0x01 vehicle data: 20 bytes.
_VEHICLE = struct.Struct(">BBBHIHHBBBHBB")
# 0x06 extreme values: 14 bytes.
_EXTREME = struct.Struct(">BBHBBHBBBBBB")
# 0x08 per-subsystem header: no, voltage, current, cell total, frame start, frame count.
_RESS_V = struct.Struct(">BHHHHB")
# 0x09 per-subsystem header: no, probe count.
_RESS_T = struct.Struct(">BH")

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
CHARGING_STATUS = {
    1: "parked charging",
    2: "driving charging",
    3: "not charging",
    4: "charge complete",
}
RUN_MODE = {1: "pure electric", 2: "hybrid", 3: "fuel"}
DCDC_STATUS = {1: "working", 2: "off"}
GEARS = {
    0: "neutral",
    1: "1st",
    2: "2nd",
    3: "3rd",
    4: "4th",
    5: "5th",
    6: "6th",
    13: "R",
    14: "D",
    15: "P",
}

# Abnormal / invalid markers by field width in bytes.
_ABNORMAL = {1: 0xFE, 2: 0xFFFE, 4: 0xFFFFFFFE}
_INVALID = {1: 0xFF, 2: 0xFFFF, 4: 0xFFFFFFFF}

# A unit parser: (view, offset after the type byte, end of the data unit) -> (unit, next offset).
_UnitParser = Callable[[memoryview, int, int], tuple[dict[str, Any], int]]


def byte_view(data: bytes | bytearray | memoryview) -> memoryview:
    """``data`` as a memoryview of unsigned bytes."""
    view = memoryview(data)
    return view if view.format == "B" else view.cast("B")


def frame_error(offset: int, message: str) -> InvalidFrame:
    """The error for a fault at byte ``offset``, the offset also in its message."""
    return InvalidFrame(f"byte {offset}: {message}", offset=offset)


def need(offset: int, size: int, end: int, what: str) -> None:
    """Refuse a field of ``size`` bytes at ``offset`` that runs past ``end``.

    :raises InvalidFrame: the data unit ends inside ``what``.
    """
    if offset + size > end:
        raise frame_error(
            end, f"data unit ends inside {what} (needs bytes {offset}-{offset + size - 1})"
        )


class _Values:
    """Collects physical values and their markers for one information unit."""

    __slots__ = ("physical", "markers")

    def __init__(self) -> None:
        self.physical: dict[str, Any] = {}
        self.markers: dict[str, str] = {}

    def scaled(
        self,
        pointer: str,
        raw: int,
        width: int,
        divisor: int = 1,
        offset: int = 0,
        high: int | None = None,
    ) -> float | int | None:
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


def _unit(kind: int, offset: int, raw: dict[str, Any], values: _Values | None) -> dict[str, Any]:
    unit: dict[str, Any] = {
        "type": kind,
        "type_name": INFO_TYPES_2016.get(kind, "oem-defined"),
        "offset": offset,
        "raw": raw,
    }
    if values is not None:
        unit["physical"] = values.physical
        unit["markers"] = values.markers
    return unit


def _vehicle(view: memoryview, offset: int, end: int) -> tuple[dict[str, Any], int]:
    need(offset, _VEHICLE.size, end, "vehicle data (0x01)")
    (
        status,
        charging,
        mode,
        speed,
        odometer,
        voltage,
        current,
        soc,
        dcdc,
        gear,
        insulation,
        accelerator,
        brake,
    ) = _VEHICLE.unpack_from(view, offset)
    raw = {
        "vehicle_status": status,
        "charging_status": charging,
        "run_mode": mode,
        "speed": speed,
        "odometer": odometer,
        "total_voltage": voltage,
        "total_current": current,
        "soc": soc,
        "dcdc_status": dcdc,
        "gear": gear,
        "insulation_resistance": insulation,
        "accelerator_pedal": accelerator,
        "brake_pedal": brake,
    }
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
        p["gear"] = {
            "gear": GEARS[gear & 0x0F],
            "driving_force": bool(gear & 0x20),
            "braking_force": bool(gear & 0x10),
        }
    else:
        v.markers["/gear"] = "undefined"
        p["gear"] = None
    p["insulation_resistance_kohm"] = v.scaled(
        "/insulation_resistance_kohm", insulation, 2, high=60_000
    )
    p["accelerator_pct"] = v.scaled("/accelerator_pct", accelerator, 1, high=100)
    p["brake_pct"] = v.scaled("/brake_pct", brake, 1, high=100)
    return _unit(0x01, offset - 1, raw, v), offset + _VEHICLE.size


_EXTREME_KEYS = (
    "max_v_subsys",
    "max_v_cell",
    "max_cell_v",
    "min_v_subsys",
    "min_v_cell",
    "min_cell_v",
    "max_t_subsys",
    "max_t_probe",
    "max_t",
    "min_t_subsys",
    "min_t_probe",
    "min_t",
)


def _extreme(view: memoryview, offset: int, end: int) -> tuple[dict[str, Any], int]:
    # GB/T 32960.3-2016 order: subsystem no before probe no (some codecs swap them).
    need(offset, _EXTREME.size, end, "extreme values (0x06)")
    raw = dict(zip(_EXTREME_KEYS, _EXTREME.unpack_from(view, offset), strict=True))
    v = _Values()
    p = v.physical
    p["max_cell_voltage_V"] = v.scaled(
        "/max_cell_voltage_V", raw["max_cell_v"], 2, 1000, high=15_000
    )
    p["min_cell_voltage_V"] = v.scaled(
        "/min_cell_voltage_V", raw["min_cell_v"], 2, 1000, high=15_000
    )
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


def _fault_list(
    view: memoryview, offset: int, end: int, what: str, v: _Values
) -> tuple[list[int], int]:
    need(offset, 1, end, f"{what} count")
    count = view[offset]
    if count in (0xFE, 0xFF):
        # The count itself is marked abnormal/invalid: no list follows it.
        v.markers[f"/{what}"] = "abnormal" if count == 0xFE else "invalid"
        return [], offset + 1
    if count > 252:
        raise frame_error(offset, f"{what} count {count} exceeds 252")
    need(offset + 1, 4 * count, end, f"{count} {what}")
    codes = list(struct.unpack_from(f">{count}I", view, offset + 1))
    return codes, offset + 1 + 4 * count


def _alarm(view: memoryview, offset: int, end: int) -> tuple[dict[str, Any], int]:
    need(offset, 5, end, "alarm data (0x07)")
    level = view[offset]
    (flags,) = _I.unpack_from(view, offset + 1)
    v = _Values()
    position = offset + 5
    raw: dict[str, Any] = {"max_alarm_level": level, "general_alarm_flag": flags}
    for key in ("ress_fault_codes", "motor_fault_codes", "engine_fault_codes", "other_fault_codes"):
        raw[key], position = _fault_list(view, position, end, key, v)
    v.physical["max_alarm_level"] = v.enum("/max_alarm_level", level, ALARM_LEVELS)
    if flags in (_ABNORMAL[4], _INVALID[4]):
        v.markers["/general_alarm_flags"] = "abnormal" if flags == _ABNORMAL[4] else "invalid"
        v.physical["general_alarm_flags"] = None
    else:
        v.physical["general_alarm_flags"] = [_ALARM_NAMES[bit] for bit in _bits(flags)]
    return _unit(0x07, offset - 1, raw, v), position


def _cell_voltages(view: memoryview, offset: int, end: int) -> tuple[dict[str, Any], int]:
    need(offset, 1, end, "RESS subsystem count (0x08)")
    count = view[offset]
    position = offset + 1
    v = _Values()
    raw_subs, phys_subs = [], []
    for index in range(count):
        need(position, _RESS_V.size, end, f"RESS subsystem {index + 1} voltages")
        no, voltage, current, total, first, n = _RESS_V.unpack_from(view, position)
        position += _RESS_V.size
        need(position, 2 * n, end, f"{n} cell voltages")
        cells = struct.unpack_from(f">{n}H", view, position)
        position += 2 * n
        raw_subs.append(
            {
                "no": no,
                "voltage": voltage,
                "current": current,
                "cell_total": total,
                "frame_start_cell": first,
                "frame_cell_count": n,
                "cell_voltages": list(cells),
            }
        )
        base = f"/subsystems/{index}"
        if not cells or max(cells) <= 15_000:
            volts: list[float | None] = [c / 1000 for c in cells]
        else:
            volts = [
                v.scaled(f"{base}/cell_voltages_V/{i}", c, 2, 1000, high=15_000)
                for i, c in enumerate(cells)
            ]
        phys_subs.append(
            {
                "no": no,
                "voltage_V": v.scaled(f"{base}/voltage_V", voltage, 2, 10, high=10_000),
                "current_A": v.scaled(f"{base}/current_A", current, 2, 10, 10_000, 20_000),
                "cell_voltages_V": volts,
            }
        )
    v.physical["subsystems"] = phys_subs
    return _unit(0x08, offset - 1, {"subsystem_count": count, "subsystems": raw_subs}, v), position


def _temperatures(view: memoryview, offset: int, end: int) -> tuple[dict[str, Any], int]:
    need(offset, 1, end, "RESS subsystem count (0x09)")
    count = view[offset]
    position = offset + 1
    v = _Values()
    raw_subs, phys_subs = [], []
    for index in range(count):
        need(position, _RESS_T.size, end, f"RESS subsystem {index + 1} temperatures")
        no, n = _RESS_T.unpack_from(view, position)
        position += _RESS_T.size
        need(position, n, end, f"{n} probe temperatures")
        probes = bytes(view[position : position + n])
        position += n
        raw_subs.append({"no": no, "probe_count": n, "probe_temps": list(probes)})
        if not probes or max(probes) <= 250:
            temps: list[int | float | None] = [t - 40 for t in probes]
        else:
            temps = [
                v.scaled(f"/subsystems/{index}/probe_temps_C/{i}", t, 1, 1, 40, high=250)
                for i, t in enumerate(probes)
            ]
        phys_subs.append({"no": no, "probe_temps_C": temps})
    v.physical["subsystems"] = phys_subs
    return _unit(0x09, offset - 1, {"subsystem_count": count, "subsystems": raw_subs}, v), position


def _fixed_raw(kind: int, struct_: struct.Struct, keys: tuple[str, ...]) -> _UnitParser:
    def parse(view: memoryview, offset: int, end: int) -> tuple[dict[str, Any], int]:
        need(offset, struct_.size, end, f"{INFO_TYPES_2016[kind]} data (0x{kind:02X})")
        raw = dict(zip(keys, struct_.unpack_from(view, offset), strict=True))
        return _unit(kind, offset - 1, raw, None), offset + struct_.size

    return parse


_MOTOR = struct.Struct(">BBBHHBHH")  # 12 bytes per drive motor
_MOTOR_KEYS = (
    "no",
    "status",
    "controller_temperature",
    "speed",
    "torque",
    "temperature",
    "controller_input_voltage",
    "controller_dc_current",
)


def _motors(view: memoryview, offset: int, end: int) -> tuple[dict[str, Any], int]:
    need(offset, 1, end, "drive motor count (0x02)")
    count = view[offset]
    position = offset + 1
    need(position, count * _MOTOR.size, end, f"{count} drive motors")
    motors = [
        dict(zip(_MOTOR_KEYS, item, strict=True))
        for item in _MOTOR.iter_unpack(view[position : position + count * _MOTOR.size])
    ]
    position += count * _MOTOR.size
    return _unit(0x02, offset - 1, {"motor_count": count, "motors": motors}, None), position


_FUEL_HEAD = struct.Struct(">HHHH")
_FUEL_TAIL = struct.Struct(">HBHBHBB")


def _fuel_cell(view: memoryview, offset: int, end: int) -> tuple[dict[str, Any], int]:
    need(offset, _FUEL_HEAD.size, end, "fuel cell data (0x03)")
    voltage, current, consumption, n = _FUEL_HEAD.unpack_from(view, offset)
    position = offset + _FUEL_HEAD.size
    # An invalid/abnormal probe count means no probe bytes follow.
    probes_n = 0 if n in (0xFFFE, 0xFFFF) else n
    need(position, probes_n + _FUEL_TAIL.size, end, "fuel cell probes")
    probes = list(bytes(view[position : position + probes_n]))
    position += probes_n
    tail = _FUEL_TAIL.unpack_from(view, position)
    keys = (
        "max_temperature",
        "max_temperature_probe",
        "max_hydrogen_concentration",
        "max_hydrogen_concentration_sensor",
        "max_hydrogen_pressure",
        "max_hydrogen_pressure_sensor",
        "dcdc_status",
    )
    raw = {
        "voltage": voltage,
        "current": current,
        "consumption": consumption,
        "probe_count": n,
        "probe_temps": probes,
        **dict(zip(keys, tail, strict=True)),
    }
    return _unit(0x03, offset - 1, raw, None), position + _FUEL_TAIL.size


_UNITS: dict[int, _UnitParser] = {
    0x01: _vehicle,
    0x02: _motors,
    0x03: _fuel_cell,
    0x04: _fixed_raw(
        0x04, struct.Struct(">BHH"), ("status", "crankshaft_speed", "fuel_consumption")
    ),
    0x05: _fixed_raw(0x05, struct.Struct(">BII"), ("status", "longitude", "latitude")),
    0x06: _extreme,
    0x07: _alarm,
    0x08: _cell_voltages,
    0x09: _temperatures,
}


def read_units(view: memoryview, offset: int, end: int) -> list[dict[str, Any]]:
    """The information units in ``view[offset:end]``, as :func:`parse_info_units` gives
    them; offsets in errors and units count from the start of ``view`` (the frame).

    :raises InvalidFrame: a unit is unknown or cut short.
    """
    units: list[dict[str, Any]] = []
    while offset < end:
        kind = view[offset]
        parser = _UNITS.get(kind)
        if parser is not None:
            unit, offset = parser(view, offset + 1, end)
            units.append(unit)
        elif 0x80 <= kind <= 0xFE:
            # OEM units have no standard layout or length: keep the rest undecoded.
            units.append(
                {
                    "type": kind,
                    "type_name": "oem-defined",
                    "offset": offset,
                    "raw_hex": bytes(view[offset + 1 : end]).hex().upper(),
                }
            )
            offset = end
        else:
            raise frame_error(
                offset, f"information type 0x{kind:02X} is not defined in GB/T 32960.3-2016"
            )
    return units


def parse_info_units(data: bytes | bytearray | memoryview) -> list[dict[str, Any]]:
    """Parse a sequence of information units (the real-time data after its time stamp).

    :param data: the units' bytes, each starting with its type byte.
    :returns: one dict per unit: ``type``, ``type_name``, ``offset``, ``raw``, and for
        battery-relevant units ``physical`` and ``markers``.
    :raises InvalidFrame: a unit is unknown or cut short; ``offset`` counts from ``data``.
    """
    view = byte_view(data)
    return read_units(view, 0, len(view))
