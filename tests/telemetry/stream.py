"""A synthetic four-hour GB/T 32960.3 stream of two vehicles, and what it must yield.

Vehicle A (battery CODE_A) drives, runs hot with alarms, drops to a deep discharge,
goes silent for half an hour, charges in the cold, charges hot with an over-charge
alarm, and rests. Every phase holds constant values and reports every 10 s, so each
aggregate follows from the phase table by hand (``expected_a``), without the
aggregator's code. Vehicle B (CODE_B) discharges steadily alongside; vehicle C never
logs in. The stream also carries a frame with invalid markers, a re-issued copy of a
frame, a re-issued frame arriving late, a heartbeat and a corrupted frame.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gateway.codes.gbt32960 import BEIJING
from gateway.telemetry import gbt32960_encode as enc

VIN_A = "LNBSCTEST00000001"
VIN_B = "LSVAB2BC7NA000042"
VIN_C = "LFV3A23C0P3000777"
CODE_A = "4A6PCPM27KLPCLE742946319"
CODE_B = "4A6PCPM27KLPCLE7C2946777"
START = dt.datetime(2025, 6, 1, 8, 0, 0, tzinfo=BEIJING)
STEP = 10
GAP_S = 1800
RATED_AH = 100
TEMP_MIN, TEMP_MAX = -20, 45


@dataclass(frozen=True)
class Phase:
    samples: int
    soc: int
    charging: str
    voltage: float
    current: float  # positive: discharge
    temp_max: int
    temp_min: int
    alarm_level: int = 0
    alarms: tuple[str, ...] = ()


# Vehicle A; P2 is split so that its alarm level rises from 2 to 3 part-way.
PHASES_A = [
    Phase(360, 60, "not charging", 360, 50, 30, 25),  # P1 drive
    Phase(120, 40, "not charging", 350, 80, 50, 30, 2, ("battery_high_temperature",)),
    Phase(
        60, 40, "not charging", 350, 80, 50, 30, 3, ("battery_high_temperature", "insulation")
    ),  # P2 hot
    Phase(60, 4, "not charging", 300, 20, 30, 20, 1, ("soc_low",)),  # P3 deep
    # -- a GAP_S silence here --
    Phase(360, 30, "parked charging", 380, -100, 10, -25),  # P4 cold
    Phase(150, 85, "parked charging", 400, -60, 47, 30),  # P5 hot
    Phase(30, 85, "parked charging", 400, -60, 47, 30, 2, ("ress_overcharge",)),
    Phase(180, 95, "charge complete", 405, 0, 25, 22),  # P6 rest
]
GAP_AFTER = 3  # index of the phase the silence follows
INVALID_SAMPLE = 100  # sample of P1 sent with invalid markers for SOC, V, I, temperatures
LATE_SAMPLE = 200  # sample of P1 sent three samples late, as a re-issued frame
DUPLICATE_SAMPLE = 1000  # sample of vehicle A also re-sent as a 0x03 copy right after


def _units(phase: Phase, invalid: bool = False) -> list[bytes]:
    if invalid:
        return [
            enc.vehicle_unit(soc=None, voltage=None, current=None, charging=None),
            enc.extreme_unit(max_temp=None, min_temp=None),
            enc.alarm_unit(phase.alarm_level, phase.alarms),
        ]
    return [
        enc.vehicle_unit(
            soc=phase.soc, voltage=phase.voltage, current=phase.current, charging=phase.charging
        ),
        enc.extreme_unit(max_temp=phase.temp_max, min_temp=phase.temp_min),
        enc.alarm_unit(phase.alarm_level, phase.alarms),
    ]


def vehicle_a() -> list[tuple[dt.datetime, int, bytes]]:
    """(time, order, frame) of vehicle A, login first."""
    frames = [(START, 0, enc.login(VIN_A, START, [CODE_A]))]
    moment = START
    index = 0
    for number, phase in enumerate(PHASES_A):
        for _ in range(phase.samples):
            frame = enc.realtime(VIN_A, moment, _units(phase, index == INVALID_SAMPLE))
            order = 1
            if index == LATE_SAMPLE:
                # Received after three later frames, re-issued (0x03).
                frame = enc.realtime(VIN_A, moment, _units(phase), reissued=True)
                frames.append((moment + dt.timedelta(seconds=3 * STEP), 2, frame))
            else:
                frames.append((moment, order, frame))
            if index == DUPLICATE_SAMPLE:
                frames.append(
                    (moment, 2, enc.realtime(VIN_A, moment, _units(phase), reissued=True))
                )
            moment += dt.timedelta(seconds=STEP)
            index += 1
        if number == GAP_AFTER:
            moment += dt.timedelta(seconds=GAP_S)
    return frames


B_SAMPLES = 360


def vehicle_b() -> list[tuple[dt.datetime, int, bytes]]:
    begin = START + dt.timedelta(seconds=5)
    frames = [(begin, 0, enc.login(VIN_B, begin, [CODE_B]))]
    for i in range(B_SAMPLES):
        moment = begin + dt.timedelta(seconds=STEP * i)
        frames.append(
            (
                moment,
                1,
                enc.realtime(
                    VIN_B,
                    moment,
                    [
                        enc.vehicle_unit(soc=70, voltage=300, current=10, charging="not charging"),
                        enc.extreme_unit(max_temp=20, min_temp=18),
                        enc.alarm_unit(0),
                    ],
                ),
            )
        )
    return frames


def vehicle_c() -> list[tuple[dt.datetime, int, bytes]]:
    # Never logs in: its frames cannot be attributed to any battery.
    moments = [START + dt.timedelta(seconds=7 + STEP * i) for i in range(5)]
    return [
        (
            moment,
            1,
            enc.realtime(VIN_C, moment, [enc.vehicle_unit(soc=20, voltage=200, current=30)]),
        )
        for moment in moments
    ]


def corrupt(frame: bytes) -> bytes:
    return frame[:-1] + bytes([frame[-1] ^ 0xFF])


@dataclass(frozen=True)
class Stream:
    lines: list[str]
    bad_line: int  # 1-based line number of the corrupted frame


def build_stream() -> Stream:
    frames = vehicle_a() + vehicle_b() + vehicle_c()
    frames.sort(key=lambda item: (item[0], item[1]))
    lines = [frame.hex().upper() for _, _, frame in frames]
    # A heartbeat and a corrupted copy of a frame in the middle of the stream.
    middle = len(lines) // 2
    lines.insert(middle, enc.frame(0x07, VIN_A, b"").hex())
    lines.insert(middle + 1, corrupt(bytes.fromhex(lines[middle + 2])).hex())
    return Stream(lines, middle + 2)


def expected_a() -> dict:
    """Vehicle A's aggregates, from the phase table alone.

    Each sample holds for STEP seconds, except the last sample before the silence and
    the very last sample (no next sample within the interval), and the invalid sample
    (its SOC, V, I and temperatures are unknown for its STEP).
    """
    held = []  # seconds each phase's values are integrated over
    for number, phase in enumerate(PHASES_A):
        seconds = phase.samples * STEP
        if number in (GAP_AFTER, len(PHASES_A) - 1):
            seconds -= STEP
        held.append(seconds)
    held_values = list(held)
    held_values[0] -= STEP  # the invalid sample lies in P1
    charge_ws = sum(
        p.voltage * -p.current * s
        for p, s in zip(PHASES_A, held_values, strict=True)
        if p.current < 0
    )
    discharge_ws = sum(
        p.voltage * p.current * s
        for p, s in zip(PHASES_A, held_values, strict=True)
        if p.current > 0
    )
    charge_as = sum(
        -p.current * s for p, s in zip(PHASES_A, held_values, strict=True) if p.current < 0
    )
    discharge_as = sum(
        p.current * s for p, s in zip(PHASES_A, held_values, strict=True) if p.current > 0
    )
    soc_s = sum(held_values)
    soc_mean = sum(p.soc * s for p, s in zip(PHASES_A, held_values, strict=True)) / soc_s
    bands: dict[str, int] = {}
    for p, s in zip(PHASES_A, held_values, strict=True):
        low = min(p.soc // 10 * 10, 90)
        key = f"{low}-{low + 10}"
        bands[key] = bands.get(key, 0) + s
    charging = [p.charging == "parked charging" for p in PHASES_A]
    above = sum(s for p, s in zip(PHASES_A, held_values, strict=True) if p.temp_max > TEMP_MAX)
    below = sum(s for p, s in zip(PHASES_A, held_values, strict=True) if p.temp_min < TEMP_MIN)
    charging_above = sum(
        s
        for p, s, c in zip(PHASES_A, held_values, charging, strict=True)
        if c and p.temp_max > TEMP_MAX
    )
    charging_below = sum(
        s
        for p, s, c in zip(PHASES_A, held_values, charging, strict=True)
        if c and p.temp_min < TEMP_MIN
    )
    p2_start = START + dt.timedelta(seconds=STEP * PHASES_A[0].samples)
    insulation_start = p2_start + dt.timedelta(seconds=STEP * PHASES_A[1].samples)
    samples = sum(p.samples for p in PHASES_A)
    last = START + dt.timedelta(seconds=STEP * (samples - 1) + GAP_S)
    return {
        "samples": samples,
        "observed_s": sum(held),
        "gap_s": GAP_S + STEP,
        "charge_kwh": charge_ws / 3.6e6,
        "discharge_kwh": discharge_ws / 3.6e6,
        "charge_ah": charge_as / 3600,
        "discharge_ah": discharge_as / 3600,
        "soc_min": min(p.soc for p in PHASES_A),
        "soc_max": max(p.soc for p in PHASES_A),
        "soc_last": PHASES_A[-1].soc,
        "soc_mean": soc_mean,
        "soc_bands": {k: v / soc_s for k, v in bands.items()},
        "charging_s": sum(s for s, c in zip(held, charging, strict=True) if c),
        "above_min": round(above / 60),
        "below_min": round(below / 60),
        "charging_above_min": round(charging_above / 60),
        "charging_below_min": round(charging_below / 60),
        "level3": [
            {"type": "battery_high_temperature", "level": 3, "time": p2_start.isoformat()},
            {"type": "insulation", "level": 3, "time": insulation_start.isoformat()},
        ],
        "alarm_events": {
            ("battery_high_temperature", 3): 1,
            ("insulation", 3): 1,
            ("soc_low", 1): 1,
            ("ress_overcharge", 2): 1,
        },
        "as_of": last.date().isoformat(),
        "end": last.isoformat(),
        # The invalid sample reports no temperature; every other reports its phase's.
        "temperature": {
            "min": min(p.temp_min for p in PHASES_A),
            "max": max(p.temp_max for p in PHASES_A),
            "since": START.date().isoformat(),
            "as_of": last.date().isoformat(),
        },
    }
