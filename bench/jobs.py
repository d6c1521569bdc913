"""Bulk jobs run by worker processes: CPU per record and records/s of one job.

One job of ``--records`` generated records (:mod:`records`: every code new) is submitted
to a fresh instance (SQLite in a temporary folder; PostgreSQL on a schema of its own when
``--database-url`` or ``DATABASE_URL_TEST`` is set), then ``gateway jobs work
--processes N --until-idle`` runs it, for each N of ``--processes``.

Printed per backend and N:

* **CPU ms per record**: the CPU time (user + system) of the worker command and every
  process it started (``RUSAGE_CHILDREN``), less that of the same command on an empty
  queue (interpreter start, imports, opening the instance), over the records;
* **records/s**: the records over the job's own wall time, from its first claimed chunk
  to its last finished one (as the store recorded them), so that process start-up is
  left out; with the load average, since wall time on a shared machine is noisy.

Nothing here is a test: no figure fails a run.

Usage: ``.venv/bin/python bench/jobs.py [--records 300] [--cells 96] [--format di]
[--chunk 64] [--processes 1,2] [--database-url URL]``
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from interpreter import described
from records import RecordFactory
from sqlalchemy import create_engine

from gateway.services import (
    CONSOLE_ADMIN,
    console_principal,
    create_tenant,
    job_progress,
    open_instance,
    prepare_instance,
    submit_job,
)
from gateway.settings import Settings
from gateway.store.db import normalise_url


@contextmanager
def _schema(url: str) -> Iterator[str]:
    """A PostgreSQL schema of its own for one run, dropped afterwards."""
    base = normalise_url(url)
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {name}")
    try:
        yield base.update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {name} CASCADE")
        admin.dispose()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _work(env: dict[str, str], processes: int) -> float:
    """CPU seconds of one ``gateway jobs work --until-idle`` and its processes."""
    before = _children_cpu()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway",
            "jobs",
            "work",
            "--processes",
            str(processes),
            "--until-idle",
        ],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return _children_cpu() - before


def run(
    home: Path, database_url: str, body: bytes, records: int, fmt: str, chunk: int, processes: int
) -> tuple[float, float]:
    """One job through ``processes`` worker processes.

    :returns: CPU ms per record and records/s of the job's wall time.
    """
    overrides = {"home": home, "database_url": database_url, "job_chunk_records": chunk}
    settings = Settings.load(overrides)
    prepare_instance(settings)
    instance = open_instance(settings)
    try:
        create_tenant(instance.db, CONSOLE_ADMIN, "bench")
        caller = console_principal(instance, "bench")
        job_id = submit_job(instance, io.BytesIO(body), principal=caller, proof_format=fmt).job.id
        env = {
            **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
            "GATEWAY_HOME": str(home),
            "GATEWAY_JOB_CHUNK_RECORDS": str(chunk),
        }
        if database_url:
            env["DATABASE_URL"] = database_url
        busy = _work(env, processes)
        idle = _work(env, processes)  # the same command with nothing to do
        job = job_progress(instance, CONSOLE_ADMIN, job_id).job
    finally:
        instance.db.dispose()
    if job.state != "done" or job.created != records:
        raise SystemExit(
            f"the job ended {job.state}: {job.created} created, {job.repeated} repeated, "
            f"{job.refused} refused of {records} (GATEWAY_HOME={home} kept for a look)"
        )
    assert job.started_at is not None and job.finished_at is not None
    wall = (job.finished_at - job.started_at).total_seconds()
    return max(busy - idle, 0.0) * 1000 / records, records / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=300)
    parser.add_argument("--cells", type=int, default=96)
    parser.add_argument("--format", choices=("di", "jwt"), default="di")
    parser.add_argument("--chunk", type=int, default=64, help="records per chunk")
    parser.add_argument("--processes", default="1,2", help="worker process counts to run")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL_TEST", ""))
    args = parser.parse_args()
    print(described())
    factory = RecordFactory(cells=args.cells)
    body = b"".join(factory.line(i) for i in range(args.records))
    counts = [int(n) for n in args.processes.split(",")]
    backends = ["sqlite"] + (["postgresql"] if args.database_url else [])
    print(
        f"one job of {args.records} records, {args.cells} cells, {args.format}, "
        f"{args.chunk} records a chunk; load average {os.getloadavg()[0]:.2f}"
    )
    print(f"{'backend':<12}{'processes':>10}{'CPU ms/record':>16}{'records/s':>12}")
    for backend in backends:
        for processes in counts:
            with tempfile.TemporaryDirectory() as tmp:
                home = Path(tmp) / "instance"
                if backend == "sqlite":
                    cpu, rate = run(
                        home, "", body, args.records, args.format, args.chunk, processes
                    )
                else:
                    with _schema(args.database_url) as url:
                        cpu, rate = run(
                            home, url, body, args.records, args.format, args.chunk, processes
                        )
            print(f"{backend:<12}{processes:>10}{cpu:>16.2f}{rate:>12.1f}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
