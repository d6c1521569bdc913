"""``gateway jobs``: submit bulk jobs, follow them, and run the workers that issue them."""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

import click

from gateway.cli.console import console_instance, echo_json
from gateway.cli.heap import settled
from gateway.credentials.formats import PROOF_FORMATS

#: Seconds between two looks at a job that ``show --wait`` waits for.
WAIT_POLL = 0.5


@click.group()
def jobs() -> None:
    """Bulk jobs: records uploaded once, issued by workers of any instance."""


def _show(progress: dict[str, Any], err: bool = False, tenant: bool = False) -> None:
    counts = progress["outcomes"]
    whose = f" ({progress['tenant']})" if tenant else ""
    click.echo(
        f"job {progress['id']}{whose}: {progress['state']}, {progress['records']} records "
        f"({counts['created']} created, {counts['repeated']} repeated, "
        f"{counts['refused']} refused, {counts['pending']} pending)",
        err=err,
    )


@jobs.command("submit")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tenant", default=None, help="The tenant that issues (default: the only one).")
@click.option(
    "--format",
    "proof_format",
    type=click.Choice(PROOF_FORMATS),
    default="di",
    show_default=True,
    help="Data Integrity eddsa-rdfc-2022, or vc+jwt.",
)
@click.option(
    "--mapping", default=None, help="Published mapping SET@VERSION (default: the instance's)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the job as JSON.")
def submit(
    file: Path, tenant: str | None, proof_format: str, mapping: str | None, as_json: bool
) -> None:
    """Submit FILE (NDJSON, one record per line) as a bulk job, as POST /jobs does.

    Prints the job id (and its state on standard error); `gateway jobs work` (or
    `gateway serve` with the embedded database) issues its records.
    """
    from gateway.services import console_principal, submit_job

    with console_instance() as instance:
        caller = console_principal(instance, tenant)
        with file.open("rb") as stream:
            progress = submit_job(
                instance, stream, principal=caller, proof_format=proof_format, mapping=mapping
            ).to_dict()
    if as_json:
        echo_json(progress)
        return
    # The id alone on standard output, so that JOB=$(gateway jobs submit ...) keeps it.
    click.echo(progress["id"])
    _show(progress, err=True)


@jobs.command("list")
@click.option("--after", default=None, help="The last job id of the previous page.")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the jobs as JSON.")
def list_(after: str | None, limit: int, as_json: bool) -> None:
    """List the jobs of every tenant, newest first, as GET /jobs lists a tenant's.

    Finished jobs are kept for the job_retention_days setting (30 days by default).
    """
    from gateway.services import CONSOLE_ADMIN, list_jobs

    with console_instance(existing=True) as instance:
        jobs = [p.to_dict() for p in list_jobs(instance, CONSOLE_ADMIN, after=after, limit=limit)]
    if as_json:
        echo_json(jobs)
        return
    for progress in jobs:
        _show(progress, tenant=True)
    if len(jobs) == limit:
        click.echo(f"more: --after {jobs[-1]['id']}", err=True)


@jobs.command("show")
@click.argument("job_id")
@click.option("--wait", is_flag=True, help="Wait until the job is done (or failed).")
@click.option("--json", "as_json", is_flag=True, help="Print the job as JSON.")
def show(job_id: str, wait: bool, as_json: bool) -> None:
    """Show a job's state and its outcomes so far, as GET /jobs/ID does."""
    from gateway.services import CONSOLE_ADMIN, job_progress

    with console_instance(existing=True) as instance:
        progress = job_progress(instance, CONSOLE_ADMIN, job_id).to_dict()
        while wait and progress["state"] not in ("done", "failed"):
            time.sleep(WAIT_POLL)
            progress = job_progress(instance, CONSOLE_ADMIN, job_id).to_dict()
    if as_json:
        echo_json(progress)
        return
    _show(progress)


@jobs.command("results")
@click.argument("job_id")
@click.option("--after", type=click.IntRange(0, 2**31 - 1), default=0, show_default=True)
@click.option("--limit", type=click.IntRange(1, 10_000), default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help='Print the page as JSON ({"items", "next"}).')
def results(job_id: str, after: int, limit: int, as_json: bool) -> None:
    """Print a page of a job's outcome lines, as GET /jobs/ID/results does.

    One line per record: its line number, outcome and battery code (or the problem).
    """
    from gateway.services import CONSOLE_ADMIN, job_results

    with console_instance(existing=True) as instance:
        lines, cursor = job_results(instance, CONSOLE_ADMIN, job_id, after=after, limit=limit)
    if as_json:
        echo_json({"items": lines, "next": cursor})
        return
    for line in lines:
        problem = line.get("problem") or {}
        what = line.get("batteryCode") or f"{problem.get('title')}: {problem.get('detail')}"
        click.echo(f"{line['line']}\t{line['outcome']}\t{what}")
    if cursor is not None:
        click.echo(f"more: --after {cursor}", err=True)


def _on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT end the worker once the chunk in hand is done."""

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _work_process(until_idle: bool, done: Any) -> None:
    """One worker process: its own instance (engine, connections), its own loop."""
    from gateway.cli.console import console_settings
    from gateway.services import open_instance, work

    stop = threading.Event()
    _on_signals(stop)
    instance = open_instance(console_settings(existing=True))
    try:
        with settled():
            finished = work(instance, stop=stop, until_idle=until_idle)
    finally:
        instance.db.dispose()
    with done.get_lock():
        done.value += finished


@jobs.command("work")
@click.option(
    "--processes",
    type=click.IntRange(1, 256),
    default=1,
    show_default=True,
    help="Worker processes; one per core (issuing is CPU-bound Python).",
)
@click.option("--until-idle", is_flag=True, help="Stop once no chunk is waiting.")
def work_(processes: int, until_idle: bool) -> None:
    """Issue the records of queued bulk jobs, chunk by chunk, until stopped.

    Any number of instances sharing one PostgreSQL database may run workers; each claims
    chunks no other holds. SIGTERM or Ctrl-C stops them once their chunk in hand is
    done; a worker killed outright leaves its chunk to be taken over when its lease
    (the job_lease_seconds setting) runs out.
    """
    from gateway.services import work

    stop = threading.Event()
    if processes == 1:
        _on_signals(stop)
        with console_instance(existing=True) as instance, settled():
            finished = work(instance, stop=stop, until_idle=until_idle)
        click.echo(f"{finished} chunks done", err=True)
        return
    # Spawned, not forked: each worker starts clean and opens its own database engine.
    context = multiprocessing.get_context("spawn")
    done = context.Value("i", 0)
    children = [
        context.Process(target=_work_process, args=(until_idle, done), name=f"job-worker-{n}")
        for n in range(processes)
    ]
    for child in children:
        child.start()

    def forward(_signum: int, _frame: FrameType | None) -> None:
        for child in children:
            if child.pid is not None and child.is_alive():
                child.terminate()  # SIGTERM: finish the chunk in hand, then stop

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for child in children:
        child.join()
    click.echo(f"{done.value} chunks done", err=True)
