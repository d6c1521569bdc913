"""CPU time per record of the whole issuance pipeline, in process, beside its floor.

What one bulk record costs the server, without HTTP: reading and validating the NDJSON
line (``read_record``: JSON and marshmallow), then ``issue_many`` (duplicate and
idempotency look-ups, policy, mapping, gap report, national findings, JSON-LD,
signing, the store's transaction and audit event), over a fresh instance in a temporary
folder (SQLite, or ``--database-url``). Records come from :mod:`records`: every pack,
module and cell code is new, so no cache is flattered by repeats.

Printed, beside the targets:

* CPU ms per record for Data Integrity and ``vc+jwt`` at 96 cells, and the share of
  each stage (read, national findings, the rest of the draft, signing, store and glue),
  measured on further records of the same run;
* the cost per added cell, from the 96-cell and the ``--big``-cell runs;
* the floor measured in the same run: signing the record's already built credentials
  (Data Integrity reads their canonical N-Quads straight off the JSON) plus one raw
  insert of a passport row, its credentials and an audit row in one transaction
  (``sqlite3`` or ``psycopg``, no ORM), and the pipeline's ratio to it;
* the CPU of sealing and opening one record at rest (encryption at rest, beside the
  per-record targets);
* resident memory (now and peak), database bytes per passport beside the credentials'
  own bytes, and the CPU of verifying one credential in process.

CPU time (``time.process_time``) is used because wall time on a shared machine is
noisy; the load average is printed too. Nothing here is a test: no figure fails a run.

Usage: ``.venv/bin/python bench/pipeline.py [--records N] [--big CELLS] [--formats di,jwt]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interpreter import described
from records import RecordFactory

from gateway.cli.heap import settle
from gateway.compliance import national_report
from gateway.credentials import data_integrity, jose
from gateway.credentials.model import build_credential
from gateway.records import read_record
from gateway.services import (
    StatusPool,
    console_principal,
    draft_passport,
    issue_many,
    open_instance,
    prepare_instance,
    sign_credentials,
    verify_credential,
)
from gateway.settings import Settings
from gateway.store import Tenants, init_db
from gateway.store.encryption import is_restricted

BASE_URL = "https://gw.example"
PAGE = os.sysconf("SC_PAGE_SIZE")
#: The targets of bulk issuance at the speed of its cryptography.
TARGET_MS = {"di": 4.0, "jwt": 3.0}
TARGET_CELL_US = 10.0
TARGET_RSS_MB = 300.0
#: The RSS target holds over this many records; a shorter run says so.
TARGET_RSS_RECORDS = 100_000
TARGET_EXTRA_KB = 10.0
TARGET_VERIFY_MS = 3.0


def rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * PAGE / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Run:
    """The figures of one proof format at one cell count."""

    fmt: str
    cells: int
    records: int = 0
    pipeline_ms: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)
    floor_ms: float = 0.0
    credential_bytes: float = 0.0
    db_bytes: float = 0.0
    failed: int = 0


class Bench:
    def __init__(self, home: Path, database_url: str) -> None:
        self.settings = Settings.load(
            {"home": home, "database_url": database_url, "base_url": BASE_URL}
        )
        prepare_instance(self.settings)
        db = init_db(self.settings)
        with db.transaction() as session:
            Tenants(session).create("bench")
        db.dispose()
        self.instance = open_instance(self.settings)
        self.caller = console_principal(self.instance, "bench")
        settle()  # as `gateway convert --store`, the job workers and the server's workers do
        self.table = self.instance.mapping(self.settings.mapping)
        self.floor_db = FloorStore(home / "floor.sqlite", database_url)
        self.next_index = 0

    def indexes(self, count: int) -> range:
        start = self.next_index
        self.next_index += count
        return range(start, start + count)

    def pipeline(self, factory: RecordFactory, fmt: str, count: int) -> tuple[float, int, float]:
        """CPU ms per record through read_record + issue_many; failures; credential bytes."""
        lines = [factory.line(i) for i in self.indexes(count)]

        def items() -> Iterator[tuple[int, Any]]:
            for number, line in enumerate(lines, start=1):
                try:
                    yield number, read_record(line, "application/json")
                except Exception as exc:  # refused as this record's outcome
                    yield number, exc

        failed = 0
        credential_bytes = 0
        # Writing each credential's JSON to measure it is not the pipeline's work: its
        # time is taken off.
        measuring = 0.0
        start = time.process_time()
        for outcome in issue_many(self.instance, items(), principal=self.caller, proof_format=fmt):
            if outcome.issued is None:
                failed += 1
                if failed == 1:
                    print(f"  refused: {outcome.problem}", file=sys.stderr)
                continue
            measured = time.process_time()
            for body in outcome.issued.credentials.values():
                credential_bytes += len(body if isinstance(body, str) else json.dumps(body))
            measuring += time.process_time() - measured
        cpu = time.process_time() - start - measuring
        return cpu * 1e3 / count, failed, credential_bytes / max(1, count - failed)

    def stages(self, factory: RecordFactory, fmt: str, count: int) -> dict[str, float]:
        """CPU ms per record of each stage, on records that are not stored.

        The findings are timed alone on other records than the drafts (both cold), and
        taken from the draft's time, which includes them.
        """
        pool = StatusPool(self.instance, chunk=256)
        out = dict.fromkeys(("read", "findings", "draft", "sign"), 0.0)
        for line in [factory.line(i) for i in self.indexes(count)]:
            t0 = time.process_time()
            record = read_record(line, "application/json")
            t1 = time.process_time()
            draft = draft_passport(record, mapping=self.table, base_url=self.instance.base_url)
            t2 = time.process_time()
            sign_credentials(draft, key=self.instance.key, registry=pool, proof_format=fmt)
            t3 = time.process_time()
            out["read"] += t1 - t0
            out["draft"] += t2 - t1
            out["sign"] += t3 - t2
        for line in [factory.line(i) for i in self.indexes(count)]:
            record = read_record(line, "application/json")
            t0 = time.process_time()
            national_report(record)
            out["findings"] += time.process_time() - t0
        out["draft"] -= out["findings"]
        return {k: v * 1e3 / count for k, v in out.items()}

    def floor(self, factory: RecordFactory, fmt: str, count: int) -> float:
        """CPU ms per record of signing already built credentials and one raw insert."""
        pool = StatusPool(self.instance, chunk=256)
        key = self.instance.key
        prepared = []
        for i in self.indexes(count):
            record = read_record(factory.line(i), "application/json")
            draft = draft_passport(record, mapping=self.table, base_url=self.instance.base_url)
            entries = pool.allocate(count=len(draft.documents))
            credentials = [
                build_credential(
                    document,
                    issuer=key.issuer,
                    passport_id=draft.conversion.passport_id,
                    access_group=group,
                    mapping=draft.gaps["mapping"],
                    status=status,
                    valid_from="2026-01-01T00:00:00Z",
                )
                for (group, document), status in zip(draft.documents.items(), entries, strict=True)
            ]
            prepared.append((draft.conversion.passport_id, credentials))
        start = time.process_time()
        for passport_id, credentials in prepared:
            signed: list[str] = []
            for credential in credentials:
                if fmt == "di":
                    secured = data_integrity.add_proof(
                        credential, key.private_key, key.kid, created="2026-01-01T00:00:00Z"
                    )
                    signed.append(json.dumps(secured))
                else:
                    signed.append(jose.sign_jwt(credential, key.private_key, key.kid))
            self.floor_db.insert(passport_id, signed)
        return (time.process_time() - start) * 1e3 / count

    def at_rest_ms(self, factory: RecordFactory, fmt: str, count: int) -> tuple[float, float]:
        """CPU ms per record to seal what the store seals on issue (the record and the
        credentials beyond point 1) and to open it again, with the instance's sealer and
        the tenant's data key already unwrapped, as in a running server."""
        sealer = self.instance.db.sealer
        assert sealer is not None
        pool = StatusPool(self.instance, chunk=256)
        items = []
        for i in self.indexes(count):
            record = read_record(factory.line(i), "application/json")
            draft = draft_passport(record, mapping=self.table, base_url=self.instance.base_url)
            signed = sign_credentials(draft, key=self.instance.key, registry=pool, proof_format=fmt)
            bodies = [
                s.credential if isinstance(s.credential, str) else json.dumps(s.credential)
                for group, s in signed.items()
                if is_restricted(group)
            ]
            items.append((record, bodies))
        tenant = self.caller.tenant_id
        with self.instance.db.transaction() as session:

            def seal(value: Any, row: str) -> bytes:
                return sealer.seal(session, value, table="t", row_id=row, tenant_id=tenant)

            seal(items[0][0], "warm")
            t0 = time.process_time()
            sealed = [
                (seal(r, f"{i}"), [seal(b, f"{i}/{j}") for j, b in enumerate(bs)])
                for i, (r, bs) in enumerate(items)
            ]
            t1 = time.process_time()
            for i, (record_blob, blobs) in enumerate(sealed):
                sealer.open(session, record_blob, table="t", row_id=f"{i}", tenant_id=tenant)
                for j, blob in enumerate(blobs):
                    sealer.open(session, blob, table="t", row_id=f"{i}/{j}", tenant_id=tenant)
            t2 = time.process_time()
        return (t1 - t0) * 1e3 / count, (t2 - t1) * 1e3 / count

    def verify_ms(self, fmt: str, runs: int = 50) -> float:
        factory = RecordFactory(96, seed=7)
        pool = StatusPool(self.instance, chunk=16)
        record = read_record(factory.line(self.indexes(1)[0]), "application/json")
        draft = draft_passport(record, mapping=self.table, base_url=self.instance.base_url)
        signed = sign_credentials(draft, key=self.instance.key, registry=pool, proof_format=fmt)
        credential = next(iter(signed.values())).credential
        verify_credential(self.instance, credential)
        start = time.process_time()
        for _ in range(runs):
            verify_credential(self.instance, credential)
        return (time.process_time() - start) * 1e3 / runs

    def db_size(self) -> int:
        url = self.settings.database_url
        if not url:
            with sqlite3.connect(self.settings.home / "gateway.sqlite") as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                pages = conn.execute("PRAGMA page_count").fetchone()[0]
                free = conn.execute("PRAGMA freelist_count").fetchone()[0]
                size = conn.execute("PRAGMA page_size").fetchone()[0]
            return int((pages - free) * size)
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self.floor_db.close()
        self.instance.db.dispose()


