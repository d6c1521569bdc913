"""Page sessions kept in the database: signing out ends a session on every instance.

The page cookie (Flask's signed session) carries a random token and nothing else that
grants access; the database keeps the token's SHA-256, the API key it stands for and when
it ends. A cookie saved before signing out, or older than :data:`SESSION_LIFETIME`, opens
nothing, and revoking the key ends its sessions too.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from gateway.auth import Principal
from gateway.services.instance import Instance
from gateway.store.sessions import WebSessions
from gateway.store.tables import utcnow

#: How long a page session lasts at most, signed-in activity or not: a working day.
SESSION_LIFETIME = timedelta(hours=8)


def open_session(instance: Instance, caller: Principal) -> str:
    """Start a page session for a caller who just proved their API key.

    :returns: the session token for the cookie.
    """
    token = secrets.token_urlsafe(32)
    with instance.db.transaction() as session:
        WebSessions(session).open(token, caller.key_id, utcnow() + SESSION_LIFETIME)
    return token


def session_principal(instance: Instance, token: str) -> Principal | None:
    """The caller a session token stands for.

    :returns: ``None`` once the session was closed or expired, or its key revoked.
    """
    with instance.db.reading() as session:
        return WebSessions(session).principal(token)


def close_session(instance: Instance, token: str) -> None:
    """End a page session on the server (signing out)."""
    with instance.db.transaction() as session:
        WebSessions(session).close(token)
