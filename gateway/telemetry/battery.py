"""One battery's usage aggregates: counters and integrals over its samples.

A sample is what one real-time frame says about one battery (SOC, charging state, pack
voltage and current, temperature extremes, alarms); :mod:`gateway.telemetry.aggregate`
routes the frames of a stream to batteries and turns them into samples. Only counters
and integrals are kept here, never a time series.

Integration: every sample holds until the next sample of the same battery (a left-point
rule); an interval longer than ``max_interval_s`` is a gap and is not integrated, and a
login or logout ends a session, so nothing is integrated across sessions either.
Equivalent full cycles are capacity throughput (charged plus discharged Ah) divided by
twice the rated capacity. SOH has no field in GB/T 32960.3 (2016, nor the 2025 vehicle
record) and is never produced here.

Why one module of some 500 lines: the counters and integrals are fields of one
accumulator that every sample updates together; split, one sample's update would be
spread over modules that must change in step.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, NamedTuple

from gateway.codes.gbt32960 import BEIJING
from gateway.codes.gbt32960_units import ALARM_BITS_2016
from gateway.errors import InvalidInput

#: General alarm flag bits (GB/T 32960.3-2016, bit 0 = LSB) that concern the battery;
#: bits 12-17 (DC-DC, brake, motor, HV interlock) concern other parts of the vehicle.
BATTERY_ALARM_BITS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 18)
#: Under-voltage alarms (RESS, cell) that count as deep discharge.
UNDERVOLTAGE_BITS = (3, 6)
#: Over-voltage alarms (RESS, cell) that count as overcharge while charging.
OVERVOLTAGE_BITS = (2, 5)
#: The RESS over-charge alarm.
OVERCHARGE_BIT = 18

_BATTERY_MASK = sum(1 << bit for bit in BATTERY_ALARM_BITS)
_UNDERVOLTAGE_MASK = sum(1 << bit for bit in UNDERVOLTAGE_BITS)
_OVERVOLTAGE_MASK = sum(1 << bit for bit in OVERVOLTAGE_BITS)
_OVERCHARGE_MASK = 1 << OVERCHARGE_BIT
_SECONDS_PER_HOUR = 3600
_WS_PER_KWH = 3_600_000


@dataclass(frozen=True)
class Parameters:
    """What the aggregation needs to know about the battery, and its thresholds.

    :raises InvalidInput: inconsistent or non-finite values (the pointer names the field).

    :ivar temp_min: lower operating temperature limit, °C (``specs.temperature_range``);
        None: no below-limit exposure is computed.
    :ivar temp_max: upper operating temperature limit, °C; None: no above-limit exposure.
    :ivar rated_capacity_ah: rated capacity (``specs.rated_capacity``); None: no cycles.
    :ivar pack_min_voltage: pack voltage below which the battery is deeply discharged
        (``specs.min_voltage``); None: not used.
    :ivar pack_max_voltage: pack voltage above which it is overcharged
        (``specs.max_voltage``); None: not used.
    :ivar deep_discharge_soc: SOC (%) at or below which the battery is deeply discharged.
    :ivar max_interval_s: longest interval between two samples that is integrated.
    :ivar reorder_window_s: how far back (s) a late frame of a vehicle, typically a
        re-issued 0x03 frame, is still put in time order; older ones are counted as late.
    :ivar soc_bands: band edges in %, ascending, from 0 to 100.
    :ivar discharge_positive: the sign of the total current: positive when discharging.
    """

    temp_min: float | None = None
    temp_max: float | None = None
    rated_capacity_ah: float | None = None
    pack_min_voltage: float | None = None
    pack_max_voltage: float | None = None
    deep_discharge_soc: float = 5
    max_interval_s: int = 60
    reorder_window_s: int = 300
    soc_bands: tuple[int, ...] = (0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100)
    discharge_positive: bool = True

    def __post_init__(self) -> None:
        bands = self.soc_bands
        if len(bands) < 2 or bands[0] != 0 or bands[-1] != 100 or list(bands) != sorted(set(bands)):
            raise InvalidInput(
                f"soc_bands {list(bands)} must rise strictly from 0 to 100", pointer="/soc_bands"
            )
        if (
            self.temp_min is not None
            and self.temp_max is not None
            and self.temp_min > self.temp_max
        ):
            raise InvalidInput(
                f"temp_min {self.temp_min} is above temp_max {self.temp_max}", pointer="/temp_min"
            )
        if self.max_interval_s <= 0:
            raise InvalidInput("max_interval_s must be positive", pointer="/max_interval_s")
        if self.reorder_window_s < 0:
            raise InvalidInput("reorder_window_s must not be negative", pointer="/reorder_window_s")
        if self.rated_capacity_ah is not None and self.rated_capacity_ah <= 0:
            raise InvalidInput("rated_capacity_ah must be positive", pointer="/rated_capacity_ah")
        for name in (
            "temp_min",
            "temp_max",
            "rated_capacity_ah",
            "pack_min_voltage",
            "pack_max_voltage",
            "deep_discharge_soc",
        ):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise InvalidInput(f"{name} must be a finite number", pointer=f"/{name}")

    def method(self) -> dict[str, Any]:
        """The methods and thresholds, as stated in every result."""
        return {
            "source": "GB/T 32960.3-2016 real-time (0x02) and re-issued (0x03) data",
            "integration": (
                "left-point: each sample holds until the next sample of the same battery; "
                f"intervals longer than {self.max_interval_s} s are gaps and are not "
                "integrated; nothing is integrated across a login or logout"
            ),
            "energy_throughput": (
                "integral of total voltage x total current over time, charged plus "
                "discharged energy (separately in statistics)"
            ),
            "capacity_throughput": "integral of |total current| over time, charged plus "
            "discharged Ah (separately in statistics)",
            "current_sign": (
                "positive total current = discharge"
                if self.discharge_positive
                else "positive total current = charge"
            ),
            "cycles": (
                "equivalent full cycles = capacity throughput / (2 x rated capacity "
                f"{_num(self.rated_capacity_ah)} Ah), rounded down"
            )
            if self.rated_capacity_ah
            else "not computed: rated capacity unknown",
            "temperature": (
                "minutes with the maximum probe temperature above "
                f"{_num(self.temp_max)} °C / the minimum probe temperature below "
                f"{_num(self.temp_min)} °C (the battery's operating limits), overall and "
                "while the charging status is parked or driving charging; rounded to the "
                "nearest minute; usage.temperature: the lowest minimum and the highest "
                "maximum probe temperature of every frame fed in, whole °C, with the dates "
                "of the first and the last frame"
            ),
            "deep_discharge": (
                f"an event starts when SOC <= {_num(self.deep_discharge_soc)} %"
                + (
                    f", pack voltage < {_num(self.pack_min_voltage)} V"
                    if self.pack_min_voltage is not None
                    else ""
                )
                + " or an under-voltage alarm (bits 3, 6) is set, and lasts until none is"
            ),
            "overcharge": (
                "an event starts when the RESS over-charge alarm (bit 18) is set"
                + (
                    f", pack voltage > {_num(self.pack_max_voltage)} V"
                    if self.pack_max_voltage is not None
                    else ""
                )
                + " or an over-voltage alarm (bits 2, 5) is set while charging, and lasts "
                "until none is"
            ),
            "alarms": (
                "an alarm event is a run of samples with one battery alarm bit set "
                f"(bits {', '.join(map(str, BATTERY_ALARM_BITS))}); its level is the "
                "highest max alarm level seen during the run; usage.alarms lists the "
                "level-3 events with their start time, statistics count all"
            ),
            "soh": "not derivable from GB/T 32960.3 (no SOH, capacity or resistance field); "
            "left absent unless the record supplies it",
            "thresholds": {
                "temp_min_C": _num(self.temp_min),
                "temp_max_C": _num(self.temp_max),
                "deep_discharge_soc_pct": _num(self.deep_discharge_soc),
                "pack_min_voltage_V": _num(self.pack_min_voltage),
                "pack_max_voltage_V": _num(self.pack_max_voltage),
                "max_interval_s": self.max_interval_s,
                "reorder_window_s": self.reorder_window_s,
            },
        }


@dataclass(frozen=True)
class UsageAggregate:
    """The aggregates of one battery.

    :ivar battery_code: the GB/T 34014 code the aggregates are keyed by.
    :ivar usage: a record ``usage`` block (``UsageSchema`` shape).
    :ivar statistics: what the usage block has no field for (SOC statistics and bands,
        charge and discharge separately, alarm counts, gaps, frames used).
    :ivar method: methods and thresholds (:meth:`Parameters.method`).
    """

    battery_code: str
    usage: dict[str, Any]
    statistics: dict[str, Any]
    method: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "battery_code": self.battery_code,
            "usage": self.usage,
            "statistics": self.statistics,
            "method": self.method,
        }


class Sample(NamedTuple):
    """One battery's readings at one collection time (None: not reported or marked)."""

    time: int
    soc: float | None
    charging: bool | None
    voltage: float | None
    current: float | None
    temp_max: float | None
    temp_min: float | None
    alarm_level: int | None
    alarm_flags: int | None


