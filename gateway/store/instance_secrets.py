"""Secrets every instance serving one database shares, wrapped by a key-encryption key.

The web session signing key must be the same on every instance behind a load balancer,
or a cookie one instance signed is refused by the next. It is made once per database
and kept here wrapped by the instance's key-encryption key (the KEK files are deployed
to every instance like the signing key, :mod:`gateway.store.encryption`), so the
database alone never yields it. A secret found wrapped by an older KEK is wrapped again
by the current one when next read, so retiring a KEK never strands it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.store import tables
from gateway.store.encryption import KeyUnavailable, sealer_of

#: The name of the web session signing key.
WEB_SESSION = "web-session"
# AES Key Wrap (RFC 3394) takes whole 64-bit blocks, at least two; a secret is padded
# with spaces, which readers strip (the secrets are printable text without them).
_BLOCK = 8
_MIN = 16


def _padded(secret: str) -> bytes:
    raw = secret.encode("ascii")
    size = max(_MIN, -(-len(raw) // _BLOCK) * _BLOCK)
    return raw.ljust(size, b" ")


class InstanceSecrets:
    """The shared secrets, within one unit of work.

    :param session: a session of a database opened with its key-encryption keys.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.keks = sealer_of(session).keks

    def get(self, name: str) -> str | None:
        """A secret, or None when the database has none of that name.

        :raises KeyUnavailable: the KEK that wrapped it is not deployed here.
        """
        row = self.session.get(tables.InstanceSecret, name)
        if row is None:
            return None
        raw = self.keks.unwrap(row.kek_id, row.wrapped)
        try:
            current = self.keks.current()
        except KeyUnavailable:
            current = row.kek_id
        if current != row.kek_id:
            row.kek_id, row.wrapped = current, self.keks.wrap(current, raw)
            self.session.flush()
        return raw.decode("ascii").strip()

    def rewrap(self, kek_id: str) -> int:
        """Wrap every secret wrapped by another KEK with ``kek_id`` (a KEK rotation moves
        them with the data keys, so the older KEK can be retired).

        :returns: how many were re-wrapped.
        :raises KeyUnavailable: the KEK that wraps one is missing or wrong.
        """
        rows = self.session.scalars(
            select(tables.InstanceSecret).where(tables.InstanceSecret.kek_id != kek_id)
        ).all()
        for row in rows:
            raw = self.keks.unwrap(row.kek_id, row.wrapped)
            row.kek_id, row.wrapped = kek_id, self.keks.wrap(kek_id, raw)
        self.session.flush()
        return len(rows)

    def keep(self, name: str, secret: str) -> str:
        """Store ``secret`` under ``name`` unless the database has one already.

        :returns: the secret the database holds afterwards (another instance's, when it
            stored one first).
        :raises KeyUnavailable: no KEK to wrap it with.
        """
        if not secret or not secret.isascii() or not secret.strip() == secret:
            raise ValueError("a shared secret is printable ASCII without surrounding spaces")
        stored = self.get(name)
        if stored is not None:
            return stored
        try:
            kek_id = self.keks.current()
        except KeyUnavailable:
            # As for data keys: an instance folder without a KEK yet gets its first one
            # (``gateway init`` makes it; deploy the same file to every instance).
            create = getattr(self.keks, "create", None)
            if create is None:
                raise
            kek_id = str(create().id)
        row = tables.InstanceSecret(
            name=name, kek_id=kek_id, wrapped=self.keks.wrap(kek_id, _padded(secret))
        )
        try:
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            stored = self.get(name)
            if stored is None:
                raise
            return stored
        return secret
