"""HTTP API: Flask blueprints only. Each parses, calls a service, renders."""

from __future__ import annotations

from flask import Flask

from gateway.api import meta, problems


def register(app: Flask) -> None:
    problems.register(app)
    app.register_blueprint(meta.bp)
