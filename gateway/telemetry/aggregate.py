"""Per-battery usage aggregates from GB/T 32960.3-2016 telemetry.

Raw telemetry may leave China only as per-battery aggregates keyed by battery code
(cross-border policy: ``usage`` is ``aggregate_only``). This module reads a stream of
frames and keeps, per battery code, counters and integrals only; the output has the
shape of a record's ``usage`` block (``gateway.records.schema.UsageSchema``), plus
statistics and the method used, and never holds a VIN, a position or a time series.

Routing: a vehicle login (0x01) names the RESS codes (GB/T 34014 pack codes) of the
vehicle it comes from (GB/T 32960.3-2016, login data unit). Until its logout, the data
frames of that vehicle feed those batteries, the n-th code being RESS subsystem n. The
VIN only routes frames inside this process; it is never a key of anything returned.

Integration over time is done per battery by :mod:`gateway.telemetry.battery`.
"""

from __future__ import annotations

import datetime as dt
import heapq
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from gateway.codes.gbt32960 import Frame, parse_frame
from gateway.errors import InvalidFrame
from gateway.telemetry.battery import BatteryAggregator, Parameters, Sample, UsageAggregate

_CHARGING = {
    "parked charging": True,
    "driving charging": True,
    "not charging": False,
    "charge complete": False,
}
_LOGIN, _DATA, _LOGOUT = 0, 1, 2


@dataclass(frozen=True)
class BadFrame:
    """A line that did not yield a frame.

    :ivar line: 1-based line number.
    :ivar offset: byte offset of the fault inside the frame (None when the line is not
        hexadecimal: ``position`` is then the character position).
    :ivar file_offset: byte offset of the line's start in the input, when known.
    :ivar message: what was wrong.
    """

    line: int
    offset: int | None
    message: str
    file_offset: int | None = None

    def describe(self) -> str:
        where = f"line {self.line}"
        if self.file_offset is not None:
            where += f" (input byte {self.file_offset})"
        return f"{where}: {self.message}"


class _Reading(NamedTuple):
    """The battery-relevant readings of one real-time frame, vehicle-wide."""

    soc: float | None
    charging: bool | None
    voltage: float | None
    current: float | None
    temp_max: float | None
    temp_min: float | None
    alarm_level: int | None
    alarm_flags: int | None
    subsystem_vi: Mapping[int, tuple[float | None, float | None]]
    subsystem_t: Mapping[int, tuple[float | None, float | None]]

    def sample(self, time: int, subsystem: int, alone: bool) -> Sample:
        # Per-subsystem units (0x08/0x09) win; the vehicle-wide ones (0x01/0x06) describe
        # the battery only when the vehicle has a single RESS.
        voltage = current = temp_max = temp_min = None
        vi = self.subsystem_vi.get(subsystem)
        if vi is not None and vi[0] is not None and vi[1] is not None:
            voltage, current = vi
        elif alone:
            voltage, current = self.voltage, self.current
        t = self.subsystem_t.get(subsystem)
        if t is not None:
            temp_max, temp_min = t
        elif alone:
            temp_max, temp_min = self.temp_max, self.temp_min
        return Sample(
            time,
            self.soc,
            self.charging,
            voltage,
            current,
            temp_max,
            temp_min,
            self.alarm_level,
            self.alarm_flags,
        )


def _reading(units: list[dict[str, Any]]) -> _Reading:
    soc = charging = voltage = current = temp_max = temp_min = None
    level = flags = None
    vi: dict[int, tuple[float | None, float | None]] = {}
    temps: dict[int, tuple[float | None, float | None]] = {}
    for unit in units:
        kind = unit["type"]
        if kind == 0x01:
            p = unit["physical"]
            soc = p["soc_pct"]
            status = p["charging_status"]
            charging = None if status is None else _CHARGING[status]
            voltage, current = p["total_voltage_V"], p["total_current_A"]
        elif kind == 0x06:
            p = unit["physical"]
            temp_max, temp_min = p["max_temp_C"], p["min_temp_C"]
        elif kind == 0x07:
            raw = unit["raw"]
            level = raw["max_alarm_level"] if raw["max_alarm_level"] <= 3 else None
            flags = None if "/general_alarm_flags" in unit["markers"] else raw["general_alarm_flag"]
        elif kind == 0x08:
            for sub in unit["physical"]["subsystems"]:
                vi[sub["no"]] = (sub["voltage_V"], sub["current_A"])
        elif kind == 0x09:
            for sub in unit["physical"]["subsystems"]:
                known = [t for t in sub["probe_temps_C"] if t is not None]
                temps[sub["no"]] = (max(known), min(known)) if known else (None, None)
    return _Reading(soc, charging, voltage, current, temp_max, temp_min, level, flags, vi, temps)


