"""Trust lists: which issuers a verification vouches for, instance-wide and per tenant,
kept in the database and audited; other issuers' DID documents pinned for the verifier;
and what the offline verifier judges by."""

from __future__ import annotations

from typing import Any

from gateway import auth
from gateway.auth import Principal
from gateway.credentials.keys import KeyStore
from gateway.credentials.trust import TrustList
from gateway.errors import Forbidden, InvalidInput, NotFound
from gateway.services.instance import Instance, own_did_documents
from gateway.services.instance_state import own_dids
from gateway.settings import Settings
from gateway.store import Database, Tenants, init_db
from gateway.store.contexts import PinnedContexts
from gateway.store.did_documents import PinnedDidDocuments
from gateway.store.trust import TrustedIssuers, TrustEntry


def session_trust_list(instance: Instance, session: Any, principal: Principal | None) -> TrustList:
    """The trust list a verification for ``principal`` judges issuers by, read in an open
    database session: instance-wide entries, the ``trusted_issuers`` setting and the
    caller's tenant's entries; the gateway's own passport DID is always trusted."""
    stored = TrustedIssuers(session).trust_list(
        principal.tenant_id if principal is not None else None, own=(instance.key.issuer,)
    )
    return stored.merged(TrustList.of(instance.settings.trusted_issuers, source="setting"))


#: Roles that keep their own tenant's trust list: the parties who verify others'
#: credentials. Admins keep the instance-wide list and any tenant's.
TRUST_KEEPERS = (auth.IMPORTER, auth.AUTHORITY, auth.ADMIN)


def trusted_issuers(db: Database, principal: Principal | None) -> list[dict[str, Any]]:
    """The entries that apply to the caller: instance-wide, plus its tenant's (an admin
    sees every tenant's)."""
    with db.reading() as session:
        entries = TrustedIssuers(session).listing(
            principal.tenant_id if principal is not None else None,
            every_tenant=auth.may_administer(principal),
        )
    return [e.as_json() for e in entries]


def trust_entries(
    db: Database, tenant: str | None = None, *, every_tenant: bool = False
) -> list[TrustEntry]:
    """The instance-wide entries and ``tenant``'s (or every tenant's), for the console.

    :raises NotFound: no such tenant.
    """
    with db.reading() as session:
        tenant_id = Tenants(session).get(tenant).id if tenant else None
        return TrustedIssuers(session).listing(tenant_id, every_tenant=every_tenant)


def issuer_kind(value: str) -> str:
    """``did`` for a DID, else ``domain`` (a did:web domain)."""
    return "did" if value.startswith("did:") else "domain"


def add_trusted_issuer(
    db: Database,
    principal: Principal | None,
    kind: str,
    value: str,
    scope: str,
    tenant: str | None = None,
) -> dict[str, Any]:
    """Add a trust list entry (audited as ``trust.added``).

    :param scope: ``instance`` (admins) or ``tenant`` (the caller's tenant, or ``tenant``
        named by an admin at the console).
    :raises Forbidden: a role that may not keep that list.
    """
    caller, tenant_id = _trust_scope(db, principal, scope, tenant)
    with db.transaction() as session:
        entry = TrustedIssuers(session).add(
            kind, value, tenant_id=tenant_id, actor=auth.audit_actor(caller)
        )
    return entry.as_json()


def remove_trusted_issuer(db: Database, principal: Principal | None, entry_id: int) -> TrustEntry:
    """Remove a trust list entry (audited as ``trust.removed``).

    :returns: the entry removed.

    :raises NotFound: no such entry, or one of another tenant (not told apart).
    :raises Forbidden: a role that may not keep that list.
    """
    caller = _trust_keeper(principal)
    with db.transaction() as session:
        issuers = TrustedIssuers(session)
        owner = issuers.tenant_of(entry_id)
        if not auth.may_administer(caller):
            if owner is None:
                raise Forbidden("only admins change the instance-wide trust list")
            if owner != caller.tenant_id:
                raise NotFound(f"no trust list entry {entry_id}", pointer="id")
        return issuers.remove(entry_id, actor=auth.audit_actor(caller))


