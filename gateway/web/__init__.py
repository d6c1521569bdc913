"""Pages for people: server-rendered HTML over the same services as the API.

The public passport page (at the passport URL, by content negotiation), its QR code and
printable label, the importer's verify page, the exporter's batch and gap dashboard and
the mapping editor. Read-only pages work without scripts; the two small scripts
(upload progress, inline row edit) only improve pages that work without them.
"""

from __future__ import annotations

from flask import Flask

from gateway.services.instance_state import web_session_secret
from gateway.services.sessions import SESSION_LIFETIME
from gateway.settings import Settings
from gateway.web import (  # noqa: F401 (the modules that are not named hold routes)
    account,
    dashboard,
    disclosures,
    error_pages,
    label,
    mappings,
    passport,
    security,
    verify,
)
from gateway.web.common import bp
from gateway.web.session_cookie import SessionCookie

__all__ = ["register"]


def register(app: Flask) -> None:
    """Add the pages to the app: session cookie settings, then the blueprint."""
    settings: Settings = app.extensions["gateway.settings"]
    # One key per database, so a cookie signed by one instance is accepted by every other.
    app.secret_key = web_session_secret(app.extensions["gateway.instance"].db)
    app.session_interface = SessionCookie()
    app.config.update(
        SESSION_COOKIE_NAME="gateway_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=security.behind_tls(settings),
        # The browser forgets the cookie when the server-side session ends anyway.
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )
    app.register_blueprint(bp)
