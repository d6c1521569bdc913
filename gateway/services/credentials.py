"""The VC API side: verify credentials and presentations, issue credentials on the
generic route, serve status lists and contexts, keep trust lists and pinned contexts."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from gateway import auth
from gateway.auth import Principal
from gateway.credentials import data_integrity, jose
from gateway.credentials.keys import KeyStore, SigningKey
from gateway.credentials.model import (
    as_list,
    issuer_id,
    structure_checks,
)
from gateway.credentials.presentation import verify_presentation as _verify_presentation
from gateway.credentials.trust import TrustList
from gateway.credentials.verify import VerificationResult, verify
from gateway.errors import (
    Forbidden,
    InvalidInput,
    NotConfigured,
    NotFound,
    SigningKeyError,
    UnsupportedOption,
)
from gateway.paths import CONTEXTS_DIR
from gateway.services.instance import STATUS_LIST_URL, Instance, status_registry
from gateway.services.passports import actor_of, require
from gateway.settings import Settings
from gateway.store import AuditLog, Tenants, init_db
from gateway.store.contexts import PinnedContexts
from gateway.store.status_adapter import DatabaseStatusListStore
from gateway.store.trust import TrustedIssuers
from gateway.vocab.loader import CREDENTIALS_V2, document_loader, pinned_contexts

#: Types the generic issue route never signs: this gateway's passports and status lists
#: come only from the pipelines that own them (DESIGN §5).
RESERVED_TYPES = frozenset({
    "BatteryPassportCredential", "BatteryPassport",
    "BitstringStatusListCredential", "BitstringStatusList",
})
#: The passport vocabulary's namespace: no type or context of it on the generic route.
VOCABULARY_ROOT = "w3id.org/cn-eu-battery/"
#: The URL spaces of this gateway's own passports and status lists.
OWN_PATHS = ("/passports", "/status-lists")
CRYPTOSUITES = (data_integrity.RDFC, data_integrity.JCS)
ISSUE_FORMATS = ("di", "jwt")
#: ``options.checks`` of the verify routes: optional groups, by the check ids they cover.
#: The proof, contexts, structure and key-controller checks always run.
CHECK_GROUPS: dict[str, tuple[str, ...]] = {
    "proof": (),
    "credentialStatus": ("status",),
    "validity": ("validity",),
    "issuer": ("issuer.trust",),
    "vocabulary": ("passport.",),
}
VERIFY_OPTIONS = ("checks",)
PRESENTATION_OPTIONS = ("checks", "challenge", "domain")
#: Longest challenge or domain accepted.
MAX_OPTION_LENGTH = 1024


def _unknown_options(options: Mapping[str, Any], known: tuple[str, ...]) -> None:
    for name in options:
        if name not in known:
            raise UnsupportedOption(
                f"option {name!r} is not supported here; supported: {', '.join(known)}",
                pointer=f"/options/{name}")


def _requested_groups(options: Mapping[str, Any]) -> set[str] | None:
    if "checks" not in options:
        return None
    checks = options["checks"]
    if not isinstance(checks, list) or not all(isinstance(c, str) for c in checks):
        raise InvalidInput("options.checks is an array of check names", pointer="/options/checks")
    for i, name in enumerate(checks):
        if name not in CHECK_GROUPS:
            raise UnsupportedOption(
                f"check {name[:64]!r} is not supported; supported: {', '.join(CHECK_GROUPS)}",
                pointer=f"/options/checks/{i}")
    return set(checks)


def _only(result: VerificationResult, groups: set[str] | None) -> VerificationResult:
    """The result with the optional check groups the caller did not ask for left out."""
    if groups is None:
        return result
    dropped = tuple(prefix for name, prefixes in CHECK_GROUPS.items() if name not in groups
                    for prefix in prefixes)
    kept = tuple(c for c in result.checks if not c.id.startswith(dropped)) if dropped \
        else result.checks
    return VerificationResult(kept, result.format, result.credential)


def trust_list(instance: Instance, principal: Principal | None) -> TrustList:
    """The trust list a verification for ``principal`` judges issuers by: instance-wide
    entries, the ``trusted_issuers`` setting and the caller's tenant's entries; the
    gateway's own passport DID is always trusted."""
    with instance.db.reading() as session:
        return _trust_list(instance, session, principal)


