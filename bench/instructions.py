"""Instructions per record of the issuance pipeline, counted by callgrind.

CPU time on a shared VM drifts by tens of per cent within an hour; the number of
instructions a run executes does not depend on the machine's load. This script runs the
pipeline of ``pipeline.py`` (read and validate each NDJSON line, ``issue_many`` with the
store, SQLite) under ``valgrind --tool=callgrind`` twice, both after the same warm-up:
once with no further records and once with ``--records``; the difference divided by
``--records`` is what one more record costs. Both runs go at once, one per core.

It needs valgrind (Debian's ``valgrind`` package), and takes a few minutes: the
interpreter runs some fifty times slower under callgrind. Compare two versions of the
code by running it on each; the making of the records by ``records.py`` is counted
too, the same in both.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from interpreter import described

HERE = Path(__file__).resolve().parent
#: Records issued before the count that matters: loads every module, compiles the
#: mapping, makes the status lists and the gap report templates.
WARM_UP = 64
_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def run_inner(fmt: str, records: int, work: Path) -> None:
    """What runs under callgrind: the warm-up, then ``records`` more, in ``work``."""
    sys.path.insert(0, str(HERE))
    from pipeline import Bench
    from records import RecordFactory

    work.mkdir()
    bench = Bench(work, "")
    factory = RecordFactory()
    bench.pipeline(factory, fmt, WARM_UP)
    if records:
        _, failed, _ = bench.pipeline(factory, fmt, records)
        if failed:
            raise SystemExit(f"{failed} records refused")


def count(fmt: str, records: int, folder: Path) -> subprocess.Popen[Any]:
    command = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={folder / f'callgrind.{records}.out'}",
        sys.executable,
        str(Path(__file__).resolve()),
        "--inner",
        str(records),
        "--format",
        fmt,
        "--work",
        str(folder / f"work.{records}"),
    ]
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=HERE.parent
    )


def instructions(process: subprocess.Popen[Any]) -> int:
    _, err = process.communicate()
    found = _REFS.search(err)
    if process.returncode or found is None:
        raise SystemExit(f"callgrind failed:\n{err[-2000:]}")
    return int(found.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=300, help="records counted")
    parser.add_argument("--format", default="jwt", choices=("di", "jwt"))
    parser.add_argument("--inner", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner is not None:
        if args.work is None:
            raise SystemExit("--inner needs --work")
        run_inner(args.format, args.inner, args.work)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is missing (apt-get install valgrind)")
    if args.records < 1:
        raise SystemExit("--records must be at least 1")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base, more = count(args.format, 0, folder), count(args.format, args.records, folder)
        without, with_records = instructions(base), instructions(more)
    per_record = (with_records - without) / args.records
    print(
        f"Instructions per 96-cell record, {args.format} (callgrind, {args.records} records "
        f"after {WARM_UP}; {described()}, {os.cpu_count()} CPUs)\n\n"
        "| measure | figure |\n|---|---|\n"
        f"| warm-up alone, millions | {without / 1e6:,.1f} |\n"
        f"| warm-up and {args.records} records, millions | {with_records / 1e6:,.1f} |\n"
        f"| per record, millions | {per_record / 1e6:.2f} |"
    )


if __name__ == "__main__":
    main()
