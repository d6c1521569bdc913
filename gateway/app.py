"""Application factory: settings -> services -> blueprints -> error handlers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from gateway import api
from gateway.settings import Settings


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the WSGI app.

    :param overrides: settings that win over the instance file and the environment
        (tests pass ``{"home": tmp_path}`` and the like).
    """
    settings = Settings.load(overrides)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["gateway.settings"] = settings
    api.register(app)
    return app
