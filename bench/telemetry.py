"""How fast GB/T 32960.3 streams aggregate into per-battery usage, against parsing alone.

Run: .venv/bin/python bench/telemetry.py [FRAMES]
Generates a stream of FRAMES real-time frames (default 200,000) from 20 vehicles, each
with its login, vehicle data, extreme values and alarm units, as hex lines. Prints, in
one run (best of three each), the parse-only rate (hex decode + ``parse_frame``), the
parse + aggregate rate (``aggregate_frames`` for one battery, and the aggregator over
every battery), their ratio, and the peak RSS (Linux VmHWM) of
``gateway telemetry aggregate`` streaming the stream from a file, beside its peak on a
tenth of it (flat memory: the two should be close).
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from interpreter import described

from gateway.codes.gbt32960 import BEIJING, parse_frame
from gateway.telemetry import Parameters, UsageAggregator, aggregate_frames
from gateway.telemetry import gbt32960_encode as enc

VEHICLES = 20


def vins_and_codes() -> list[tuple[str, str]]:
    return [(f"LNBSCTEST{n:08d}", f"4A6PCPM27KLPCLE74{n:07d}") for n in range(VEHICLES)]


def stream(frames: int) -> list[str]:
    """Hex lines: a login per vehicle, then frames every 10 s from each in turn."""
    start = dt.datetime(2025, 6, 1, tzinfo=BEIJING)
    fleet = vins_and_codes()
    lines = [enc.login(vin, start, [code]).hex() for vin, code in fleet]
    for i in range(frames):
        vin, _ = fleet[i % VEHICLES]
        step = i // VEHICLES
        moment = start + dt.timedelta(seconds=10 * step)
        phase = step // 360 % 4  # drive, hot drive, charge, rest: an hour each
        lines.append(
            enc.realtime(
                vin,
                moment,
                [
                    enc.vehicle_unit(
                        soc=20 + step % 70,
                        voltage=360 + phase,
                        current=(-80 if phase == 2 else 40 if phase < 2 else 0),
                        charging="parked charging" if phase == 2 else "not charging",
                    ),
                    enc.extreme_unit(max_temp=50 if phase == 1 else 30, min_temp=15),
                    enc.alarm_unit(
                        3 if phase == 1 else 0, ["battery_high_temperature"] if phase == 1 else []
                    ),
                ],
            ).hex()
        )
    return lines


def best_times(*funcs, repeat: int = 3) -> list[float]:
    """Best of ``repeat`` runs of each, the runs interleaved: the machine's other load
    only ever adds time, and drifts over a run."""
    best = [float("inf")] * len(funcs)
    for _ in range(repeat):
        for index, func in enumerate(funcs):
            begin = time.perf_counter()
            func()
            best[index] = min(best[index], time.perf_counter() - begin)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "frames",
        nargs="?",
        type=int,
        default=200_000,
        help="frames in the generated stream (default 200000)",
    )
    frames = parser.parse_args().frames
    print(described())
    lines = stream(frames)
    total = len(lines)
    _, target = vins_and_codes()[0]
    params = Parameters(temp_min=-20, temp_max=45, rated_capacity_ah=150)

    def parse_only() -> None:
        for line in lines:
            parse_frame(bytes.fromhex(line))

    def aggregate_one() -> None:
        aggregate_frames(
            lines, battery_code=target, rated_capacity_ah=150, temp_min=-20, temp_max=45
        )

    def aggregate_all() -> None:
        aggregator = UsageAggregator(params)
        for line in lines:
            aggregator.add_hex(line)
        aggregator.results()

    parse_s, one_s, all_s = best_times(parse_only, aggregate_one, aggregate_all)
    print(
        f"stream: {total:,} frames ({VEHICLES} vehicles, {frames // VEHICLES * 10 / 3600:.0f} "
        "h each, 10 s cadence)"
    )
    print(f"parse only:                    {total / parse_s:>10,.0f} frames/s")
    print(
        f"parse + aggregate one battery: {total / one_s:>10,.0f} frames/s "
        f"(aggregation costs {one_s / parse_s:.2f}x parse-only time)"
    )
    print(
        f"parse + aggregate all {VEHICLES}:     {total / all_s:>10,.0f} frames/s "
        f"({all_s / parse_s:.2f}x parse-only time)"
    )
    with tempfile.TemporaryDirectory() as folder:
        small = cli_run(Path(folder) / "small.hex", lines[: total // 10], target)
        full = cli_run(Path(folder) / "full.hex", lines, target)
    print(
        f"gateway telemetry aggregate, streaming a file: {full[0]:,.0f} frames/s; "
        f"peak RSS {full[1]:,.0f} MiB on {total:,} frames, {small[1]:,.0f} MiB on "
        f"{total // 10:,}"
    )


def cli_run(path: Path, lines: list[str], target: str) -> tuple[float, float]:
    """Frames/s and peak RSS (MiB) of the CLI over ``lines`` written to ``path``, run in
    a fresh process so that its peak is its own."""
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    # VmHWM is the child's own peak; ru_maxrss would carry the parent's over exec.
    script = (
        "import sys; from gateway.cli import main; "
        "sys.argv = ['gateway'] + sys.argv[1:]\n"
        "try:\n    main()\nfinally:\n"
        "    status = open('/proc/self/status').read().split('VmHWM:')[1]\n"
        "    print(status.split()[0], file=sys.stderr)"
    )
    begin = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            "telemetry",
            "aggregate",
            str(path),
            "--battery",
            target,
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - begin
    # VmHWM is in KiB.
    return len(lines) / elapsed, int(done.stderr.split()[-1]) / 1024


if __name__ == "__main__":
    main()