class FloorStore:
    """The least a store can do: one transaction inserting a passport row, its
    credentials and an audit row, with no look-up and no ORM."""

    def __init__(self, path: Path, database_url: str) -> None:
        self.pg = database_url.startswith("postgresql")
        schema = [
            "CREATE TEMP TABLE floor_passports (id TEXT PRIMARY KEY, created TEXT)",
            "CREATE TEMP TABLE floor_credentials (id TEXT, passport_id TEXT, body TEXT)",
            "CREATE TEMP TABLE floor_audit (passport_id TEXT, entry TEXT)",
        ]
        self.conn: Any
        if self.pg:
            import psycopg

            self.conn = psycopg.connect(
                database_url.replace("postgresql+psycopg://", "postgresql://")
            )
            for statement in schema:
                self.conn.execute(statement)
            self.conn.commit()
            self.mark = "%s"
        else:
            self.conn = sqlite3.connect(path, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            for statement in schema:
                self.conn.execute(statement.replace("TEMP ", ""))
            self.mark = "?"
        self.count = 0

    def insert(self, passport_id: str, credentials: list[str]) -> None:
        m = self.mark
        self.count += 1
        unique = f"{passport_id}#{self.count}"
        if not self.pg:
            self.conn.execute("BEGIN")
        cur = self.conn.cursor()
        cur.execute(f"INSERT INTO floor_passports VALUES ({m}, {m})", (unique, "2026-01-01"))
        cur.executemany(
            f"INSERT INTO floor_credentials VALUES ({m}, {m}, {m})",
            [(f"{unique}/{n}", unique, body) for n, body in enumerate(credentials)],
        )
        cur.execute(f"INSERT INTO floor_audit VALUES ({m}, {m})", (unique, '{"event":"issued"}'))
        self.conn.commit() if self.pg else self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()


def _row(what: str, figure: str, target: str, ratio: float | None) -> str:
    return f"| {what} | {figure} | {target} | {'' if ratio is None else f'{ratio:.2f}'} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=300, help="96-cell records per run")
    parser.add_argument("--big", type=int, default=1536, help="cells of the large records")
    parser.add_argument("--formats", default="di,jwt")
    parser.add_argument("--database-url", default="", help="an empty database (default SQLite)")
    args = parser.parse_args()
    formats = [f for f in args.formats.split(",") if f]
    small, big = 96, args.big
    big_records = max(10, args.records * small // big)

    load_before = os.getloadavg()[0]
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as tmp:
        bench = Bench(Path(tmp) / "instance", args.database_url)
        try:
            verify = {fmt: bench.verify_ms(fmt) for fmt in formats}
            at_rest = {
                fmt: bench.at_rest_ms(RecordFactory(small, seed=3), fmt, max(10, args.records // 3))
                for fmt in formats
            }
            for fmt in formats:
                for cells, count in ((small, args.records), (big, big_records)):
                    factory = RecordFactory(cells, seed=cells)
                    print(f"{fmt}, {cells} cells: {count} records ...", file=sys.stderr, flush=True)
                    bench.pipeline(factory, fmt, 3)  # first use: lazy loads, not counted
                    run = Run(fmt, cells, count)
                    before = bench.db_size()
                    run.pipeline_ms, run.failed, run.credential_bytes = bench.pipeline(
                        factory, fmt, count
                    )
                    run.db_bytes = (bench.db_size() - before) / max(1, count - run.failed)
                    run.stages = bench.stages(factory, fmt, max(10, count // 3))
                    run.floor_ms = bench.floor(factory, fmt, max(10, count // 3))
                    runs.append(run)
            rss_now, rss_peak = rss_mb(), peak_rss_mb()
        finally:
            bench.close()

    print()
    print(
        f"Pipeline bench (in process, {'PostgreSQL' if args.database_url else 'SQLite'}): "
        f"{os.cpu_count()} CPUs, {described()}, {time.strftime('%Y-%m-%d')}; "
        f"load average (1 min) before {load_before:.2f}, after {os.getloadavg()[0]:.2f}"
    )
    print()
    print("| measure | figure | target | figure/target |")
    print("|---|---|---|---|")
    by = {(r.fmt, r.cells): r for r in runs}
    for fmt in formats:
        r = by[(fmt, small)]
        print(
            _row(
                f"{fmt}: CPU ms per record, {small} cells, unique codes ({r.records} records)",
                f"{r.pipeline_ms:.2f}",
                f"<= {TARGET_MS[fmt]:g}",
                r.pipeline_ms / TARGET_MS[fmt],
            )
        )
        b = by[(fmt, big)]
        per_cell_us = (b.pipeline_ms - r.pipeline_ms) * 1e3 / (big - small)
        print(
            _row(
                f"{fmt}: CPU µs per added cell ({small} -> {big} cells: {b.pipeline_ms:.1f} ms)",
                f"{per_cell_us:.1f}",
                f"<= {TARGET_CELL_US:g}",
                per_cell_us / TARGET_CELL_US,
            )
        )
        extra = (r.db_bytes - r.credential_bytes) / 1024
        print(
            _row(
                f"{fmt}: stored KB per passport besides its credentials "
                f"({r.db_bytes / 1024:.1f} KB in all, credentials {r.credential_bytes / 1024:.1f})",
                f"{extra:.1f}",
                f"<= {TARGET_EXTRA_KB:g}",
                extra / TARGET_EXTRA_KB,
            )
        )
        print(
            _row(
                f"{fmt}: floor, ms per record (sign built credentials + one raw insert)",
                f"{r.floor_ms:.2f}",
                "",
                None,
            )
        )
        print(
            _row(
                f"{fmt}: pipeline / floor",
                f"{r.pipeline_ms / r.floor_ms:.1f}",
                "",
                None,
            )
        )
        print(
            _row(
                f"{fmt}: verify one credential, CPU ms in process",
                f"{verify[fmt]:.2f}",
                f"<= {TARGET_VERIFY_MS:g}",
                verify[fmt] / TARGET_VERIFY_MS,
            )
        )
    for fmt in formats:
        seal_ms, open_ms = at_rest[fmt]
        print(
            _row(
                f"{fmt}: encryption at rest per {small}-cell record (its record and "
                f"credentials of points 2-4), CPU ms sealed on issue; opened again "
                f"{open_ms:.3f}",
                f"{seal_ms:.3f}",
                f"<= {TARGET_MS[fmt]:g}",
                seal_ms / TARGET_MS[fmt],
            )
        )
    stored = sum(r.records for r in runs)
    short = (
        f"; a short run: the target holds over {TARGET_RSS_RECORDS:,} records, "
        f"--records {TARGET_RSS_RECORDS}"
        if args.records < TARGET_RSS_RECORDS
        else ""
    )
    print(
        _row(
            f"resident memory of this process, peak MB, over {stored:,} records "
            f"(at the end {rss_now:.0f}{short})",
            f"{rss_peak:.0f}",
            f"<= {TARGET_RSS_MB:g}",
            rss_peak / TARGET_RSS_MB,
        )
    )
    print()
    print("CPU ms per record by stage (records not stored; store and glue = pipeline - stages):")
    print()
    print("| format | cells | read + validate | findings | rest of draft | sign | store and glue |")
    print("|---|---|---|---|---|---|---|")
    for r in runs:
        s = r.stages
        glue = r.pipeline_ms - sum(s.values())
        print(
            f"| {r.fmt} | {r.cells} | {s['read']:.2f} | {s['findings']:.2f} | "
            f"{s['draft']:.2f} | {s['sign']:.2f} | {glue:.2f} |"
        )
    return 1 if any(r.failed for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
