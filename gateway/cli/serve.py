"""``gateway serve``: the API under gunicorn, with threaded workers (docs/operations.md)."""

from __future__ import annotations

import os
import sys

import click

from gateway.cli.worker import DEFAULT_READ_TIMEOUT, READ_TIMEOUT_ENV


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=int,
    help="Processes; one per core (conversion is CPU-bound Python).",
)
@click.option(
    "--threads",
    default=4,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Requests each worker serves at once; slow clients wait in threads "
    "of their own instead of holding a whole worker. Requests but bulk streams "
    "compute one at a time, in the order they came; more threads do not add "
    "throughput (they share one interpreter lock).",
)
@click.option(
    "--read-timeout",
    default=DEFAULT_READ_TIMEOUT,
    show_default=True,
    type=click.FloatRange(0.1, 3600),
    help="Seconds a client may stay silent while sending a request (or not "
    "read its answer) before the connection is cut.",
)
@click.option(
    "--keep-alive",
    default=5,
    show_default=True,
    type=click.IntRange(0, 300),
    help="Seconds an idle kept-alive connection stays open.",
)
@click.option(
    "--timeout",
    default=60,
    show_default=True,
    type=click.IntRange(0),
    help="Seconds a worker process may stop reporting to gunicorn's arbiter "
    "before it is restarted (0 = never). Threaded workers report every "
    "second whatever their requests do, so bulk streams of any length "
    "are not cut by it.",
)
@click.option(
    "--job-worker/--no-job-worker",
    default=None,
    help="Run a bulk job worker thread in each server process "
    "(default: with the embedded SQLite database only; on PostgreSQL run "
    "`gateway jobs work` where the cores are).",
)
def serve(
    host: str,
    port: int,
    workers: int,
    threads: int,
    read_timeout: float,
    keep_alive: int,
    timeout: int,
    job_worker: bool | None,
) -> None:
    """Serve the gateway over HTTP with gunicorn."""
    from gunicorn.app.wsgiapp import WSGIApplication

    from gateway.cli.console import console_settings
    from gateway.cli.serve_jobs import JOB_WORKER_ENV

    # The worker reads its socket timeout from the environment; gunicorn has no setting
    # for it and forks the workers from this process.
    os.environ[READ_TIMEOUT_ENV] = f"{read_timeout:g}"
    if job_worker is None:
        job_worker = not console_settings().database_url
    os.environ[JOB_WORKER_ENV] = "1" if job_worker else "0"
    # gunicorn reads its own argv; hand it the factory and our options.
    sys.argv = [
        "gunicorn",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gateway.cli.worker.GatewayWorker",
        "--threads",
        str(threads),
        "--keep-alive",
        str(keep_alive),
        "--timeout",
        str(timeout),
        "--access-logfile",
        "-",
        # No control socket: gunicorn's default path ($XDG_RUNTIME_DIR or ~/.gunicorn)
        # is one per user, so a second instance on the machine would take over the
        # first one's; the gateway is managed by signals (docs/operations.md).
        "--no-control-socket",
        # The hooks that start and stop the job worker thread.
        "--config",
        "python:gateway.cli.serve_jobs",
        "gateway.app:create_app()",
    ]
    WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").run()
