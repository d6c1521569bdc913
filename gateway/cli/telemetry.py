"""``gateway telemetry``: read GB/T 32960.3 frames."""

from __future__ import annotations

import json

import click

from gateway.errors import GatewayError

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
