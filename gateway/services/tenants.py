"""Who calls: tenants and their API keys, the holder of a key, or the operator at the
instance's console."""

from __future__ import annotations

from gateway import auth
from gateway.auth import CONSOLE_KEY_ID, Principal
from gateway.errors import InvalidInput
from gateway.services.instance import Instance
from gateway.store import Database, Tenants
from gateway.store.tenants import ApiKey, IssuedKey, Tenant


def authenticate(instance: Instance, secret: str) -> Principal | None:
    """Who holds an API key secret.

    :param secret: the bearer token.
    :returns: the caller, or ``None`` for an unknown or revoked key.
    """
    with instance.db.reading() as session:
        return Tenants(session).authenticate(secret)


def console_principal(
    instance: Instance, tenant: str | None, role: str = auth.EXPORTER
) -> Principal:
    """The operator at the instance's console, acting for a tenant (``gateway convert
    --store``, ``gateway passports list --tenant``).

    :param tenant: the tenant's name; ``None`` picks the only tenant there is.
    :param role: the role to act in.
    :returns: the principal (its ``key_id`` is :data:`~gateway.auth.CONSOLE_KEY_ID`).
    :raises NotFound: no such tenant. :raises InvalidInput: no tenant named while the
        store holds none or several.
    """
    with instance.db.reading() as session:
        tenants = Tenants(session)
        if tenant is not None:
            found = tenants.get(tenant)
        else:
            known = tenants.listing()
            if len(known) != 1:
                names = ", ".join(t.name for t in known)
                raise InvalidInput(
                    "name the tenant with --tenant"
                    + (
                        f" (one of {names})"
                        if names
                        else "; create one first with `gateway tenants create NAME`"
                    ),
                    pointer="--tenant",
                )
            found = known[0]
    return Principal(tenant_id=found.id, tenant_name=found.name, role=role, key_id=CONSOLE_KEY_ID)


def tenant_id(db: Database, name: str) -> int:
    """The id of the tenant ``name``.

    :raises NotFound: no such tenant.
    """
    with db.reading() as session:
        return Tenants(session).get(name).id


def create_tenant(db: Database, principal: Principal | None, name: str) -> Tenant:
    """Create a tenant (admins; audited).

    :raises Conflict: the name is taken. :raises InvalidInput: not a valid name.
    """
    caller = auth.require(principal, auth.may_administer(principal), "create tenants")
    with db.transaction() as session:
        return Tenants(session).create(name, actor=auth.audit_actor(caller))


def tenant_listing(db: Database) -> list[Tenant]:
    """Every tenant, oldest first."""
    with db.reading() as session:
        return Tenants(session).listing()


def tenant_keys(db: Database, name: str) -> list[ApiKey]:
    """The API keys of tenant ``name`` (prefixes only; secrets are never kept).

    :raises NotFound: no such tenant.
    """
    with db.reading() as session:
        return Tenants(session).list_keys(name)


def issue_api_key(db: Database, principal: Principal | None, tenant: str, role: str) -> IssuedKey:
    """Issue an API key (admins; audited); its secret is in the result, once.

    :raises NotFound: no such tenant. :raises InvalidInput: an unknown role.
    """
    caller = auth.require(principal, auth.may_administer(principal), "issue API keys")
    with db.transaction() as session:
        return Tenants(session).issue_key(tenant, role, actor=auth.audit_actor(caller))


def revoke_api_key(db: Database, principal: Principal | None, key_id: int) -> ApiKey:
    """Revoke an API key at once (admins; audited).

    :raises NotFound: no such key.
    """
    caller = auth.require(principal, auth.may_administer(principal), "revoke API keys")
    with db.transaction() as session:
        return Tenants(session).revoke_key(key_id, actor=auth.audit_actor(caller))
