"""The gunicorn server hooks of ``gateway serve`` that run a bulk job worker thread in
each server process, so that with the embedded database jobs complete with no other
command (``gateway jobs work`` runs workers of their own)."""

from __future__ import annotations

import os
import threading
from typing import Any

#: Set to ``1`` by ``gateway serve`` when its processes run a job worker thread.
JOB_WORKER_ENV = "GATEWAY_SERVE_JOB_WORKER"


def post_worker_init(worker: Any) -> None:
    """Start the job worker thread once the server process has loaded the app."""
    if os.environ.get(JOB_WORKER_ENV) != "1":
        return
    from gateway.services import start_worker_thread

    stop = threading.Event()
    worker.gateway_jobs = (
        stop,
        start_worker_thread(worker.wsgi.extensions["gateway.instance"], stop),
    )


def worker_exit(server: Any, worker: Any) -> None:
    """On a graceful stop, let the thread finish the chunk in hand (within gunicorn's
    graceful timeout; a chunk cut short is taken over when its lease runs out)."""
    running = getattr(worker, "gateway_jobs", None)
    if running is None:
        return
    stop, thread = running
    stop.set()
    thread.join(timeout=max(1.0, float(server.cfg.graceful_timeout) - 1))
