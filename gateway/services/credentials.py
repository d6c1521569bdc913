"""The VC API side: verify credentials and presentations, issue credentials on the
generic route, serve status lists. Trust lists are :mod:`gateway.services.trust`, pinned
contexts :mod:`gateway.services.contexts`."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import Any
from weakref import WeakKeyDictionary

from gateway import auth
from gateway.auth import Principal
from gateway.credentials import data_integrity, formats, jose, rdfc
from gateway.credentials.did import Resolver
from gateway.credentials.keys import KeyStore, SigningKey
from gateway.credentials.lexical import in_url_space
from gateway.credentials.model import (
    as_list,
    issuer_id,
    structure_checks,
)
from gateway.credentials.presentation import verify_presentation as _verify_presentation
from gateway.credentials.status_list import StatusListCache, cached_source
from gateway.credentials.verify import DeferredTrustList, VerificationResult, verify
from gateway.errors import (
    InvalidInput,
    NotConfigured,
    NotFound,
    SigningKeyError,
    UnsupportedOption,
)
from gateway.services.instance import STATUS_LIST_URL, Instance
from gateway.services.trust import session_trust_list
from gateway.store import AuditLog
from gateway.store.status_adapter import DatabaseStatusListStore
from gateway.vocab.loader import CREDENTIALS_V2, document_loader

#: Types the generic issue route never signs: this gateway's passports and status lists
#: come only from the pipelines that own them (DESIGN §5).
RESERVED_TYPES = frozenset(
    {
        "BatteryPassportCredential",
        "BatteryPassport",
        "BitstringStatusListCredential",
        "BitstringStatusList",
    }
)
#: The passport vocabulary's namespace: no type or context of it on the generic route.
VOCABULARY_ROOT = "w3id.org/cn-eu-battery/"
#: The URL spaces of this gateway's own passports and status lists.
OWN_PATHS = ("/passports", "/status-lists")
CRYPTOSUITES = (data_integrity.RDFC, data_integrity.JCS)
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
                pointer=f"/options/{name}",
            )


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
                pointer=f"/options/checks/{i}",
            )
    return set(checks)


def _only(result: VerificationResult, groups: set[str] | None) -> VerificationResult:
    """The result with the optional check groups the caller did not ask for left out."""
    if groups is None:
        return result
    dropped = tuple(
        prefix
        for name, prefixes in CHECK_GROUPS.items()
        if name not in groups
        for prefix in prefixes
    )
    kept = (
        tuple(c for c in result.checks if not c.id.startswith(dropped))
        if dropped
        else result.checks
    )
    return VerificationResult(kept, result.format, result.credential)


#: The decoded status lists of this process, per database: two instances sharing one
#: database in one process still each check the version on every use.
_STATUS_CACHES: WeakKeyDictionary[Any, StatusListCache] = WeakKeyDictionary()
_STATUS_CACHES_LOCK = threading.Lock()


def _status_cache(instance: Instance) -> StatusListCache:
    """The status list cache of the instance's database (made on first use)."""
    with _STATUS_CACHES_LOCK:
        cache = _STATUS_CACHES.get(instance.db)
        if cache is None:
            cache = _STATUS_CACHES[instance.db] = StatusListCache()
        return cache


