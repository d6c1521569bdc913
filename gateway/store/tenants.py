"""Tenants and their API keys.

A key's secret is shown once, at issue, and never stored: the table keeps its first
characters (to find it and to show it in lists) and a salted hash (see
:mod:`gateway.auth`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway import auth
from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.store import tables
from gateway.store.audit import AuditLog
from gateway.store.tables import utcnow

# Letters, digits, space, dot, underscore, hyphen; starts and ends with a letter or digit.
_NAME = re.compile(r"[^\W_](?:[\w .-]{0,98}[^\W_])?")
# Verifying against a dummy hash when no key matches keeps "unknown prefix" and "wrong
# secret" equally slow, so timing does not reveal which prefixes exist.
_DUMMY_HASH = auth.hash_secret("no key has this secret", b"\0" * 16)


@dataclass(frozen=True)
class Tenant:
    """A tenant (one exporter company, one authority, one standards team ...)."""

    id: int
    name: str
    created_at: datetime


@dataclass(frozen=True)
class ApiKey:
    """An API key as listed: never its secret."""

    id: int
    tenant_id: int
    role: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class IssuedKey:
    """A freshly issued key: the only time its secret exists outside the client.

    :ivar key: the stored key.
    :ivar tenant: its tenant's name.
    :ivar secret: the secret, for ``Authorization: Bearer <secret>``.
    """

    key: ApiKey
    tenant: str
    secret: str


def _tenant(row: tables.Tenant) -> Tenant:
    return Tenant(id=row.id, name=row.name, created_at=row.created_at)


def _key(row: tables.ApiKey) -> ApiKey:
    return ApiKey(
        id=row.id,
        tenant_id=row.tenant_id,
        role=row.role,
        prefix=row.prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def validate_tenant_name(name: str) -> str:
    """Check a tenant name.

    :param name: proposed name.
    :returns: the name.
    :raises InvalidInput: unless it is 1-100 letters, digits, spaces, ``.``, ``_`` or
        ``-``, starting and ending with a letter or digit.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInput(
            "tenant name must be 1-100 letters, digits, spaces, '.', '_' or '-', "
            "starting and ending with a letter or digit",
            pointer="/name",
        )
    return name


class Tenants:
    """Tenants and API keys, within one unit of work.

    :param session: the unit of work's session.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, name: str, actor: str = "system") -> Tenant:
        """Create a tenant.

        :param name: unique name (see :func:`validate_tenant_name`).
        :param actor: who asks, for the audit log.
        :returns: the tenant.
        :raises InvalidInput: for a bad name.
        :raises Conflict: when the name is taken.
        """
        validate_tenant_name(name)
        if self.session.scalar(select(tables.Tenant.id).where(tables.Tenant.name == name)):
            raise Conflict(f"tenant {name!r} already exists", pointer="/name")
        row = tables.Tenant(name=name)
        try:
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError as exc:  # a concurrent create of the same name won
            raise Conflict(f"tenant {name!r} already exists", pointer="/name") from exc
        AuditLog(self.session).append(actor, "tenant.created", f"tenant:{name}")
        return _tenant(row)

    def get(self, name: str) -> Tenant:
        """Find a tenant by name.

        :param name: the tenant's name.
        :returns: the tenant.
        :raises NotFound: when there is none.
        """
        return _tenant(self._row(name))

    def get_by_id(self, tenant_id: int) -> Tenant:
        """Find a tenant by id.

        :param tenant_id: the tenant's id.
        :returns: the tenant.
        :raises NotFound: when there is none.
        """
        row = self.session.get(tables.Tenant, tenant_id)
        if row is None:
            raise NotFound(f"no tenant with id {tenant_id}")
        return _tenant(row)

    def listing(self) -> list[Tenant]:
        """All tenants, by name.

        :returns: the tenants.
        """
        rows = self.session.scalars(select(tables.Tenant).order_by(tables.Tenant.name))
        return [_tenant(r) for r in rows]

    def issue_key(self, tenant: str, role: str, actor: str = "system") -> IssuedKey:
        """Issue an API key; its secret is returned here and nowhere else, ever.

        :param tenant: the tenant's name.
        :param role: one of :data:`gateway.auth.ROLES`.
        :param actor: who asks, for the audit log.
        :returns: the key with its secret.
        :raises InvalidInput: for an unknown role.
        :raises NotFound: for an unknown tenant.
        """
        if role not in auth.ROLES:
            raise InvalidInput(
                f"role must be one of {', '.join(auth.ROLES)}, not {role!r}", pointer="/role"
            )
        owner = self._row(tenant)
        secret = auth.new_secret()
        row = tables.ApiKey(
            tenant_id=owner.id,
            role=role,
            prefix=auth.key_prefix(secret),
            hash=auth.hash_secret(secret),
        )
        self.session.add(row)
        self.session.flush()
        AuditLog(self.session).append(
            actor, "api_key.issued", f"tenant:{owner.name}", {"key_id": row.id, "role": role}
        )
        return IssuedKey(key=_key(row), tenant=owner.name, secret=secret)

    def list_keys(self, tenant: str) -> list[ApiKey]:
        """A tenant's keys, revoked ones included, oldest first.

        :param tenant: the tenant's name.
        :returns: the keys (without secrets).
        :raises NotFound: for an unknown tenant.
        """
        owner = self._row(tenant)
        rows = self.session.scalars(
            select(tables.ApiKey)
            .where(tables.ApiKey.tenant_id == owner.id)
            .order_by(tables.ApiKey.id)
        )
        return [_key(r) for r in rows]

    def revoke_key(self, key_id: int, actor: str = "system") -> ApiKey:
        """Revoke a key; it stops authenticating at once. Revoking twice is harmless.

        :param key_id: the key's id.
        :param actor: who asks, for the audit log.
        :returns: the revoked key.
        :raises NotFound: for an unknown key.
        """
        row = self.session.get(tables.ApiKey, key_id)
        if row is None:
            raise NotFound(f"no API key with id {key_id}")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            self.session.flush()
            AuditLog(self.session).append(
                actor, "api_key.revoked", f"tenant_id:{row.tenant_id}", {"key_id": row.id}
            )
        return _key(row)

    def authenticate(self, secret: str) -> auth.Principal | None:
        """Who holds this secret.

        :param secret: the presented secret (from the bearer token).
        :returns: the caller, or ``None`` for an unknown, revoked or malformed secret.
        """
        if not secret or len(secret) > auth.MAX_SECRET_LENGTH:
            return None
        rows = self.session.execute(
            select(tables.ApiKey, tables.Tenant.name)
            .join(tables.Tenant, tables.Tenant.id == tables.ApiKey.tenant_id)
            .where(
                tables.ApiKey.prefix == auth.key_prefix(secret),
                tables.ApiKey.revoked_at.is_(None),
            )
        ).all()
        if not rows:
            auth.verify_secret(secret, _DUMMY_HASH)
            return None
        for key, tenant_name in rows:
            if auth.verify_secret(secret, key.hash):
                return auth.Principal(
                    tenant_id=key.tenant_id, tenant_name=tenant_name, role=key.role, key_id=key.id
                )
        return None

    def _row(self, name: str) -> tables.Tenant:
        row = self.session.scalar(select(tables.Tenant).where(tables.Tenant.name == name))
        if row is None:
            raise NotFound(f"no tenant named {name!r}", pointer="/tenant")
        return row
