"""Page sessions: a row per signed-in browser, found by the SHA-256 of its cookie token."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway import auth
from gateway.store import tables
from gateway.store.tables import utcnow


def token_hash(token: str) -> str:
    """What the table keeps of a session token (a database reader cannot sign in)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class WebSessions:
    """Repository of page sessions.

    :param session: the unit of work's SQLAlchemy session.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def open(self, token: str, key_id: int, expires_at: datetime) -> None:
        """Record a new session (and drop expired ones, so the table does not grow).

        :param token: the random token the cookie carries.
        :param key_id: the API key the visitor signed in with.
        :param expires_at: when the session ends at the latest.
        """
        self.session.execute(
            delete(tables.WebSession).where(tables.WebSession.expires_at <= utcnow())
        )
        self.session.add(
            tables.WebSession(token_hash=token_hash(token), key_id=key_id, expires_at=expires_at)
        )

    def principal(self, token: str) -> auth.Principal | None:
        """Who a session token stands for, while the session lasts and its key is live.

        :returns: the caller, or ``None`` for an unknown, ended or expired session or a
            revoked key.
        """
        row = self.session.execute(
            select(tables.ApiKey, tables.Tenant.name)
            .join(tables.WebSession, tables.WebSession.key_id == tables.ApiKey.id)
            .join(tables.Tenant, tables.Tenant.id == tables.ApiKey.tenant_id)
            .where(
                tables.WebSession.token_hash == token_hash(token),
                tables.WebSession.expires_at > utcnow(),
                tables.ApiKey.revoked_at.is_(None),
            )
        ).first()
        if row is None:
            return None
        key, tenant_name = row
        return auth.Principal(
            tenant_id=key.tenant_id, tenant_name=tenant_name, role=key.role, key_id=key.id
        )

    def close(self, token: str) -> None:
        """End a session (a no-op for an unknown one)."""
        self.session.execute(
            delete(tables.WebSession).where(tables.WebSession.token_hash == token_hash(token))
        )