def _trust_list(instance: Instance, session: Any, principal: Principal | None) -> TrustList:
    stored = TrustedIssuers(session).trust_list(
        principal.tenant_id if principal is not None else None, own=(instance.key.issuer,))
    return stored.merged(TrustList.of(instance.settings.trusted_issuers, source="setting"))


@contextmanager
def _verifier(
    instance: Instance, principal: Principal | None
) -> Iterator[tuple[Callable[[Mapping[str, Any] | str, set[str] | None], VerificationResult],
                    Mapping[str, Mapping[str, Any]]]]:
    """A verify function judging by the instance's trust lists, pinned contexts and status
    lists, all read in one database session (a request is one read, not three)."""
    with instance.db.reading() as session:
        trust = _trust_list(instance, session, principal)
        contexts = PinnedContexts(session).documents()
        source = status_registry(instance, DatabaseStatusListStore(session, lock=False)).source()

        def run(credential: Mapping[str, Any] | str, groups: set[str] | None
                ) -> VerificationResult:
            result = verify(
                credential,
                contexts=contexts,
                trusted_issuers=trust,
                resolver=instance.resolver,
                status_lists=source,
                passport_issuer=(instance.base_url, instance.key.issuer),
            )
            return _only(result, groups)

        yield run, contexts


def verify_credential(
    instance: Instance,
    credential: Mapping[str, Any] | str,
    principal: Principal | None = None,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Verify a credential against the instance's DID documents, trust lists, pinned
    contexts and status lists (DESIGN §6 flow 2); a failed verification is an answer.

    :param credential: a JSON credential with a proof, or a compact ``vc+jwt``.
    :param principal: the caller, whose tenant's trust list applies too.
    :param options: VC API options: ``checks`` (groups of :data:`CHECK_GROUPS`).
    :returns: ``{"verified": bool, "checks": [...], "issuerTrust": ...}``.
    :raises UnsupportedOption: an option or check name this gateway does not implement.
    """
    options = options or {}
    _unknown_options(options, VERIFY_OPTIONS)
    groups = _requested_groups(options)
    with _verifier(instance, principal) as (run, _):
        return run(credential, groups).as_dict()


def verify_presentation(
    instance: Instance,
    presentation: Any,
    principal: Principal | None = None,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Verify a presentation: its ``authentication`` proof (``challenge`` and ``domain``
    from ``options``) and each embedded credential.

    :returns: ``{"verified", "checks", "credentialResults"}``.
    :raises UnsupportedOption: an unknown option. :raises InvalidInput: a challenge or
        domain that is not a short string.
    """
    options = options or {}
    _unknown_options(options, PRESENTATION_OPTIONS)
    groups = _requested_groups(options)
    for name in ("challenge", "domain"):
        value = options.get(name)
        if value is not None and (not isinstance(value, str) or not value
                                  or len(value) > MAX_OPTION_LENGTH):
            raise InvalidInput(f"options.{name} is a string of 1 to {MAX_OPTION_LENGTH} "
                               "characters", pointer=f"/options/{name}")
    with _verifier(instance, principal) as (run, contexts):
        result = _verify_presentation(
            presentation,
            lambda credential: run(credential, groups),
            resolver=instance.resolver,
            loader=document_loader(extra=contexts),
            challenge=options.get("challenge"),
            domain=options.get("domain"),
        )
    return result.as_dict()


def vc_api_key(instance: Instance) -> SigningKey:
    """The active key of the generic issue route (its own DID, never the passport one).

    :raises NotConfigured: none yet (an instance made before the route had its own key;
        the operator runs ``gateway init``).
    """
    try:
        return KeyStore.vc_api(instance.settings).signing_key()
    except SigningKeyError as exc:
        raise NotConfigured(
            f"{exc.detail}. Create the VC API key with `gateway init` (or "
            "`gateway keys generate --vc-api`)."
        ) from exc


def vc_api_did_document(instance: Instance) -> dict[str, Any]:
    """The DID document of the generic issue route's DID (``did:web:<host>:vc-api``)."""
    return KeyStore.vc_api(instance.settings).did_document()


def _in_own_space(instance: Instance, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    low = value.lower()
    for path in OWN_PATHS:
        prefix = (instance.base_url + path).lower()
        if low.startswith(prefix) and low[len(prefix):len(prefix) + 1] in ("", "/", "?", "#"):
            return True
    return False


def _mentions_vocabulary(value: Any) -> bool:
    if isinstance(value, str):
        return VOCABULARY_ROOT in value
    if isinstance(value, Mapping):
        return any(_mentions_vocabulary(k) or _mentions_vocabulary(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_mentions_vocabulary(v) for v in value)
    return False


def _refuse_reserved(instance: Instance, body: Mapping[str, Any]) -> None:
    """Refuse what could pass for a passport or status list of this gateway (422)."""
    if _mentions_vocabulary(body.get("@context")):
        raise InvalidInput("the passport vocabulary's contexts and terms are signed only by "
                           "the passport pipeline", pointer="/credential/@context")
    places: list[tuple[str, Any]] = [("/credential", body)]
    for name in ("credentialSubject", "credentialStatus"):
        value = body.get(name)
        if isinstance(value, list):
            places.extend((f"/credential/{name}/{i}", v) for i, v in enumerate(value))
        elif value is not None:
            places.append((f"/credential/{name}", value))
    for pointer, node in places:
        if not isinstance(node, Mapping):
            continue
        for key in ("type", "@type"):
            for t in as_list(node.get(key)):
                if t in RESERVED_TYPES or (isinstance(t, str) and VOCABULARY_ROOT in t):
                    raise InvalidInput(
                        f"type {str(t)[:100]!r} is reserved: passports and status lists of "
                        "this gateway are signed only by the pipelines that own them",
                        pointer=f"{pointer}/{key}")
        for member in ("id", "@id", "statusListCredential"):
            if _in_own_space(instance, node.get(member)):
                raise InvalidInput(
                    f"{member} lies in this gateway's passport or status list URL space",
                    pointer=f"{pointer}/{member}")


def _issue_options(options: Mapping[str, Any] | None) -> tuple[str, str]:
    options = options or {}
    _unknown_options(options, ("format", "cryptosuite"))
    fmt = options.get("format", "di")
    if fmt not in ISSUE_FORMATS:
        raise InvalidInput(f"options.format must be one of {', '.join(ISSUE_FORMATS)}",
                           pointer="/options/format")
    suite = options.get("cryptosuite", data_integrity.RDFC)
    if suite not in CRYPTOSUITES:
        raise UnsupportedOption(
            f"cryptosuite must be one of {', '.join(CRYPTOSUITES)}",
            pointer="/options/cryptosuite")
    if fmt == "jwt" and "cryptosuite" in options:
        raise UnsupportedOption("a vc+jwt has no cryptosuite; leave options.cryptosuite out "
                                "with format jwt", pointer="/options/cryptosuite")
    return fmt, suite


def _audit_subject(body: Mapping[str, Any]) -> str:
    cid = body.get("id")
    if isinstance(cid, str) and 0 < len(cid) <= 400:
        return cid
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
    return "credential:sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def issue_credential(
    instance: Instance,
    credential: Mapping[str, Any],
    principal: Principal | None,
    options: Mapping[str, Any] | str | None = None,
) -> dict[str, Any]:
    """Sign a credential as the W3C VC API ``/credentials/issue`` does.

    The signer is the VC API key under its own DID (``did:web:<host>:vc-api``), never the
    passport key; reserved types and this gateway's passport and status list URLs are
    refused; each issue is recorded as ``credential.issued`` (who, types, id; no content).

    :param credential: the unsecured credential; an absent ``issuer`` is filled in with
        the VC API DID, another one refused.
    :param options: ``format`` (``di`` or ``jwt``) and ``cryptosuite``
        (``eddsa-rdfc-2022`` or ``eddsa-jcs-2022``, Data Integrity only); a plain string
        is taken as the format.
    :returns: the secured credential (vc+jwt as an ``EnvelopedVerifiableCredential``).
    :raises Unauthorized: no caller. :raises Forbidden: a role that may not issue.
    :raises UnsupportedOption: an unknown option or cryptosuite.
    :raises InvalidInput: a reserved type or URL, another issuer, or a credential that
        breaks VC DM 2.0 (``errors`` lists each rule).
    """
    require(principal, auth.may_issue(principal), "issue credentials")
    assert principal is not None
    fmt, suite = _issue_options({"format": options} if isinstance(options, str) else options)
    key = vc_api_key(instance)
    body = dict(credential)
    issuer = body.setdefault("issuer", key.issuer)
    if issuer_id(body) != key.issuer:
        raise InvalidInput(
            f"issuer must be this gateway's VC API DID {key.issuer}, not "
            f"{str(issuer)[:200]!r}", pointer="/credential/issuer")
    if "proof" in body:
        raise InvalidInput("the credential is already secured", pointer="/credential/proof")
    _refuse_reserved(instance, body)
    failed = [c for c in structure_checks(body) if not c.ok]
    if failed:
        raise InvalidInput(
            f"the credential breaks VC DM 2.0: {failed[0].reason}",
            pointer="/credential",
            errors=[{"pointer": "/credential", "message": c.reason} for c in failed],
        )
    if fmt == "jwt":
        token = jose.sign_jwt(body, key.private_key, key.kid, untrusted=True)
        secured: dict[str, Any] = {
            "@context": CREDENTIALS_V2,
            "id": f"data:application/vc+jwt,{token}",
            "type": "EnvelopedVerifiableCredential",
        }
    else:
        secured = data_integrity.add_proof(
            body, key.private_key, key.kid, cryptosuite=suite, untrusted=True
        )
    types = [str(t)[:100] for t in as_list(body.get("type"))][:10]
    with instance.db.transaction() as session:
        AuditLog(session).append(actor_of(principal), "credential.issued", _audit_subject(body), {
            "types": types, "format": fmt,
            "cryptosuite": suite if fmt == "di" else "", "issuer": key.issuer})
    return secured


def status_list_credential(instance: Instance, list_id: str) -> dict[str, Any]:
    """The signed ``BitstringStatusListCredential`` of one of the instance's lists.

    :param list_id: the last part of the list URL (``revocation-1``).
    :raises NotFound: no such list.
    """
    url = STATUS_LIST_URL.format(base=instance.base_url, purpose="", n="")
    url = url.rsplit("/", 1)[0] + "/" + list_id
    with instance.db.reading() as session:
        status_list = DatabaseStatusListStore(session, lock=False).load(url)
    if status_list is None:
        raise NotFound(f"no status list {list_id!r}", pointer="id")
    return data_integrity.add_proof(
        status_list.credential(), instance.key.private_key, instance.key.kid
    )


def require_issuer(principal: Principal | None) -> None:
    """Check that the caller may issue passports.

    :raises Unauthorized: no caller. :raises Forbidden: a role that may not issue.
    """
    require(principal, auth.may_issue(principal), "issue passports")


@lru_cache(maxsize=1)
def _contexts_by_name() -> dict[str, Mapping[str, Any]]:
    index = json.loads((CONTEXTS_DIR / "index.json").read_text(encoding="utf-8"))
    documents = pinned_contexts()  # checks every file against its pinned hash
    return {entry["file"].removesuffix(".jsonld"): documents[url] for url, entry in index.items()}


def pinned_context(name: str) -> Mapping[str, Any]:
    """A pinned JSON-LD context by its file name without suffix (``passport-v1``).

    :raises NotFound: no such pinned context.
    """
    contexts = _contexts_by_name()
    if name not in contexts:
        known = ", ".join(sorted(contexts))
        raise NotFound(f"no pinned context {name!r}; known: {known}", pointer="name")
    return contexts[name]


# --- pinned contexts -----------------------------------------------------------------


def context_listing(instance: Instance) -> list[dict[str, Any]]:
    """Every context the verifier serves: shipped ones and those pinned in the database,
    each with its SHA-256 (nothing else is ever loaded)."""
    index = json.loads((CONTEXTS_DIR / "index.json").read_text(encoding="utf-8"))
    out: list[dict[str, Any]] = [
        {"url": url, "sha256": entry["sha256"], "source": "shipped",
         "name": entry["file"].removesuffix(".jsonld")}
        for url, entry in sorted(index.items())
    ]
    with instance.db.reading() as session:
        out.extend(entry.as_json() for entry in PinnedContexts(session).list())
    return out


def pin_context(instance: Instance, principal: Principal | None, url: str, data: bytes
                ) -> dict[str, Any]:
    """Pin an extra context (admins only; audited as ``context.pinned``).

    :raises Forbidden: not an admin. :raises InvalidInput / Conflict: see
        :meth:`PinnedContexts.add`.
    """
    require(principal, auth.may_administer(principal), "pin contexts")
    assert principal is not None
    with instance.db.transaction() as session:
        entry = PinnedContexts(session).add(url, data, shipped=pinned_contexts(),
                                            actor=actor_of(principal))
    return entry.as_json()


def unpin_context(instance: Instance, principal: Principal | None, url: str) -> None:
    """Unpin an extra context (admins only; audited as ``context.unpinned``)."""
    require(principal, auth.may_administer(principal), "unpin contexts")
    assert principal is not None
    with instance.db.transaction() as session:
        PinnedContexts(session).remove(url, actor=actor_of(principal))


# --- trust lists ---------------------------------------------------------------------

#: Roles that keep their own tenant's trust list: the parties who verify others'
#: credentials. Admins keep the instance-wide list and any tenant's.
TRUST_KEEPERS = (auth.IMPORTER, auth.AUTHORITY, auth.ADMIN)


def trusted_issuers(instance: Instance, principal: Principal | None) -> list[dict[str, Any]]:
    """The entries that apply to the caller: instance-wide, plus its tenant's (an admin
    sees every tenant's)."""
    with instance.db.reading() as session:
        entries = TrustedIssuers(session).list(
            principal.tenant_id if principal is not None else None,
            every_tenant=auth.may_administer(principal))
    return [e.as_json() for e in entries]


def add_trusted_issuer(
    instance: Instance, principal: Principal | None, kind: str, value: str, scope: str,
    tenant: str | None = None,
) -> dict[str, Any]:
    """Add a trust list entry (audited as ``trust.added``).

    :param scope: ``instance`` (admins) or ``tenant`` (the caller's tenant, or ``tenant``
        named by an admin at the console).
    :raises Forbidden: a role that may not keep that list.
    """
    tenant_id = _trust_scope(instance, principal, scope, tenant)
    assert principal is not None
    with instance.db.transaction() as session:
        entry = TrustedIssuers(session).add(kind, value, tenant_id=tenant_id,
                                            actor=actor_of(principal))
    return entry.as_json()


def remove_trusted_issuer(instance: Instance, principal: Principal | None, entry_id: int
                          ) -> None:
    """Remove a trust list entry (audited as ``trust.removed``).

    :raises NotFound: no such entry, or one of another tenant (not told apart).
    :raises Forbidden: a role that may not keep that list.
    """
    require(principal, principal is not None and principal.role in TRUST_KEEPERS,
            "change trust lists")
    assert principal is not None
    with instance.db.transaction() as session:
        issuers = TrustedIssuers(session)
        owner = issuers.tenant_of(entry_id)
        if not auth.may_administer(principal):
            if owner is None:
                raise Forbidden("only admins change the instance-wide trust list")
            if owner != principal.tenant_id:
                raise NotFound(f"no trust list entry {entry_id}", pointer="id")
        issuers.remove(entry_id, actor=actor_of(principal))


def _trust_scope(instance: Instance, principal: Principal | None, scope: str,
                 tenant: str | None) -> int | None:
    require(principal, principal is not None and principal.role in TRUST_KEEPERS,
            "change trust lists")
    assert principal is not None
    if scope == "instance":
        require(principal, auth.may_administer(principal), "change the instance-wide trust list")
        return None
    if scope != "tenant":
        raise InvalidInput("scope must be instance or tenant", pointer="/scope")
    if tenant is not None:
        require(principal, auth.may_administer(principal), "change another tenant's trust list")
        with instance.db.reading() as session:
            return Tenants(session).get(tenant).id
    if not principal.tenant_id:
        raise InvalidInput("the console acts for no tenant; name one", pointer="/tenant")
    return principal.tenant_id


# --- the offline verifier ------------------------------------------------------------


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