def _trust_keeper(principal: Principal | None) -> Principal:
    return auth.require(
        principal, principal is not None and principal.role in TRUST_KEEPERS, "change trust lists"
    )


def _trust_scope(
    db: Database, principal: Principal | None, scope: str, tenant: str | None
) -> tuple[Principal, int | None]:
    """The caller and the tenant whose list it changes (``None``: the instance-wide one)."""
    caller = _trust_keeper(principal)
    if scope == "instance":
        auth.require(caller, auth.may_administer(caller), "change the instance-wide trust list")
        return caller, None
    if scope != "tenant":
        raise InvalidInput("scope must be instance or tenant", pointer="/scope")
    if tenant is not None:
        auth.require(caller, auth.may_administer(caller), "change another tenant's trust list")
        with db.reading() as session:
            return caller, Tenants(session).get(tenant).id
    if not caller.tenant_id:
        raise InvalidInput("the console acts for no tenant; name one", pointer="/tenant")
    return caller, caller.tenant_id


def offline_trust_and_contexts(
    settings: Settings, tenant: str | None = None
) -> tuple[TrustList, dict[str, Any], tuple[str, str] | None]:
    """What ``gateway verify`` judges by on this machine: the instance's trust list
    (instance-wide entries, ``tenant``'s with a name, the ``trusted_issuers`` setting),
    its extra pinned contexts, and its own ``(base URL, passport DID)`` when it has keys.

    :raises NotFound: no tenant of that name.
    """
    keys = KeyStore.from_settings(settings)
    own = (keys.active().controller,) if keys.records() else ()
    trust = TrustList(own=frozenset(own))
    contexts: dict[str, Any] = {}
    if settings.has_store:
        db = init_db(settings)
        try:
            with db.reading() as session:
                tenant_id = Tenants(session).get(tenant).id if tenant else None
                trust = TrustedIssuers(session).trust_list(tenant_id, own=own)
                contexts = PinnedContexts(session).documents()
        finally:
            db.dispose()
    elif tenant:
        raise NotFound(f"no tenant {tenant!r}: the instance has no database", pointer="tenant")
    trust = trust.merged(TrustList.of(settings.trusted_issuers, source="setting"))
    passport = (settings.base_url.rstrip("/"), own[0]) if own else None
    return trust, contexts, passport


def pinned_did_documents(db: Database) -> list[dict[str, Any]]:
    """The other issuers' DID documents pinned in the database (without the documents)."""
    with db.reading() as session:
        return [entry.as_json() for entry in PinnedDidDocuments(session).listing()]


def pin_did_document(
    db: Database, principal: Principal | None, settings: Settings, data: bytes
) -> dict[str, Any]:
    """Pin another issuer's ``did:web`` DID document for the verifier (admins only;
    audited as ``did.pinned``); every instance of the database resolves it from the next
    verification on.

    :raises Forbidden: not an admin. :raises InvalidInput / Conflict: see
        :meth:`PinnedDidDocuments.add`.
    """
    caller = auth.require(principal, auth.may_administer(principal), "pin DID documents")
    with db.transaction() as session:
        entry = PinnedDidDocuments(session).add(
            data, own=own_dids(settings), actor=auth.audit_actor(caller)
        )
    return entry.as_json()


def unpin_did_document(db: Database, principal: Principal | None, did: str) -> None:
    """Unpin a DID document (admins only; audited as ``did.unpinned``).

    :raises NotFound: not pinned.
    """
    caller = auth.require(principal, auth.may_administer(principal), "unpin DID documents")
    with db.transaction() as session:
        PinnedDidDocuments(session).remove(did, actor=auth.audit_actor(caller))


def offline_did_documents(settings: Settings) -> dict[str, Any]:
    """The DID documents ``gateway verify`` resolves on this machine: those pinned in the
    instance's database and the gateway's own, made from its keys."""
    documents: dict[str, Any] = {}
    if settings.has_store:
        db = init_db(settings)
        try:
            with db.reading() as session:
                documents.update(PinnedDidDocuments(session).documents())
        finally:
            db.dispose()
    documents.update(own_did_documents(settings))
    return documents
