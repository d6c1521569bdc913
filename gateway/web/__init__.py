"""Pages for people: server-rendered HTML over the same services as the API.

The public passport page (at the passport URL, by content negotiation), its QR code and
printable label, the importer's verify page, the exporter's batch and gap dashboard and
the mapping editor. Read-only pages work without scripts; the two small scripts
(upload progress, inline row edit) only improve pages that work without them.
"""

from __future__ import annotations

import os
import secrets

from flask import Flask

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

#: The file in the instance folder holding the key that signs page session cookies.
SECRET_FILE = "web-session.key"

__all__ = ["register"]


def session_secret(settings: Settings) -> str:
    """The instance's session signing key, made on first use (owner-only file), so that
    sessions survive restarts and every worker of one instance signs alike."""
    path = settings.home / SECRET_FILE
    if not path.exists():
        settings.home.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker made it first
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="ascii").strip()


def register(app: Flask) -> None:
    """Add the pages to the app: session cookie settings, then the blueprint."""
    settings: Settings = app.extensions["gateway.settings"]
    app.secret_key = session_secret(settings)
    app.config.update(
        SESSION_COOKIE_NAME="gateway_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=security.behind_tls(settings),
        # The browser forgets the cookie when the server-side session ends anyway.
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )
    app.register_blueprint(bp)
