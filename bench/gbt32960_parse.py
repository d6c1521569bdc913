"""How fast GB/T 32960.3 real-time frames parse, as ratios to simple baselines.

Run: .venv/bin/python bench/gbt32960_parse.py
Prints frames per second for the reference real-time frame and for a frame with 200
cell voltages, the cost of a parse relative to a bare ``bytes.fromhex`` + ``struct``
header read, and the BCC fold relative to ``functools.reduce(operator.xor, ...)``.
"""

from __future__ import annotations

import json
import struct
import timeit
from functools import reduce
from operator import xor

from interpreter import described

from gateway.codes.gbt32960 import bcc, iter_frames, parse_frame
from gateway.paths import FIXTURES_DIR

VECTORS = json.loads(
    (FIXTURES_DIR / "reference" / "cn" / "gbt32960_2016_vectors.json").read_text(encoding="utf-8")
)
REALTIME = bytes.fromhex(
    next(f["hex"] for f in VECTORS["frames"] if f["id"] == "own-realtime-2016")
)


def frame(command: int, data: bytes) -> bytes:
    body = bytes([command, 0xFE]) + b"LNBSCTEST00000001" + b"\x01" + struct.pack(">H", len(data))
    body += data
    return b"##" + body + bytes([reduce(xor, body, 0)])


def big_frame() -> bytes:
    cells = struct.pack(">200H", *range(3300, 3500))
    unit8 = bytes([0x08, 1, 1]) + struct.pack(">HHHHB", 3500, 10_000, 200, 1, 200) + cells
    unit9 = bytes([0x09, 1, 1]) + struct.pack(">H", 64) + bytes(range(60, 124))
    vehicle = bytes.fromhex("01010301025800 01E240009226165001 2E13881400".replace(" ", ""))
    return frame(0x02, bytes([25, 3, 15, 8, 30, 10]) + vehicle + unit8 + unit9)


def rate(func, number: int) -> float:
    best = min(timeit.repeat(func, number=number, repeat=5))
    return number / best


def main() -> None:
    print(described())
    big = big_frame()
    header = struct.Struct(">2sBB17sBH")
    baseline = rate(lambda: header.unpack_from(REALTIME), 20_000)
    small = rate(lambda: parse_frame(REALTIME), 20_000)
    large = rate(lambda: parse_frame(big), 5_000)
    stream = big * 1000
    streamed = rate(lambda: sum(1 for _ in iter_frames(stream)), 3) * 1000
    fold = rate(lambda: bcc(big), 20_000)
    loop = rate(lambda: reduce(xor, big, 0), 20_000)
    print(
        f"reference real-time frame ({len(REALTIME)} B): {small:,.0f} frames/s "
        f"(header-only struct read is {baseline / small:.1f}x faster)"
    )
    print(
        f"200-cell real-time frame ({len(big)} B): {large:,.0f} frames/s; "
        f"streamed {streamed:,.0f} frames/s"
    )
    print(f"BCC fold vs reduce(xor): {fold / loop:.1f}x faster on {len(big)} B")


if __name__ == "__main__":
    main()