@contextmanager
def _verifier(
    instance: Instance, principal: Principal | None
) -> Iterator[
    tuple[
        Callable[[Mapping[str, Any] | str, set[str] | None], VerificationResult],
        Mapping[str, Mapping[str, Any]],
        Resolver,
    ]
]:
    """A verify function judging by the instance's trust lists, pinned contexts, DID
    documents and status lists.

    A verification of a credential of this gateway's, whose sources this process holds
    current, reads one statement (the state's versions) and opens no unit of work. What
    must be read (a trust list for another issuer, a status list or pinned document
    changed or not held yet) is read in one read unit of work, opened on first need.
    """
    with ExitStack() as stack:
        opened: list[Any] = []

        def session() -> Any:
            if not opened:
                opened.append(stack.enter_context(instance.db.reading()))
            return opened[0]

        def status_store() -> DatabaseStatusListStore:
            return DatabaseStatusListStore(session(), lock=False)

        trust = DeferredTrustList(
            frozenset({instance.key.issuer}),
            lambda: session_trust_list(instance, session(), principal),
        )
        contexts, resolver, status_state = instance.verifier_sources(session)
        source = cached_source(
            lambda url: status_store().version(url),
            lambda url: status_store().versioned(url),
            _status_cache(instance),
            status_state,
        )

        def run(credential: Mapping[str, Any] | str, groups: set[str] | None) -> VerificationResult:
            result = verify(
                credential,
                contexts=contexts,
                trusted_issuers=trust,
                resolver=resolver,
                status_lists=source,
                passport_issuer=(instance.base_url, instance.key.issuer),
            )
            return _only(result, groups)

        yield run, contexts, resolver


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
    with _verifier(instance, principal) as (run, _, _):
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
        if value is not None and (
            not isinstance(value, str) or not value or len(value) > MAX_OPTION_LENGTH
        ):
            raise InvalidInput(
                f"options.{name} is a string of 1 to {MAX_OPTION_LENGTH} characters",
                pointer=f"/options/{name}",
            )
    with _verifier(instance, principal) as (run, contexts, resolver):
        result = _verify_presentation(
            presentation,
            lambda credential: run(credential, groups),
            resolver=resolver,
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
    # Compared as routed (case, port, percent-escapes, dot segments), not as a prefix:
    # https://gw.example/%70assports/… is the same resource as …/passports/….
    return any(in_url_space(value, instance.base_url, path) for path in OWN_PATHS)


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
        raise InvalidInput(
            "the passport vocabulary's contexts and terms are signed only by the passport pipeline",
            pointer="/credential/@context",
        )
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
                        pointer=f"{pointer}/{key}",
                    )
        for member in ("id", "@id", "statusListCredential"):
            if _in_own_space(instance, node.get(member)):
                raise InvalidInput(
                    f"{member} lies in this gateway's passport or status list URL space",
                    pointer=f"{pointer}/{member}",
                )


#: RDF types the generic issue route never signs, whatever the JSON term that names them.
RESERVED_TYPE_IRIS = frozenset(
    {
        "https://www.w3.org/ns/credentials/status#BitstringStatusListCredential",
        "https://www.w3.org/ns/credentials/status#BitstringStatusList",
    }
)
_RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"


def _refuse_reserved_rdf(body: Mapping[str, Any]) -> None:
    """Refuse a reserved type or passport term as it reaches the signed RDF (422).

    The JSON checks of :func:`_refuse_reserved` read type names as written; an IRI
    written out, an inline alias, a prefix or a ``@vocab`` cut short
    (``"@vocab": "https://w3id.org/cn-eu-"`` + ``battery/vocab#…``) name the same RDF
    type with none of the reserved strings, so the expanded dataset is checked too.
    """
    root = "<https://" + VOCABULARY_ROOT
    for line in rdfc.canonicalize(body, untrusted=True).splitlines():
        _, predicate, rest = line.split(" ", 2)
        reserved = predicate.startswith(root)
        if predicate == _RDF_TYPE:
            target = rest.split(" ", 1)[0]
            reserved = target.startswith(root) or target[1:-1] in RESERVED_TYPE_IRIS
        elif rest.startswith('"'):
            reserved = reserved or f"^^{root}" in rest  # a datatype of the vocabulary
        if reserved:
            raise InvalidInput(
                f"{line[:200]!r}: passport and status list types and terms of this gateway "
                "are signed only by the pipelines that own them",
                pointer="/credential",
            )


def _issue_options(options: Mapping[str, Any] | None) -> tuple[str, str]:
    options = options or {}
    _unknown_options(options, ("format", "cryptosuite"))
    fmt = formats.proof_format(options.get("format", "di"), pointer="/options/format")
    suite = options.get("cryptosuite", data_integrity.RDFC)
    if suite not in CRYPTOSUITES:
        raise UnsupportedOption(
            f"cryptosuite must be one of {', '.join(CRYPTOSUITES)}", pointer="/options/cryptosuite"
        )
    if fmt == "jwt" and "cryptosuite" in options:
        raise UnsupportedOption(
            "a vc+jwt has no cryptosuite; leave options.cryptosuite out with format jwt",
            pointer="/options/cryptosuite",
        )
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
    caller = auth.require(principal, auth.may_issue(principal), "issue credentials")
    fmt, suite = _issue_options({"format": options} if isinstance(options, str) else options)
    key = vc_api_key(instance)
    body = dict(credential)
    issuer = body.setdefault("issuer", key.issuer)
    if issuer_id(body) != key.issuer:
        raise InvalidInput(
            f"issuer must be this gateway's VC API DID {key.issuer}, not {str(issuer)[:200]!r}",
            pointer="/credential/issuer",
        )
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
    _refuse_reserved_rdf(body)
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
        AuditLog(session).append(
            auth.audit_actor(caller),
            "credential.issued",
            _audit_subject(body),
            {
                "types": types,
                "format": fmt,
                "cryptosuite": suite if fmt == "di" else "",
                "issuer": key.issuer,
            },
        )
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