_NOT_HEX = re.compile(r"[^0-9A-Fa-f \t\r\n]")


def _not_hex(text: str) -> InvalidFrame:
    bad = _NOT_HEX.search(text)
    if bad is None:
        digits = len(_SPACES.sub("", text))
        return InvalidFrame(
            f"byte {digits // 2}: odd number of hexadecimal digits ({digits})", offset=digits // 2
        )
    offset = len(_SPACES.sub("", text[: bad.start()])) // 2
    return InvalidFrame(
        f"byte {offset}: character {bad.start() + 1} ({bad.group()!r}) is not hexadecimal",
        offset=offset,
    )


_SPACES = re.compile(r"\s+")


def _epoch(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso).timestamp())


# -- routing ------------------------------------------------------------------------------


@dataclass
class _Vehicle:
    """Frames of one vehicle waiting to be put in time order, and its login binding."""

    codes: tuple[str, ...] | None = None
    batteries: list[tuple[int, BatteryAggregator]] = field(default_factory=list)
    pending: list[tuple[int, int, int, Any]] = field(default_factory=list)
    newest: int | None = None
    last_data: int | None = None


class UsageAggregator:
    """Streaming aggregation of GB/T 32960.3 frames into per-battery usage aggregates.

    Feed frames with :meth:`add` (parsed) or :meth:`add_hex` in the order they were
    received; frames of one vehicle are put in collection-time order within
    ``reorder_window_s``. Memory is bounded by the number of vehicles and batteries and
    the reorder window, not by the length of the stream.

    :param params: limits and thresholds.
    :param only: aggregate this battery code only (frames of other batteries are
        routed and dropped).
    """

    def __init__(self, params: Parameters, *, only: str | None = None) -> None:
        self.params = params
        self.only = only
        self._vehicles: dict[str, _Vehicle] = {}
        self._batteries: dict[str, BatteryAggregator] = {}
        self._sequence = 0
        self.counts = {
            "frames": 0,
            "data_frames": 0,
            "reissued_frames": 0,
            "duplicates": 0,
            "late": 0,
            "unbound": 0,
            "undecoded": 0,
            "ignored": 0,
            "rejected": 0,
        }

    def add(self, frame: Frame) -> None:
        """Take one parsed frame.

        Frames whose data unit was not decoded (encrypted, 2025 revision) and commands
        without battery data (heartbeat, time calibration, platform login) are counted
        and skipped.
        """
        counts = self.counts
        counts["frames"] += 1
        data = frame.data
        if data is None:
            counts["undecoded"] += 1
            return
        command = frame.command
        if command in (0x02, 0x03):
            counts["data_frames"] += 1
            if command == 0x03:
                counts["reissued_frames"] += 1
            self._queue(
                frame.vin, _epoch(data["collection_time"]), _DATA, _reading(data["info_units"])
            )
        elif command == 0x01:
            self._queue(
                frame.vin, _epoch(data["collection_time"]), _LOGIN, tuple(data["ress_codes"])
            )
        elif command == 0x04:
            self._queue(frame.vin, _epoch(data["logout_time"]), _LOGOUT, None)
        else:
            counts["ignored"] += 1

    def add_hex(self, line: str | bytes) -> None:
        """Take one frame written as hexadecimal (spaces allowed).

        :raises InvalidFrame: not hexadecimal, or a frame the parser refuses; ``offset``
            is the byte at fault inside the frame.
        """
        text = line.decode("latin-1") if isinstance(line, bytes) else line
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise _not_hex(text) from None
        self.add(parse_frame(raw))

    def reject(self) -> None:
        """Count a frame the caller could not read and skipped."""
        self.counts["frames"] += 1
        self.counts["rejected"] += 1

    def _queue(self, vin: str, time: int, kind: int, payload: Any) -> None:
        vehicle = self._vehicles.get(vin)
        if vehicle is None:
            vehicle = self._vehicles[vin] = _Vehicle()
        if vehicle.last_data is not None and time < vehicle.last_data:
            self.counts["late"] += 1
            return
        self._sequence += 1
        heapq.heappush(vehicle.pending, (time, kind, self._sequence, payload))
        if vehicle.newest is None or time > vehicle.newest:
            vehicle.newest = time
        horizon = vehicle.newest - self.params.reorder_window_s
        while vehicle.pending and vehicle.pending[0][0] <= horizon:
            self._apply(vehicle, heapq.heappop(vehicle.pending))

    def _apply(self, vehicle: _Vehicle, item: tuple[int, int, int, Any]) -> None:
        time, kind, _, payload = item
        if kind == _DATA:
            if vehicle.last_data is not None and time <= vehicle.last_data:
                # A re-issued copy of a frame already used (or an older one released
                # after a newer one): GB/T 32960.3 re-issue repeats the collection time.
                self.counts["duplicates" if time == vehicle.last_data else "late"] += 1
                return
            vehicle.last_data = time
            if vehicle.codes is None:
                self.counts["unbound"] += 1
                return
            alone = len(vehicle.codes) == 1
            for number, battery in vehicle.batteries:
                battery.add(payload.sample(time, number, alone))
            return
        # Login and logout end the sessions of the batteries bound so far.
        for _, battery in vehicle.batteries:
            battery.end_session()
        vehicle.codes = payload if kind == _LOGIN else None
        vehicle.batteries = [
            (number, self._battery(code))
            for number, code in enumerate(vehicle.codes or (), 1)
            if self.only is None or code == self.only
        ]

    def _battery(self, code: str) -> BatteryAggregator:
        battery = self._batteries.get(code)
        if battery is None:
            battery = self._batteries[code] = BatteryAggregator(self.params)
        return battery

    def flush(self) -> None:
        """Apply every frame still waiting in a reorder window (end of the stream)."""
        for vehicle in self._vehicles.values():
            while vehicle.pending:
                self._apply(vehicle, heapq.heappop(vehicle.pending))

    def battery_codes(self) -> list[str]:
        """Codes of the batteries that have aggregates so far."""
        self.flush()
        return sorted(self._batteries)

    def result(self, battery_code: str) -> UsageAggregate:
        """The aggregates of one battery; ends the stream (call after the last frame).

        A battery never seen gets an empty ``usage`` block.
        """
        self.flush()
        battery = self._batteries.get(battery_code) or BatteryAggregator(self.params)
        aggregate = battery.result(battery_code)
        # Stream-wide counts say how much input was usable; they name no vehicle.
        aggregate.statistics["frames"] = dict(self.counts)
        return aggregate

    def results(self) -> dict[str, UsageAggregate]:
        """The aggregates of every battery seen, by code."""
        return {code: self.result(code) for code in self.battery_codes()}


