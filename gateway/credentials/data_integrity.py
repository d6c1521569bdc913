"""W3C Data Integrity proofs with the EdDSA cryptosuites (vc-di-eddsa 1.0).

``eddsa-rdfc-2022`` (§3.2): the document and the proof configuration are each
canonicalized with RDFC-1.0, and Ed25519 signs SHA-256(proof configuration) ‖
SHA-256(document), 64 bytes. ``eddsa-jcs-2022`` (§3.3) does the same over RFC 8785 JCS.
The proof value is multibase base58btc; any other multibase is refused. Proof sets and
proof chains follow VC Data Integrity 1.0 §4.2-§4.5 (``previousProof``).

Issuing and verifying share one routine (:func:`_hash_data`); verification returns a
list of :class:`~gateway.credentials.checks.Check` and never raises for a bad credential.
Issuing and verifying read a document's canonical N-Quads straight off the JSON when
:mod:`~gateway.credentials.direct_nquads` covers it (the gateway's own credentials: no
blank nodes, every term known), the same bytes as RDFC-1.0 for a fraction of the work;
anything else takes :func:`rdfc.canonicalize`, which refuses what would lose data. An
untrusted document is bounded by size before either walks it.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from gateway.credentials import direct_nquads, jcs, rdfc
from gateway.credentials.checks import Check
from gateway.credentials.multikey import b58btc_decode, b58btc_encode
from gateway.errors import ContextError, CredentialError, GatewayError, JsonLdError
from gateway.vocab.loader import DocumentLoader, default_loader

PROOF_TYPE = "DataIntegrityProof"
RDFC = "eddsa-rdfc-2022"
JCS = "eddsa-jcs-2022"
CRYPTOSUITES = (RDFC, JCS)

# XML Schema 1.1 dateTimeStamp as VC Data Model 2.0 §4.9 writes it (offset required).
_DATE_TIME_STAMP = re.compile(
    r"-?[0-9]{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T"
    r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
    r"(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
)


def add_proof(
    document: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    *,
    cryptosuite: str = RDFC,
    created: str | None = None,
    proof_purpose: str = "assertionMethod",
    loader: DocumentLoader | None = None,
    fast: bool = True,
    proof_options: Mapping[str, str] | None = None,
    untrusted: bool = False,
) -> dict[str, Any]:
    """Sign a JSON-LD document with a Data Integrity proof (vc-di-eddsa §3.2.1 / §3.3.1).

    A document that already has a proof gets a proof set (VC Data Integrity §4.2).

    :param document: the JSON-LD document, with ``@context``.
    :param private_key: the Ed25519 signing key.
    :param verification_method: URL of the public key, e.g. ``did:key:z6Mk...#z6Mk...``.
    :param cryptosuite: ``eddsa-rdfc-2022`` or ``eddsa-jcs-2022``.
    :param created: proof creation time (dateTimeStamp); default: now, in whole seconds.
    :param proof_purpose: the proof purpose; ``assertionMethod`` for credentials.
    :param loader: document loader; default: the pinned contexts only.
    :param fast: allow the faster canonicalizations, byte-identical to pyld's: the
        direct N-Quads of a covered document, else pyoxigraph
        (:func:`rdfc.canonicalize`); ``False`` runs pyld alone.
    :param proof_options: more signed proof members, e.g. ``challenge`` and ``domain``
        of a presentation's ``authentication`` proof (VC Data Integrity §2.1).
    :param untrusted: the document comes from a caller: canonicalize it under the
        verifier's caps (:class:`rdfc.Limits`: size, blank nodes, work and time).
    :returns: a new dict: the document with its ``proof``.
    :raises CredentialError: unknown cryptosuite, bad ``created``, no ``@context``.
    :raises ContextError: a context is not pinned (or served by ``loader``).
    :raises JsonLdError: the document would lose data in JSON-LD (undefined term,
        relative IRI, ill-formed IRI or language tag, a member with no RDF), or, when
        ``untrusted``, exceeds a cap.
    """
    if cryptosuite not in CRYPTOSUITES:
        raise CredentialError(f"cryptosuite {cryptosuite!r} is not one of {CRYPTOSUITES}")
    if "@context" not in document:
        raise CredentialError("document has no @context", pointer="/@context")
    if created is None:
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    elif not _DATE_TIME_STAMP.fullmatch(created):
        raise CredentialError(f"created {created!r} is not an XML Schema dateTimeStamp")
    loader = loader or default_loader()
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    proof: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": cryptosuite,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
        **{k: v for k, v in (proof_options or {}).items() if k in ("challenge", "domain")},
    }
    if cryptosuite == JCS:
        proof["@context"] = document["@context"]
        # JCS signs JSON text, but the document must still mean what it says in RDF.
        _document_nquads(unsecured, loader, fast=fast, untrusted=untrusted)
    hash_data = _hash_data(unsecured, proof, cryptosuite, loader, fast=fast, untrusted=untrusted)
    proof["proofValue"] = b58btc_encode(private_key.sign(hash_data))
    existing = document.get("proof")
    out = dict(unsecured)
    if existing is None:
        out["proof"] = proof
    else:
        out["proof"] = [*(existing if isinstance(existing, list) else [existing]), proof]
    return out


def verify_proof(
    document: Mapping[str, Any],
    resolve_key: Callable[[str], Ed25519PublicKey],
    *,
    loader: DocumentLoader | None = None,
    expected_purpose: str = "assertionMethod",
    untrusted: bool = True,
    fast: bool = True,
) -> list[Check]:
    """Verify every Data Integrity proof of a document (vc-di-eddsa §3.2.2 / §3.3.2).

    Check ids: ``proof.present``, ``jsonld.contexts``, ``proof.type``,
    ``proof.cryptosuite``, ``proof.purpose``, ``proof.created``, ``proof.value``,
    ``proof.verificationMethod``, ``jsonld.terms``, ``jsonld.limits``,
    ``proof.signature``. With several proofs (a proof set or chain) each proof's checks
    are listed in turn, their reasons prefixed with the proof's position.

    :param document: the secured document.
    :param resolve_key: maps a verification method URL to its Ed25519 public key;
        raises (any :class:`~gateway.errors.GatewayError`) when it cannot.
    :param loader: document loader; default: the pinned contexts only.
    :param expected_purpose: the proof purpose the verifier requires.
    :param untrusted: apply the size, blank-node and work caps of
        :class:`rdfc.Limits`.
    :param fast: allow the direct N-Quads and the pyoxigraph canonicalizer where they
        equal pyld's output; ``False`` runs pyld alone.
    :returns: the checks; the document is verified when every check is ``ok``.
    """
    if not isinstance(document, Mapping) or not document.get("proof"):
        return [Check("proof.present", False, "document has no proof")]
    loader = loader or default_loader()
    checks: list[Check] = [Check("proof.present", True)]
    checks.append(_contexts_check(document, loader))
    proofs = document["proof"]
    proofs = proofs if isinstance(proofs, list) else [proofs]
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    for i, proof in enumerate(proofs):
        label = f"proof {i + 1} of {len(proofs)}: " if len(proofs) > 1 else ""
        for check in _verify_one(
            unsecured,
            proof,
            proofs,
            resolve_key,
            loader,
            expected_purpose,
            untrusted,
            contexts_ok=checks[1].ok,
            fast=fast,
        ):
            checks.append(Check(check.id, check.ok, label + check.reason if check.reason else ""))
    return checks


def _verify_one(
    unsecured: dict[str, Any],
    proof: Any,
    all_proofs: list[Any],
    resolve_key: Callable[[str], Ed25519PublicKey],
    loader: DocumentLoader,
    expected_purpose: str,
    untrusted: bool,
    *,
    contexts_ok: bool,
    fast: bool,
) -> list[Check]:
    if not isinstance(proof, Mapping):
        return [Check("proof.type", False, "proof is not an object")]
    checks = [
        _field_check("proof.type", proof, "type", PROOF_TYPE),
        _field_check("proof.cryptosuite", proof, "cryptosuite", *CRYPTOSUITES),
        _field_check("proof.purpose", proof, "proofPurpose", expected_purpose),
    ]
    created = proof.get("created")
    if created is None:
        checks.append(Check("proof.created", True, "absent (optional)"))
    elif isinstance(created, str) and _DATE_TIME_STAMP.fullmatch(created):
        checks.append(Check("proof.created", True))
    else:
        checks.append(Check("proof.created", False, f"{created!r} is not a dateTimeStamp"))

    signature = None
    try:
        # bounded: base58 decoding is quadratic
        signature = b58btc_decode(proof.get("proofValue"), max_bytes=64)
        if len(signature) != 64:
            raise CredentialError(f"Ed25519 signature must be 64 bytes, got {len(signature)}")
        checks.append(Check("proof.value", True))
    except CredentialError as exc:
        checks.append(Check("proof.value", False, f"proofValue: {exc.detail}"))

    key = None
    vm = proof.get("verificationMethod")
    if not isinstance(vm, str) or not vm:
        checks.append(Check("proof.verificationMethod", False, "missing or not a string"))
    else:
        try:
            key = resolve_key(vm)
            checks.append(Check("proof.verificationMethod", True, vm))
        except GatewayError as exc:
            shown = vm if len(vm) <= 200 else vm[:200] + "…"  # never echo a huge value
            checks.append(Check("proof.verificationMethod", False, f"{shown}: {exc.detail}"))

    suite = proof.get("cryptosuite")
    input_document = unsecured
    chain = _previous_proofs(proof, all_proofs)
    if isinstance(chain, Check):
        checks.append(chain)
    elif chain:
        input_document = {**unsecured, "proof": chain}
    hash_data = None
    if suite in CRYPTOSUITES and contexts_ok and not isinstance(chain, Check):
        options = {k: v for k, v in proof.items() if k != "proofValue"}
        try:
            if suite == JCS:
                input_document = _jcs_document(input_document, options)
                # JCS signs JSON text, but the document must still mean what it says in RDF
                _document_nquads(input_document, loader, fast=fast, untrusted=untrusted)
            hash_data = _hash_data(
                input_document, options, suite, loader, fast=fast, untrusted=untrusted
            )
            checks.append(Check("jsonld.terms", True))
        except ContextError as exc:
            checks.append(Check("jsonld.contexts", False, exc.detail))
        except JsonLdError as exc:
            limit = exc.extensions.get("rule") == "limit"
            checks.append(Check("jsonld.limits" if limit else "jsonld.terms", False, exc.detail))
        except GatewayError as exc:
            checks.append(Check("jsonld.terms", False, exc.detail))
        except Exception as exc:  # noqa: BLE001 - a hostile document must not crash us
            checks.append(Check("jsonld.terms", False, f"cannot process: {exc!r}"))

    failed = next((c.id for c in checks if not c.ok), None)
    if failed is not None or hash_data is None or key is None or signature is None:
        checks.append(Check("proof.signature", False, f"not checked: {failed or 'inputs'}"))
        return checks
    try:
        key.verify(signature, hash_data)
        checks.append(Check("proof.signature", True))
    except InvalidSignature:
        checks.append(Check("proof.signature", False, "Ed25519 signature does not match"))
    return checks


def _field_check(check_id: str, proof: Mapping[str, Any], field: str, *allowed: str) -> Check:
    value = proof.get(field)
    if value in allowed:
        return Check(check_id, True)
    wanted = " or ".join(repr(a) for a in allowed)
    return Check(check_id, False, f"{field} is {value!r}, expected {wanted}")


def _contexts_check(document: Mapping[str, Any], loader: DocumentLoader) -> Check:
    """Every top-level context URL is served by the (offline, pinned) loader.

    Contexts nested deeper are loaded during canonicalization, whose
    :class:`~gateway.errors.ContextError` becomes a failed ``jsonld.contexts`` check too.
    """
    if "@context" not in document:
        return Check("jsonld.contexts", False, "document has no @context")
    ctx = document["@context"]
    for url in ctx if isinstance(ctx, list) else [ctx]:
        if not isinstance(url, str):
            continue
        try:
            loader(url, None)
        except GatewayError as exc:
            return Check("jsonld.contexts", False, exc.detail)
    return Check("jsonld.contexts", True)


def _previous_proofs(proof: Mapping[str, Any], all_proofs: list[Any]) -> list[Any] | Check:
    """The proofs a chained proof signs over (VC Data Integrity §4.5 step 4)."""
    previous = proof.get("previousProof")
    if previous is None:
        return []
    ids = previous if isinstance(previous, list) else [previous]
    found = []
    for wanted in ids:
        match = [p for p in all_proofs if isinstance(p, Mapping) and p.get("id") == wanted]
        if not match:
            return Check("proof.chain", False, f"previousProof {wanted!r} is not in the set")
        found.extend(match)
    return found


def _jcs_document(document: dict[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """vc-di-eddsa §3.3.2 steps 2-3: the proof's ``@context`` must prefix the document's."""
    ctx = options.get("@context")
    if ctx is None:
        return document
    doc_ctx = document.get("@context")
    mine = ctx if isinstance(ctx, list) else [ctx]
    theirs = doc_ctx if isinstance(doc_ctx, list) else [doc_ctx]
    if theirs[: len(mine)] != mine:
        raise CredentialError("the proof's @context does not start the document's @context")
    return {**document, "@context": ctx}


def _hash_data(
    document: Mapping[str, Any],
    proof_options: Mapping[str, Any],
    cryptosuite: str,
    loader: DocumentLoader,
    *,
    fast: bool,
    untrusted: bool,
) -> bytes:
    """hashData (vc-di-eddsa §3.2.5 / §3.3.5): SHA-256(proof config) ‖ SHA-256(document)."""
    if cryptosuite == JCS:
        config = dict(proof_options)
        if "@context" in config:
            config["@context"] = document["@context"]
        return (
            hashlib.sha256(jcs.canonicalize(config)).digest()
            + hashlib.sha256(jcs.canonicalize(document)).digest()
        )
    config = {**proof_options, "@context": document.get("@context")}
    config_nquads = _canonical_proof_config(config, loader, fast=fast, untrusted=untrusted)
    doc_nquads = _document_nquads(document, loader, fast=fast, untrusted=untrusted)
    return (
        hashlib.sha256(config_nquads.encode("utf-8")).digest()
        + hashlib.sha256(doc_nquads.encode("utf-8")).digest()
    )


def _document_nquads(
    document: Mapping[str, Any],
    loader: DocumentLoader,
    *,
    fast: bool,
    untrusted: bool,
) -> str:
    """The canonical N-Quads of a document: read off the JSON when ``fast`` and covered
    (:func:`direct_nquads.canonicalize`), else by :func:`rdfc.canonicalize`, which also
    raises when the document would lose data."""
    return direct_nquads.canonicalize(document, loader=loader, fast=fast, untrusted=untrusted)


_PLACEHOLDER = "0001-01-01T00:00:00Z"
_XSD_DATETIME = "^^<http://www.w3.org/2001/XMLSchema#dateTime>"
_TEMPLATES: OrderedDict[tuple[bytes, Any, bool], str | None] = OrderedDict()


def _canonical_proof_config(
    config: Mapping[str, Any], loader: DocumentLoader, *, fast: bool, untrusted: bool
) -> str:
    """Canonical N-Quads of a proof configuration, from a template per configuration shape.

    A proof configuration differs between credentials of one issuer only in ``created``,
    yet its canonicalization re-processes the whole VC context. Its graph is one blank
    node with distinct predicates, so its canonical lines keep their order whatever the
    ``created`` literal is: canonicalize once with a placeholder, check that shape, and
    substitute. Any other shape is canonicalized in full.
    """
    created = config.get("created")
    if not isinstance(created, str) or not _DATE_TIME_STAMP.fullmatch(created):
        return rdfc.canonicalize(config, loader=loader, fast=fast, untrusted=untrusted)
    shape = orjson.dumps({**config, "created": None}, option=orjson.OPT_SORT_KEYS)
    key = (shape, loader, fast)
    template = _TEMPLATES.get(key, "")
    if template == "":
        placeholder = {**config, "created": _PLACEHOLDER}
        # Once per shape: pyld alone, the reference (the faster processors give the
        # same text, but pyoxigraph would be loaded into every process for this one
        # call); contexts pyld refuses go the way the caller asked, as any document.
        try:
            out = rdfc.canonicalize(placeholder, loader=loader, fast=False, untrusted=untrusted)
        except JsonLdError:
            out = rdfc.canonicalize(placeholder, loader=loader, fast=fast, untrusted=untrusted)
        template = out if _is_single_node_template(out) else None
        _TEMPLATES[key] = template
        if len(_TEMPLATES) > 128:
            _TEMPLATES.popitem(last=False)
    if template is None:
        return rdfc.canonicalize(config, loader=loader, fast=fast, untrusted=untrusted)
    return template.replace(f'"{_PLACEHOLDER}"', f'"{created}"')


def _is_single_node_template(nquads: str) -> bool:
    lines = nquads.splitlines()
    subjects = {line.split(" ", 1)[0] for line in lines}
    predicates = [line.split(" ", 2)[1] for line in lines]
    return (
        subjects == {"_:c14n0"}
        and len(set(predicates)) == len(predicates)
        and nquads.count(f'"{_PLACEHOLDER}"{_XSD_DATETIME}') == 1
        and nquads.count(_PLACEHOLDER) == 1
    )
