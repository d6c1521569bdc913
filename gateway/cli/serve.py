"""``gateway serve``: the API under gunicorn."""

from __future__ import annotations

import sys

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--timeout", default=0, show_default=True, type=int,
              help="Seconds a worker may spend on one request before gunicorn restarts "
                   "it; 0 = no limit, which bulk NDJSON conversions need (a sync worker "
                   "reports alive only between requests).")
def serve(host: str, port: int, workers: int, timeout: int) -> None:
    """Serve the gateway over HTTP with gunicorn."""
    from gunicorn.app.wsgiapp import WSGIApplication

    # gunicorn reads its own argv; hand it the factory and our options.
    sys.argv = [
        "gunicorn",
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        "--timeout", str(timeout),
        "--access-logfile", "-",
        "gateway.app:create_app()",
    ]
    WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").run()