def aggregate_frames(
    lines: Iterable[str | bytes],
    *,
    battery_code: str,
    rated_capacity_ah: float | None = None,
    temp_min: float | None = None,
    temp_max: float | None = None,
    on_bad: Callable[[BadFrame], None] | None = None,
    **thresholds: Any,
) -> UsageAggregate:
    """Aggregate hex frame lines (one frame per line) for one battery.

    Blank lines and lines starting with ``#`` are skipped.

    :param lines: the frames as hexadecimal text, one per item, in the order received.
    :param battery_code: the GB/T 34014 code whose aggregates to return.
    :param rated_capacity_ah: rated capacity, for equivalent full cycles.
    :param temp_min: lower operating temperature limit in °C.
    :param temp_max: upper operating temperature limit in °C.
    :param on_bad: called with each bad line, which is then skipped; without it the
        first bad line raises. For ``bytes`` items read from a binary file with their
        line ends, the :class:`BadFrame` also gives the line's byte offset in the input.
    :param thresholds: further :class:`Parameters` fields (``deep_discharge_soc``,
        ``pack_min_voltage``, ``max_interval_s`` ...).
    :returns: the battery's aggregates.
    :raises InvalidFrame: a bad line and no ``on_bad``; the message names the line and
        the byte offset in the frame.
    :raises InvalidInput: inconsistent parameters (the pointer names the parameter).
    """
    params = Parameters(
        temp_min=temp_min, temp_max=temp_max, rated_capacity_ah=rated_capacity_ah, **thresholds
    )
    aggregator = UsageAggregator(params, only=battery_code)
    consumed = 0
    for number, line in enumerate(lines, start=1):
        start = consumed if isinstance(line, bytes) else None
        consumed += len(line)
        text = line.strip()
        if not text or text[:1] in ("#", b"#"):
            continue
        try:
            aggregator.add_hex(text)
        except InvalidFrame as exc:
            offset = exc.extensions.get("offset")
            bad = BadFrame(number, offset if isinstance(offset, int) else None, exc.detail, start)
            if on_bad is None:
                raise InvalidFrame(
                    f"line {number}: {exc.detail}",
                    pointer=f"/lines/{number}",
                    line=number,
                    offset=bad.offset,
                ) from None
            aggregator.reject()
            on_bad(bad)
    return aggregator.result(battery_code)