@dataclass
class _Condition:
    """An event condition (deep discharge, overcharge, one alarm bit) and its counter."""

    active: bool = False
    start: int = 0
    level: int | None = None
    events: int = 0


@dataclass
class BatteryAggregator:
    """Running aggregates of one battery code; constant size but for level-3 alarms."""

    params: Parameters
    last: Sample | None = None
    first_time: int | None = None
    last_time: int | None = None
    samples: int = 0
    observed_s: int = 0
    gaps: int = 0
    gap_s: int = 0
    sessions: int = 0
    soc_last: float | None = None
    soc_min: float | None = None
    soc_max: float | None = None
    soc_s: int = 0
    soc_integral: float = 0.0
    soc_band_s: list[int] = field(default_factory=list)
    charging_s: int = 0
    temp_hi_known_s: int = 0
    temp_lo_known_s: int = 0
    above_s: int = 0
    below_s: int = 0
    charging_above_s: int = 0
    charging_below_s: int = 0
    temp_peak: float | None = None
    temp_low: float | None = None
    vi_s: int = 0
    charge_ws: float = 0.0
    discharge_ws: float = 0.0
    charge_as: float = 0.0
    discharge_as: float = 0.0
    sign_conflict_s: int = 0
    deep: _Condition = field(default_factory=_Condition)
    over: _Condition = field(default_factory=_Condition)
    alarms: dict[int, _Condition] = field(default_factory=dict)
    alarm_counts: dict[tuple[str, int | None], int] = field(default_factory=dict)
    level3: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.soc_band_s = [0] * (len(self.params.soc_bands) - 1)

    # -- feeding ---------------------------------------------------------------------

    def add(self, sample: Sample) -> None:
        last = self.last
        if last is None:
            self.sessions += 1
        else:
            elapsed = sample.time - last.time
            if elapsed <= self.params.max_interval_s:
                self._integrate(last, elapsed)
            else:
                # The state across a gap is unknown: count it and end every open event.
                self.gaps += 1
                self.gap_s += elapsed
                self._close()
        if self.first_time is None:
            self.first_time = sample.time
        self.last_time = sample.time
        self.samples += 1
        soc = sample.soc
        if soc is not None:
            self.soc_last = soc
            self.soc_min = soc if self.soc_min is None else min(self.soc_min, soc)
            self.soc_max = soc if self.soc_max is None else max(self.soc_max, soc)
        if sample.temp_max is not None:
            self.temp_peak = (
                sample.temp_max if self.temp_peak is None else max(self.temp_peak, sample.temp_max)
            )
        if sample.temp_min is not None:
            self.temp_low = (
                sample.temp_min if self.temp_low is None else min(self.temp_low, sample.temp_min)
            )
        self._events(sample)
        self.last = sample

    def end_session(self) -> None:
        if self.last is not None:
            self._close()
        self.last = None

    def _integrate(self, s: Sample, dt_s: int) -> None:
        p = self.params
        self.observed_s += dt_s
        if s.soc is not None:
            self.soc_s += dt_s
            self.soc_integral += s.soc * dt_s
            self.soc_band_s[_band(p.soc_bands, s.soc)] += dt_s
        charging = s.charging is True
        if charging:
            self.charging_s += dt_s
        if p.temp_max is not None and s.temp_max is not None:
            self.temp_hi_known_s += dt_s
            if s.temp_max > p.temp_max:
                self.above_s += dt_s
                if charging:
                    self.charging_above_s += dt_s
        if p.temp_min is not None and s.temp_min is not None:
            self.temp_lo_known_s += dt_s
            if s.temp_min < p.temp_min:
                self.below_s += dt_s
                if charging:
                    self.charging_below_s += dt_s
        if s.voltage is not None and s.current is not None:
            self.vi_s += dt_s
            current = s.current if p.discharge_positive else -s.current
            if current > 0:
                self.discharge_as += current * dt_s
                self.discharge_ws += s.voltage * current * dt_s
                if charging:
                    self.sign_conflict_s += dt_s
            elif current < 0:
                self.charge_as -= current * dt_s
                self.charge_ws -= s.voltage * current * dt_s
                if s.charging is False:
                    self.sign_conflict_s += dt_s

    def _events(self, s: Sample) -> None:
        p = self.params
        flags = s.alarm_flags
        deep = _any(
            None if s.soc is None else s.soc <= p.deep_discharge_soc,
            None
            if s.voltage is None or p.pack_min_voltage is None
            else s.voltage < p.pack_min_voltage,
            None if flags is None else bool(flags & _UNDERVOLTAGE_MASK),
        )
        over = _any(
            None if flags is None else bool(flags & _OVERCHARGE_MASK),
            None
            if s.voltage is None or p.pack_max_voltage is None
            else s.voltage > p.pack_max_voltage,
            None
            if flags is None or s.charging is None
            else s.charging and bool(flags & _OVERVOLTAGE_MASK),
        )
        _step(self.deep, deep, s.time, None)
        _step(self.over, over, s.time, None)
        if flags is None:
            return
        battery = flags & _BATTERY_MASK
        for bit in _set_bits(battery):
            condition = self.alarms.get(bit)
            if condition is None:
                condition = self.alarms[bit] = _Condition()
            _step(condition, True, s.time, s.alarm_level)
        for bit, condition in self.alarms.items():
            if condition.active and not battery >> bit & 1:
                self._close_alarm(bit, condition)

    def _close(self) -> None:
        self.deep.active = False
        self.over.active = False
        for bit, condition in self.alarms.items():
            if condition.active:
                self._close_alarm(bit, condition)

    def _close_alarm(self, bit: int, condition: _Condition) -> None:
        condition.active = False
        name = ALARM_BITS_2016[bit]
        key = (name, condition.level)
        self.alarm_counts[key] = self.alarm_counts.get(key, 0) + 1
        if condition.level == 3:
            self.level3.append({"type": name, "level": 3, "time": _iso(condition.start)})

    # -- results ---------------------------------------------------------------------

    def result(self, code: str) -> UsageAggregate:
        self.end_session()
        p = self.params
        usage: dict[str, Any] = {}
        if self.last_time is not None:
            usage["as_of"] = _local(self.last_time).date().isoformat()
        if self.soc_last is not None:
            usage["soc"] = _dec(self.soc_last, 1)
        throughput_ah = (self.charge_as + self.discharge_as) / _SECONDS_PER_HOUR
        if self.vi_s:
            if p.rated_capacity_ah:
                usage["cycles"] = math.floor(throughput_ah / (2 * p.rated_capacity_ah))
            usage["energy_throughput"] = {
                "value": _dec((self.charge_ws + self.discharge_ws) / _WS_PER_KWH, 3),
                "unit": "kWh",
            }
            usage["capacity_throughput"] = {"value": _dec(throughput_ah, 2), "unit": "Ah"}
        if self.temp_hi_known_s:
            usage["time_above_max_temp_minutes"] = _minutes(self.above_s)
            usage["time_charging_above_max_temp_minutes"] = _minutes(self.charging_above_s)
        if self.temp_lo_known_s:
            usage["time_below_min_temp_minutes"] = _minutes(self.below_s)
            usage["time_charging_below_min_temp_minutes"] = _minutes(self.charging_below_s)
        if self.temp_peak is not None or self.temp_low is not None:
            usage["temperature"] = self._temperature()
        if self.samples:
            usage["deep_discharge_events"] = self.deep.events
            usage["overcharge_events"] = self.over.events
        if self.level3:
            usage["alarms"] = sorted(self.level3, key=lambda a: (a["time"], a["type"]))
        return UsageAggregate(code, usage, self._statistics(throughput_ah), p.method())

    def _temperature(self) -> dict[str, Any]:
        """The lowest and highest probe temperature over the frames fed in (whole °C, as
        GB/T 32960.3 reports them), with the period they cover."""
        out: dict[str, Any] = {}
        if self.temp_low is not None:
            out["min"] = round(self.temp_low)
        if self.temp_peak is not None:
            out["max"] = round(self.temp_peak)
        if self.first_time is not None:
            out["since"] = _local(self.first_time).date().isoformat()
        if self.last_time is not None:
            out["as_of"] = _local(self.last_time).date().isoformat()
        return out

    def _statistics(self, throughput_ah: float) -> dict[str, Any]:
        p = self.params
        bands = p.soc_bands
        stats: dict[str, Any] = {
            "period": {
                "start": None if self.first_time is None else _iso(self.first_time),
                "end": None if self.last_time is None else _iso(self.last_time),
            },
            "samples": self.samples,
            "sessions": self.sessions,
            "observed_seconds": self.observed_s,
            "gaps": {"count": self.gaps, "seconds": self.gap_s},
            "soc_pct": {
                "min": _dec(self.soc_min, 1),
                "max": _dec(self.soc_max, 1),
                "mean": _dec(self.soc_integral / self.soc_s, 2) if self.soc_s else None,
                "time_share": {
                    f"{bands[i]}-{bands[i + 1]}": _dec(seconds / self.soc_s, 4)
                    if self.soc_s
                    else None
                    for i, seconds in enumerate(self.soc_band_s)
                },
            },
            "charging_seconds": self.charging_s,
            "temperature_C": {"max": _dec(self.temp_peak, 0), "min": _dec(self.temp_low, 0)},
            "energy_kwh": {
                "charged": _dec(self.charge_ws / _WS_PER_KWH, 3),
                "discharged": _dec(self.discharge_ws / _WS_PER_KWH, 3),
            },
            "capacity_ah": {
                "charged": _dec(self.charge_as / _SECONDS_PER_HOUR, 2),
                "discharged": _dec(self.discharge_as / _SECONDS_PER_HOUR, 2),
            },
            "equivalent_full_cycles": _dec(throughput_ah / (2 * p.rated_capacity_ah), 2)
            if p.rated_capacity_ah
            else None,
            "current_sign_conflict_seconds": self.sign_conflict_s,
            "alarm_events": [
                {"type": name, "level": level, "count": count}
                for (name, level), count in sorted(
                    self.alarm_counts.items(), key=lambda i: (i[0][0], i[0][1] or -1)
                )
            ],
        }
        return stats


