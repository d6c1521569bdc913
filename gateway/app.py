"""Application factory: settings -> instance (database, key) -> blueprints -> error handlers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from gateway import api, web
from gateway.api.http import PASSPORT_PAGE, GatewayRequest
from gateway.api.problems import gateway_error, http_error
from gateway.services import open_instance
from gateway.settings import Settings
from gateway.web import error_pages, security
from gateway.web.passport import passport_page


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the WSGI app.

    Brings the database schema up to date and loads the signing key, so a gateway that
    cannot issue refuses to start instead of failing its first request.

    :param overrides: settings that win over the instance file and the environment
        (tests pass ``{"home": tmp_path}`` and the like).
    :raises SigningKeyError: the instance has no signing key (run ``gateway init``).
    :raises ConfigError: bad settings or an unsupported database URL.
    """
    settings = Settings.load(overrides)
    app = Flask(__name__)
    app.request_class = GatewayRequest
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["gateway.settings"] = settings
    app.extensions["gateway.instance"] = open_instance(settings)
    api.register(app)
    web.register(app)
    # Browsers get an HTML page for an unknown URL or an unknown battery (a QR code
    # scanned for a passport this gateway does not hold), everyone else the API's problem.
    error_pages.register(app, problem=http_error, gateway_problem=gateway_error)
    # The passport URL serves JSON-LD from the API and, to browsers, the page.
    app.extensions[PASSPORT_PAGE] = passport_page
    security.register(app)
    return app
