"""``gateway telemetry``: read GB/T 32960.3 frames and aggregate them per battery."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from gateway.errors import GatewayError

if TYPE_CHECKING:
    from gateway.telemetry import BadFrame

EXIT_INVALID = 2


@click.group()
def telemetry() -> None:
    """GB/T 32960.3 remote-monitoring frames."""


@telemetry.command()
@click.argument("hex_frames", metavar="HEX", nargs=-1, required=True)
def decode(hex_frames: tuple[str, ...]) -> None:
    """Decode each HEX string (one frame, or frames back to back; spaces allowed) and
    print every frame as one JSON object per line.

    A bad frame prints one line on stderr naming the byte offset, and the exit status
    is 2; the other arguments are still decoded.
    """
    from gateway.codes.gbt32960 import iter_frames

    refused = False
    for index, text in enumerate(hex_frames, start=1):
        try:
            data = bytes.fromhex(text)
        except ValueError as exc:
            refused = True
            click.echo(f"argument {index}: not hexadecimal: {exc}", err=True)
            continue
        try:
            for frame in iter_frames(data):
                click.echo(json.dumps(frame.as_dict(), ensure_ascii=False))
        except GatewayError as exc:
            refused = True
            click.echo(f"argument {index}: {exc.detail}", err=True)
    if refused:
        raise SystemExit(EXIT_INVALID)


# Exit status when bad frames were skipped without --skip-bad.
EXIT_BAD_FRAMES = 1


@telemetry.command()
@click.argument(
    "frames_file", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path)
)
@click.option(
    "--battery",
    "battery_code",
    metavar="CODE",
    help="GB/T 34014 pack code to aggregate (default: the record's battery code).",
)
@click.option(
    "--record",
    "record_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="National record (JSON or XML): its specs give the limits, and the "
    "aggregates are merged into it and the record is printed.",
)
@click.option(
    "--rated-capacity",
    type=float,
    metavar="AH",
    help="Rated capacity in Ah, for equivalent full cycles (default: the record's).",
)
@click.option(
    "--temp-min",
    type=float,
    metavar="C",
    help="Lower operating temperature limit (default: the record's).",
)
@click.option(
    "--temp-max",
    type=float,
    metavar="C",
    help="Upper operating temperature limit (default: the record's).",
)
@click.option(
    "--deep-discharge-soc",
    type=float,
    metavar="PCT",
    help="SOC at or below which a deep-discharge event starts (default 5).",
)
@click.option(
    "--max-interval",
    type=click.IntRange(min=1),
    metavar="S",
    help="Longest interval between samples that is integrated (default 60 s).",
)
@click.option(
    "--reorder-window",
    type=click.IntRange(min=0),
    metavar="S",
    help="How far back late (re-issued) frames are put in order (default 300 s).",
)
@click.option("--skip-bad", is_flag=True, help="Exit 0 even if bad frames were skipped.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the aggregates, statistics and method as JSON."
)
def aggregate(
    frames_file: Path,
    battery_code: str | None,
    record_path: Path | None,
    rated_capacity: float | None,
    temp_min: float | None,
    temp_max: float | None,
    deep_discharge_soc: float | None,
    max_interval: int | None,
    reorder_window: int | None,
    skip_bad: bool,
    as_json: bool,
) -> None:
    """Aggregate the GB/T 32960.3 frames in FRAMES_FILE (one hex frame per line, '-' for
    stdin) into the usage block of one battery.

    Frames are routed to batteries by the pack codes of each vehicle's login; the VIN
    and positions never reach the output. The file is streamed: memory does not grow
    with its length. A bad frame prints its line number and byte offset on stderr and
    is skipped; the exit status is then 1 unless --skip-bad. With --record the merged
    record is printed (the record's own usage values win).
    """
    from gateway.codes.gbt34014 import decode as decode_code
    from gateway.records.reader import read_record_file
    from gateway.telemetry import aggregate_frames, merge_usage, parameters_from_record

    record = None
    try:
        if record_path is not None:
            record = read_record_file(record_path)
            battery_code = battery_code or record["battery"]["code"]
            if battery_code != record["battery"]["code"]:
                raise click.ClickException(
                    f"--battery {battery_code} is not the record's battery "
                    f"{record['battery']['code']}"
                )
        if battery_code is None:
            raise click.UsageError("give --battery CODE or --record RECORD")
        decode_code(battery_code)
        options = {
            "temp_min": temp_min,
            "temp_max": temp_max,
            "rated_capacity_ah": rated_capacity,
            "deep_discharge_soc": deep_discharge_soc,
            "max_interval_s": max_interval,
            "reorder_window_s": reorder_window,
        }
        params = parameters_from_record(record or {}, **options)
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc

    bad: list[int] = []

    def report(frame: BadFrame) -> None:
        bad.append(frame.line)
        click.echo(f"{frames_file}: {frame.describe()}", err=True)

    with click.open_file(str(frames_file), "rb") as stream:
        result = aggregate_frames(
            stream, battery_code=battery_code, on_bad=report, **dataclasses.asdict(params)
        )
    if not result.statistics["samples"]:
        click.echo(
            f"{frames_file}: no data frames for battery {battery_code} (no vehicle login named it)",
            err=True,
        )
    if bad:
        click.echo(f"{frames_file}: {len(bad)} bad frame(s) skipped", err=True)

    if record is not None:
        try:
            merged = merge_usage(record, result)
        except GatewayError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(json.dumps(merged, ensure_ascii=False, indent=2))
    elif as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(_summary(result.as_dict()))
    if bad and not skip_bad:
        raise SystemExit(EXIT_BAD_FRAMES)


def _summary(result: dict[str, Any]) -> str:
    usage, stats = result["usage"], result["statistics"]
    lines = [
        f"battery {result['battery_code']}  "
        f"{stats['period']['start']} .. {stats['period']['end']}  "
        f"{stats['samples']} samples, {stats['gaps']['count']} gap(s)"
    ]
    for key, value in usage.items():
        if key == "alarms":
            for alarm in value:
                lines.append(f"  alarm  level {alarm['level']} {alarm['type']} at {alarm['time']}")
            continue
        if key == "temperature":
            value = (
                f"{value.get('min')} .. {value.get('max')} °C "
                f"({value.get('since')} .. {value['as_of']})"
            )
        elif isinstance(value, dict):
            value = f"{value['value']} {value['unit']}"
        lines.append(f"  {key:<40} {value}")
    soc = stats["soc_pct"]
    lines.append(f"  {'soc min / mean / max (%)':<40} {soc['min']} / {soc['mean']} / {soc['max']}")
    lines.append("  soh                                      not derivable from GB/T 32960")
    return "\n".join(lines)