def _any(*conditions: bool | None) -> bool | None:
    """True if any is true; None (unknown) if none is known."""
    known = [c for c in conditions if c is not None]
    return any(known) if known else None


def _step(condition: _Condition, state: bool | None, time: int, level: int | None) -> None:
    # Unknown (every input marked or missing) keeps the condition as it was.
    if state is None:
        return
    if state and not condition.active:
        condition.active = True
        condition.start = time
        condition.level = level
        condition.events += 1
    elif state:
        if level is not None and (condition.level is None or level > condition.level):
            condition.level = level
    else:
        condition.active = False


def _set_bits(value: int) -> Iterator[int]:
    while value:
        lowest = value & -value
        yield lowest.bit_length() - 1
        value ^= lowest


def _band(edges: tuple[int, ...], soc: float) -> int:
    for index in range(len(edges) - 2, -1, -1):
        if soc >= edges[index]:
            return index
    return 0


def _minutes(seconds: int) -> int:
    return (seconds + 30) // 60


def _num(value: float | None) -> str | None:
    if value is None:
        return None
    return _dec(value, 6)


def _dec(value: float | None, places: int) -> str | None:
    """A decimal string (no JSON floats in passports, DESIGN §5), trailing zeros dropped."""
    if value is None:
        return None
    quantum = Decimal(1).scaleb(-places)
    number = Decimal(repr(float(value))).quantize(quantum, ROUND_HALF_EVEN)
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _local(epoch: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, BEIJING)


def _iso(epoch: int) -> str:
    return _local(epoch).isoformat()
