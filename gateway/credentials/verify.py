"""One verifier for both securing formats: Data Integrity proofs and ``vc+jwt``.

``verify`` detects the format, checks the securing mechanism, and then (unless
``proof_only``) the credential itself: VC DM 2.0 structure, that the issuer controls the
signing key, the validity period, every status list entry (fail closed), the issuer
trust list and, for this gateway's battery passports, that the subject speaks the
passport vocabulary with the right JSON types. A failed verification is an answer
(``verified: false`` with the failed checks), never an exception (DESIGN §5).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from weakref import WeakKeyDictionary

from gateway import jsontext
from gateway.annex_xiii import ALL_SECTIONS, is_section, points_of
from gateway.credentials import data_integrity, direct_nquads, jose
from gateway.credentials.checks import Check
from gateway.credentials.did import Resolver, VerificationMethod
from gateway.credentials.lexical import in_url_space
from gateway.credentials.model import (
    PASSPORT_CREDENTIAL_TYPE,
    as_list,
    issuer_id,
    parse_datetime,
    structure_checks,
)
from gateway.credentials.status_list import (
    StatusSource,
    check_status,
    documents_source,
)
from gateway.credentials.trust import TRUSTED, UNKNOWN, UNTRUSTED, TrustList
from gateway.errors import ContextError, CredentialError, GatewayError
from gateway.jsontext import JsonTextError
from gateway.jsonvalues import DECIMAL_LEXICAL, YEAR_MONTH_LEXICAL, is_safe_integer
from gateway.vocab.loader import (
    DocumentLoader,
    default_loader,
    document_loader,
    passport_contexts,
)

MAX_CREDENTIAL_BYTES = 4 * 1024 * 1024
PASSPORT_TYPE = "BatteryPassport"
ENVELOPE_PREFIX = "data:application/vc+jwt,"
_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+")
#: Verification methods kept per resolver (most recently used first to stay).
CACHED_METHODS = 256


class _Remembered:
    """What one resolver answered for one reference and purpose, with the Ed25519 key
    decoded from it once it was asked for."""

    __slots__ = ("ed25519", "method")

    def __init__(self, method: VerificationMethod) -> None:
        self.method = method
        self.ed25519: Any = None


_METHODS: WeakKeyDictionary[Resolver, OrderedDict[tuple[str, str], _Remembered]]
_METHODS = WeakKeyDictionary()
_METHODS_LOCK = threading.Lock()


class RememberingResolver(Resolver):
    """A resolver that answers again from what it resolved before, per underlying
    resolver (the instance keeps one for its life), at most :data:`CACHED_METHODS` each.

    Resolving reads the DID document and decodes the key's multibase on every request
    otherwise. Only answers that cannot change while the underlying resolver lives are
    kept: a ``did:key`` (the key is the DID), a pinned DID document, a key given
    explicitly; a ``did:web`` fetched over the network is resolved every time, and a
    failed resolution is never kept.
    """

    def __init__(self, inner: Resolver) -> None:
        super().__init__(keys=inner.keys, allow_network=inner.allow_network)
        self.documents = inner.documents
        self.inner = inner

    def document(self, did: str) -> Mapping[str, Any]:
        return self.inner.document(did)

    def remembered(self, reference: str, purpose: str) -> _Remembered:
        """The method a reference names (see :meth:`Resolver.resolve`), kept if fixed."""
        key = (reference, purpose)
        with _METHODS_LOCK:
            memo = _METHODS.setdefault(self.inner, OrderedDict())
            found = memo.get(key)
            if found is not None:
                memo.move_to_end(key)
                return found
        found = _Remembered(self.inner.resolve(reference, purpose=purpose))
        did = reference.partition("#")[0]
        if self.inner.keys or did.startswith("did:key:") or did in self.inner.documents:
            with _METHODS_LOCK:
                memo[key] = found
                while len(memo) > CACHED_METHODS:
                    memo.popitem(last=False)
        return found

    def resolve(self, reference: str, *, purpose: str = "assertionMethod") -> VerificationMethod:
        return self.remembered(reference, purpose).method


def remembering(resolver: Resolver) -> RememberingResolver:
    """``resolver`` answering from what it resolved before."""
    return resolver if isinstance(resolver, RememberingResolver) else RememberingResolver(resolver)


class DeferredTrustList:
    """A trust list read only when an issuer other than the gateway's own is judged.

    Most credentials a gateway verifies are its own passports, whose issuer is trusted
    without a list entry; reading the stored lists for them would cost a query per
    request for nothing.

    :param own: DIDs trusted without a list entry.
    :param load: reads the whole list (with ``own``), at most once.
    """

    def __init__(self, own: frozenset[str], load: Callable[[], TrustList]) -> None:
        self.own = own
        self._load = load
        self._loaded: TrustList | None = None

    def for_issuer(self, issuer: object) -> TrustList:
        """The list to judge ``issuer`` by: ``own`` alone for an own DID."""
        if isinstance(issuer, str) and issuer in self.own:
            return TrustList(own=self.own)
        if self._loaded is None:
            self._loaded = self._load()
        return self._loaded


@dataclass(frozen=True)
class VerificationResult:
    """The verdict on one credential.

    :param checks: every step that ran, in order.
    :param format: ``data-integrity``, ``vc+jwt`` or ``unknown``.
    :param credential: the credential (the JWS payload for vc+jwt), when it could be read.
    """

    checks: tuple[Check, ...]
    format: str = "unknown"
    credential: Mapping[str, Any] | None = field(default=None, compare=False)

    @property
    def verified(self) -> bool:
        """True only when there is at least one check and every check passed."""
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    @property
    def issuer_trust(self) -> str | None:
        """``trusted``, ``untrusted`` or ``unknown`` (no trust list); None when the
        issuer was not judged (the verification stopped before)."""
        for check in self.checks:
            if check.id == "issuer.trust":
                if not check.evaluated:
                    return UNKNOWN
                return TRUSTED if check.ok else UNTRUSTED
        return None

    def as_dict(self) -> dict[str, Any]:
        """``{"verified": bool, "checks": [{"id", "ok", "reason"}]}``, plus
        ``issuerTrust`` once the issuer was judged."""
        out: dict[str, Any] = {
            "verified": self.verified,
            "checks": [c.as_dict() for c in self.checks],
        }
        if self.issuer_trust is not None:
            out["issuerTrust"] = self.issuer_trust
        return out


def verify(
    credential: object,
    *,
    now: datetime | None = None,
    contexts: Mapping[str, Mapping[str, Any]] | None = None,
    proof_only: bool = False,
    trusted_issuers: Sequence[str] | TrustList | DeferredTrustList = (),
    resolver: Resolver | None = None,
    status_lists: StatusSource | Mapping[str, Mapping[str, Any]] | None = None,
    strict: bool = False,
    passport_issuer: tuple[str, str] | None = None,
) -> VerificationResult:
    """Verify a credential secured with a Data Integrity proof or as a ``vc+jwt``.

    :param credential: a parsed JSON credential with ``proof``, or text (or UTF-8 bytes):
        JSON, a compact JWS, or an ``EnvelopedVerifiableCredential``. Any other JSON
        value fails the ``format`` check.
    :param now: the time validity is judged at (default: now).
    :param contexts: JSON-LD contexts by URL besides the pinned ones.
    :param proof_only: check the securing mechanism only (signature, key, contexts).
    :param trusted_issuers: accepted issuers: a :class:`TrustList` (or a
        :class:`DeferredTrustList`, read when first needed), or DIDs and did:web
        domains; without entries the issuer check is "not evaluated".
    :param resolver: where verification methods come from (default: did:key only).
    :param status_lists: status list credentials by URL, or a source; default none,
        so a credential with ``credentialStatus`` fails closed.
    :param strict: warnings (e.g. a JWS without ``typ``) fail.
    :param passport_issuer: ``(base URL, DID)`` of a gateway: a passport credential whose
        id or subject lies under that base URL's ``/passports/`` is taken for one of its
        passports only when that DID issued it.
    :returns: the verdict with its checks; never raises for bad input.
    """
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    resolver = remembering(resolver or Resolver())
    if status_lists is None:
        source: StatusSource = documents_source(())
    elif isinstance(status_lists, Mapping):
        source = documents_source({**d, "id": url} for url, d in status_lists.items())
    else:
        source = status_lists
    trust = (
        trusted_issuers
        if isinstance(trusted_issuers, TrustList | DeferredTrustList)
        else TrustList.of(trusted_issuers)
    )
    verifier = _Verifier(now, dict(contexts or {}), resolver, source, trust, strict)
    verifier.passport_issuer = passport_issuer
    try:
        return verifier.run(credential, proof_only)
    except GatewayError as e:
        # A refused input (e.g. an unknown context met outside a proof check) is a verdict.
        return VerificationResult((*verifier.checks, Check("input", False, str(e))))


class _Verifier:
    def __init__(
        self,
        now: datetime,
        contexts: dict[str, Mapping[str, Any]],
        resolver: RememberingResolver,
        source: StatusSource,
        trusted: TrustList | DeferredTrustList,
        strict: bool,
    ) -> None:
        self.now = now
        self.contexts = contexts
        # The shared loader when nothing extra is pinned: its per-loader context caches
        # (pyld's resolver, the canonicalizer's verdicts) then survive across requests.
        self.loader = document_loader(extra=contexts) if contexts else default_loader()
        self.resolver = resolver
        self.source = source
        self.trusted = trusted
        self.strict = strict
        self.passport_issuer: tuple[str, str] | None = None
        self.checks: list[Check] = []
        self.methods: dict[str, VerificationMethod] = {}

    def run(self, credential: object, proof_only: bool) -> VerificationResult:
        if isinstance(credential, str | bytes):
            if len(credential) > MAX_CREDENTIAL_BYTES:
                return self._fail("format", f"input larger than {MAX_CREDENTIAL_BYTES} bytes")
            try:
                text = credential.decode("utf-8") if isinstance(credential, bytes) else credential
            except UnicodeDecodeError as e:
                return self._fail("format", f"byte {e.start}: not UTF-8")
            text = text.strip()
            if text.startswith("{"):
                try:
                    # strict: a repeated member, NaN or an overlong number is refused
                    # (Python would keep the last of two members, unsigned or not)
                    parsed = jsontext.loads(text, what="the credential")
                except JsonTextError as e:
                    where = jsontext.duplicate_pointer(text)
                    return self._fail("format", f"{where}: {e.message}" if where else e.message)
                return self.run(parsed, proof_only)
            if jose.looks_like_jws(text):
                return self._jwt(text, proof_only)
            return self._fail("format", "neither a JSON credential nor a compact JWS")
        if not isinstance(credential, Mapping):
            return self._fail("format", "a credential must be a JSON object")
        if "EnvelopedVerifiableCredential" in as_list(credential.get("type")):
            inner = credential.get("id")
            if isinstance(inner, str) and inner.startswith(ENVELOPE_PREFIX):
                return self._jwt(inner[len(ENVELOPE_PREFIX) :], proof_only)
            return self._fail("format", f"enveloped credential id must start {ENVELOPE_PREFIX}")
        if "proof" not in credential:
            return self._fail(
                "format", "unsecured credential: no Data Integrity proof and not a vc+jwt"
            )
        return self._data_integrity(credential, proof_only)

    def _fail(self, check_id: str, reason: str, fmt: str = "unknown") -> VerificationResult:
        self.checks.append(Check(check_id, False, reason))
        return VerificationResult(tuple(self.checks), fmt)

    def _resolve_key(self, reference: str) -> Any:
        found = self.resolver.remembered(reference, "assertionMethod")
        self.methods[reference] = found.method
        if found.ed25519 is None:
            found.ed25519 = found.method.ed25519()
        return found.ed25519

    def _data_integrity(self, doc: Mapping[str, Any], proof_only: bool) -> VerificationResult:
        self.checks.append(Check("format", True, "Data Integrity"))
        self.checks.extend(
            data_integrity.verify_proof(
                doc, self._resolve_key, loader=self.loader, expected_purpose="assertionMethod"
            )
        )
        if not proof_only:
            body = {k: v for k, v in doc.items() if k != "proof"}
            refs = [
                p.get("verificationMethod")
                for p in as_list(doc.get("proof"))
                if isinstance(p, Mapping)
            ]
            self._credential_checks(body, [r for r in refs if isinstance(r, str)])
        return VerificationResult(tuple(self.checks), "data-integrity", doc)

    def _jwt(self, token: str, proof_only: bool) -> VerificationResult:
        self.checks.append(Check("format", True, "vc+jwt"))
        result = jose.verify_jwt(token, self.resolver, now=self.now, strict=self.strict)
        self.checks.extend(result.checks)
        payload = result.credential
        if payload is None:
            return VerificationResult(tuple(self.checks), "vc+jwt")
        try:
            # What the strict canonicalization checks (pinned contexts, no dropped term,
            # no relative IRI) under the caps for untrusted input; the signature covers
            # the bytes, so no N-Quads are written for a credential the emitter covers.
            direct_nquads.check(payload, loader=self.loader)
        except ContextError as e:
            self.checks.append(Check("jsonld.contexts", False, e.detail))
        except GatewayError as e:
            self.checks.append(Check("jsonld.terms", False, e.detail))
        else:
            self.checks.append(Check("jsonld.terms", True, "pinned contexts, every term defined"))
        if not proof_only and result.method is not None:
            kid = result.method.id
            self.methods[kid] = result.method
            self._credential_checks(payload, [kid])
        return VerificationResult(tuple(self.checks), "vc+jwt", payload)

    def _credential_checks(self, doc: Mapping[str, Any], references: Sequence[str]) -> None:
        self.checks.extend(structure_checks(doc))
        issuer = issuer_id(doc)
        controllers = {
            self.methods[r].controller if r in self.methods else None for r in references
        }
        if not references:
            self.checks.append(Check("issuer.controller", False, "no verification method"))
        elif controllers == {issuer}:
            self.checks.append(Check("issuer.controller", True, f"{issuer} controls the key"))
        else:
            named = ", ".join(sorted(str(c) for c in controllers))
            self.checks.append(
                Check(
                    "issuer.controller",
                    False,
                    f"issuer {issuer!r} is not the controller of the verification method ({named})",
                )
            )
        self.checks.append(self._validity(doc))
        if doc.get("credentialStatus") is None:
            self.checks.append(Check("status", True, "no credentialStatus"))
        else:
            self.checks.extend(
                check_status(doc, self.source, now=self.now, verify_list=self._verify_list)
            )
        trusted = self.trusted
        if isinstance(trusted, DeferredTrustList):
            trusted = trusted.for_issuer(issuer)
        self.checks.append(trusted.check(issuer))
        if self.passport_issuer is not None:
            own = own_passport_check(doc, *self.passport_issuer, loader=self.loader)
            if own is not None:
                self.checks.append(own)
        self.checks.extend(passport_checks(doc))

    def _validity(self, doc: Mapping[str, Any]) -> Check:
        try:
            start = parse_datetime(doc["validFrom"]) if "validFrom" in doc else None
            end = parse_datetime(doc["validUntil"]) if "validUntil" in doc else None
        except CredentialError as e:
            return Check("validity", False, str(e))
        stamp = self.now.strftime("%Y-%m-%dT%H:%M:%SZ")
        if start is not None and self.now < start:
            return Check(
                "validity", False, f"not valid yet: validFrom {doc['validFrom']} > {stamp}"
            )
        if end is not None and self.now > end:
            return Check("validity", False, f"expired: validUntil {doc['validUntil']} < {stamp}")
        return Check("validity", True, f"valid at {stamp}")

    def _verify_list(self, status_list: Mapping[str, Any]) -> list[Check]:
        if "proof" not in status_list:
            return [Check("proof", False, "status list credential has no proof")]
        checks = list(
            data_integrity.verify_proof(status_list, self._resolve_key, loader=self.loader)
        )
        for proof in as_list(status_list.get("proof")):
            ref = proof.get("verificationMethod") if isinstance(proof, Mapping) else None
            method = self.methods.get(ref) if isinstance(ref, str) else None
            if method is None or method.controller != issuer_id(status_list):
                checks.append(
                    Check("issuer.controller", False, "list issuer does not control its key")
                )
        return checks


def own_passport_check(
    doc: Mapping[str, Any], base_url: str, did: str, loader: DocumentLoader | None = None
) -> Check | None:
    """Whether a passport credential that names a passport of the gateway at ``base_url``
    was issued by that gateway's passport DID ``did``.

    :param loader: serves the contexts; with it, a credential of another issuer is taken
        for a passport credential by its RDF types too (the type's IRI written out, or a
        prefix or alias of it), not only by the term ``BatteryPassportCredential``.
    :returns: the ``issuer.passport`` check, or None for a credential that is no passport
        or names none of that gateway's passports.
    """
    prefix = base_url.rstrip("/") + "/passports/"
    named = [
        doc.get("id"),
        *(s.get("id") for s in as_list(doc.get("credentialSubject")) if isinstance(s, Mapping)),
    ]
    # Not a prefix test: https://GW.EXAMPLE/passports/… or …/%70assports/… name the same
    # passport, and another issuer's credential spelled so must not escape this check.
    if not any(in_url_space(n, base_url, "/passports") for n in named):
        return None
    issuer = issuer_id(doc)
    if PASSPORT_CREDENTIAL_TYPE not in as_list(doc.get("type")) and (
        loader is None or issuer == did or not _typed_passport(doc, loader)
    ):
        return None
    if issuer == did:
        return Check("issuer.passport", True, f"a passport of this gateway, issued by {did}")
    return Check(
        "issuer.passport",
        False,
        f"names a passport of this gateway ({prefix}...) "
        f"but is not issued by its passport DID {did}",
    )


_PASSPORT_TYPE_QUAD = (
    "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
    f"<https://w3id.org/cn-eu-battery/vocab#{PASSPORT_CREDENTIAL_TYPE}>"
)


def _typed_passport(doc: Mapping[str, Any], loader: DocumentLoader) -> bool:
    # The JSON type check alone would let another issuer's credential typed
    # "https://w3id.org/cn-eu-battery/vocab#BatteryPassportCredential" (or bp:…) name a
    # passport of this gateway and verify: it is the same RDF type.
    try:
        return _PASSPORT_TYPE_QUAD in direct_nquads.canonicalize(doc, loader=loader, untrusted=True)
    except GatewayError:
        return False  # the jsonld.* checks already failed the credential


def _json_type_ok(json_type: str, value: Any) -> bool:
    if json_type == "integer":
        return is_safe_integer(value)
    if not isinstance(value, str):
        return False
    if json_type == "decimal-string":
        return bool(DECIMAL_LEXICAL.fullmatch(value))
    if json_type == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
        return len(value) == 10
    if json_type == "year-month":
        return bool(YEAR_MONTH_LEXICAL.fullmatch(value))
    if json_type == "uri":
        return bool(_IRI.fullmatch(value))
    return json_type == "string"


def passport_checks(
    credential: Mapping[str, Any], catalog_loader: Callable[[], Any] | None = None
) -> list[Check]:
    """Conformance of a battery passport credential to the passport vocabulary.

    Applies to credentials that use the passport context and the
    ``BatteryPassportCredential`` type; others get one passing, explanatory check.

    :param credential: the credential without proof.
    :param catalog_loader: returns the attribute catalog (default: the shipped one).
    :returns: ``passport.vocabulary`` and ``passport.mapping`` checks.
    """
    contexts = as_list(credential.get("@context"))
    passport = set(passport_contexts())
    versioned = any(isinstance(c, str) and c in passport for c in contexts)
    if not versioned or PASSPORT_CREDENTIAL_TYPE not in as_list(credential.get("type")):
        return [
            Check(
                "passport.vocabulary",
                True,
                "not a passport credential of this vocabulary; attribute conformance not checked",
            )
        ]
    from gateway.vocab.catalog import RESERVED_TERMS, load_catalog
    from gateway.vocab.forms import json_values

    catalog = (catalog_loader or load_catalog)()
    problems: list[str] = []
    # A credential carries one section: the attributes of the Annex XIII points its
    # accessGroup names, and no other (the audiences of the points differ, Art. 77(2)).
    section = credential.get("accessGroup")
    allowed: frozenset[int] | None = None
    if is_section(section):
        allowed = points_of(section)
    else:
        problems.append(f"/accessGroup must be one of {', '.join(ALL_SECTIONS)}")
    for i, subject in enumerate(as_list(credential.get("credentialSubject"))):
        base = "/credentialSubject" + (
            f"/{i}" if isinstance(credential.get("credentialSubject"), list) else ""
        )
        if not isinstance(subject, Mapping):
            problems.append(f"{base} is not an object")
            continue
        if PASSPORT_TYPE not in as_list(subject.get("type")):
            problems.append(f"{base}/type must include {PASSPORT_TYPE}")
        for term, value in subject.items():
            if term in ("id", "type") or term in RESERVED_TERMS:
                continue
            attribute = catalog.by_term.get(term)
            if attribute is None:
                problems.append(f"{base}/{term} is not a passport attribute")
                continue
            if allowed is not None and attribute.point not in allowed:
                problems.append(
                    f"{base}/{term} is Annex XIII point {attribute.point}, not in section {section}"
                )
            for j, member in enumerate(as_list(value)):
                # context v3 writes quantities as nodes and text as language maps
                items = json_values(member) if isinstance(member, Mapping) else (member,)
                for item in items:
                    if not _json_type_ok(attribute.json_type, item):
                        where = f"{base}/{term}" + (f"/{j}" if isinstance(value, list) else "")
                        problems.append(f"{where}: {item!r} is not a JSON {attribute.json_type}")
    checks = [
        Check(
            "passport.vocabulary",
            not problems,
            "; ".join(problems[:20])
            + (f" (+{len(problems) - 20} more)" if len(problems) > 20 else ""),
        )
    ]
    mapping = [credential.get(k) for k in ("mappingSet", "mappingVersion", "mappingHash")]
    if all(isinstance(v, str) and v for v in mapping):
        checks.append(Check("passport.mapping", True, f"{mapping[0]}@{mapping[1]} ({mapping[2]})"))
    else:
        checks.append(
            Check(
                "passport.mapping",
                False,
                "mappingSet, mappingVersion and mappingHash must name the mapping used",
            )
        )
    return checks
