"""Data Integrity eddsa-rdfc-2022 / eddsa-jcs-2022 against the W3C vectors and the
independently made derived fixtures (proof mode)."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import socket
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.credentials import data_integrity as di
from gateway.credentials import jcs, rdfc
from gateway.credentials.multikey import (
    b58btc_decode,
    did_key_verification_method,
    private_key_from_multibase,
    public_key_from_did_key,
)
from gateway.errors import ContextError, CredentialError, JsonLdError
from gateway.paths import FIXTURES_DIR
from gateway.vocab.loader import CREDENTIALS_V2, document_loader

VECTORS = FIXTURES_DIR / "vectors"
TV = VECTORS / "w3c-vc-di-eddsa/TestVectors"
DERIVED = VECTORS / "derived"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"


def _json(path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _text(path) -> str:
    return path.read_text(encoding="utf-8").strip()


LOADER = document_loader(
    extra={
        EXAMPLES_V2: _json(VECTORS / "w3c-vc-di-eddsa/contexts/credentials-examples-v2.jsonld"),
        "https://w3id.org/citizenship/v4rc1": _json(
            VECTORS / "w3c-vc-di-eddsa/contexts/citizenship-v4rc1.jsonld"
        ),
    }
)
KEY = private_key_from_multibase(_json(TV / "keyPair.json")["privateKeyMultibase"])
SUITES = {
    "eddsa-rdfc-2022": ("eddsa-rdfc-2022", "DataInt"),
    "eddsa-jcs-2022": ("eddsa-jcs-2022", "JCS"),
}


def _ok(checks) -> bool:
    return all(c.ok for c in checks)


def _failed(checks) -> set[str]:
    return {c.id for c in checks if not c.ok}


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("suite", sorted(SUITES))
def test_sign_reproduces_w3c_vector(suite: str, fast: bool) -> None:
    folder, suffix = SUITES[suite]
    config = _json(TV / folder / f"proofConfig{suffix}.json")
    signed = di.add_proof(
        _json(TV / "unsigned.json"),
        KEY,
        config["verificationMethod"],
        cryptosuite=suite,
        created=config["created"],
        loader=LOADER,
        fast=fast,
    )
    expected = _json(TV / folder / f"signed{suffix}.json")
    assert signed["proof"]["proofValue"] == expected["proof"]["proofValue"]
    assert signed == expected


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_intermediate_values_match_w3c_vector(suite: str) -> None:
    folder, suffix = SUITES[suite]
    config = _json(TV / folder / f"proofConfig{suffix}.json")
    unsigned = _json(TV / "unsigned.json")
    if suite == "eddsa-rdfc-2022":
        canon_doc = rdfc.canonicalize(unsigned, loader=LOADER)
        canon_proof = rdfc.canonicalize(config, loader=LOADER)
    else:
        canon_doc = jcs.canonicalize(unsigned).decode()
        canon_proof = jcs.canonicalize(config).decode()
    assert canon_doc.strip() == _text(TV / folder / f"canonDoc{suffix}.txt")
    assert canon_proof.strip() == _text(TV / folder / f"proofCanon{suffix}.txt")
    doc_hash = hashlib.sha256(canon_doc.encode()).hexdigest()
    proof_hash = hashlib.sha256(canon_proof.encode()).hexdigest()
    assert doc_hash == _text(TV / folder / f"docHash{suffix}.txt")
    assert proof_hash == _text(TV / folder / f"proofHash{suffix}.txt")
    options = {k: v for k, v in config.items() if k != "@context"}
    if suite == "eddsa-jcs-2022":
        options["@context"] = unsigned["@context"]
    hash_data = di._hash_data(unsigned, options, suite, LOADER, fast=True, untrusted=False)
    assert hash_data.hex() == _text(TV / folder / f"combinedHash{suffix}.txt")
    assert KEY.sign(hash_data).hex() == _text(TV / folder / f"sigHex{suffix}.txt")


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_verify_accepts_w3c_vector(suite: str) -> None:
    folder, suffix = SUITES[suite]
    checks = di.verify_proof(
        _json(TV / folder / f"signed{suffix}.json"), public_key_from_did_key, loader=LOADER
    )
    assert _ok(checks), [c.as_dict() for c in checks]
    assert {c.id for c in checks} >= {
        "proof.present",
        "proof.type",
        "proof.cryptosuite",
        "proof.purpose",
        "proof.created",
        "proof.value",
        "jsonld.contexts",
        "jsonld.terms",
        "proof.verificationMethod",
        "proof.signature",
    }


def _swap_suite(doc: dict) -> None:
    proof = doc["proof"]
    proof["cryptosuite"] = (
        "eddsa-jcs-2022" if proof["cryptosuite"] == "eddsa-rdfc-2022" else "eddsa-rdfc-2022"
    )


def _base64_value(doc: dict) -> None:
    raw = b58btc_decode(doc["proof"]["proofValue"])
    doc["proof"]["proofValue"] = "u" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


TAMPERINGS = {
    "subject": (
        lambda d: d["credentialSubject"].update(alumniOf="Another School"),
        "proof.signature",
    ),
    "created": (lambda d: d["proof"].update(created="2023-02-24T23:36:39Z"), "proof.signature"),
    "cryptosuite": (_swap_suite, "proof.signature"),
    "base64-proof-value": (_base64_value, "proof.value"),
    "short-proof-value": (lambda d: d["proof"].update(proofValue="z3yMr"), "proof.value"),
    "purpose": (lambda d: d["proof"].update(proofPurpose="authentication"), "proof.purpose"),
    "type": (lambda d: d["proof"].update(type="Ed25519Signature2020"), "proof.type"),
    "bad-created": (lambda d: d["proof"].update(created="yesterday"), "proof.created"),
    "unknown-suite": (
        lambda d: d["proof"].update(cryptosuite="ecdsa-rdfc-2019"),
        "proof.cryptosuite",
    ),
    "vm": (
        lambda d: d["proof"].update(verificationMethod="did:web:x.example#k"),
        "proof.verificationMethod",
    ),
    # the examples context has an @vocab, so an extra key is defined; a relative id is not
    "relative-id": (lambda d: d.update(id="credentials/1"), "jsonld.terms"),
    "unknown-context": (
        lambda d: d["@context"].append("https://evil.example/v1"),
        "jsonld.contexts",
    ),
}


@pytest.mark.parametrize("suite", sorted(SUITES))
@pytest.mark.parametrize("name", sorted(TAMPERINGS))
def test_verify_rejects_tampered_copies(suite: str, name: str) -> None:
    folder, suffix = SUITES[suite]
    doc = _json(TV / folder / f"signed{suffix}.json")
    tamper, failing = TAMPERINGS[name]
    tamper(doc)
    checks = di.verify_proof(doc, public_key_from_did_key, loader=LOADER)
    assert not _ok(checks)
    assert failing in _failed(checks), [c.as_dict() for c in checks]
    assert "proof.signature" in _failed(checks)


@pytest.mark.parametrize(
    "name",
    ["signedProofSet1", "signedProofSet2", "signedProofChain1", "signedProofChain2"],
)
def test_proof_sets_and_chains(name: str) -> None:
    doc = _json(TV / f"proof-set-chain/{name}.json")
    assert _ok(di.verify_proof(doc, public_key_from_did_key, loader=LOADER))
    tampered = copy.deepcopy(doc)
    first = tampered["proof"][0] if isinstance(tampered["proof"], list) else tampered["proof"]
    first["created"] = "2024-01-01T00:00:00Z"
    assert not _ok(di.verify_proof(tampered, public_key_from_did_key, loader=LOADER))


def test_chain_with_missing_previous_proof_fails() -> None:
    doc = _json(TV / "proof-set-chain/signedProofChain2.json")
    doc["proof"] = doc["proof"][2:]
    checks = di.verify_proof(doc, public_key_from_did_key, loader=LOADER)
    assert "proof.chain" in _failed(checks)


def test_employ_vector_verifies() -> None:
    doc = _json(TV / "eddsa-rdfc-2022/employ/signedDataInt.json")
    checks = di.verify_proof(doc, public_key_from_did_key, loader=LOADER)
    assert _ok(checks), [c.as_dict() for c in checks]


# -- derived manifest, proof mode ------------------------------------------------------

MANIFEST = _json(DERIVED / "manifest.json")
PROOF_CASES = [c for c in MANIFEST["cases"] if c["kind"] == "di" and c["mode"] == "proof"]


def _case_loader(case: dict):
    return document_loader(
        extra={url: _json(DERIVED / path) for url, path in case.get("contexts", {}).items()}
    )


@pytest.mark.parametrize("case", PROOF_CASES, ids=[c["id"] for c in PROOF_CASES])
def test_derived_manifest_proof_mode(case: dict) -> None:
    doc = _json(DERIVED / case["file"])
    checks = di.verify_proof(doc, public_key_from_did_key, loader=_case_loader(case))
    assert _ok(checks) is case["expect"], [c.as_dict() for c in checks]


def test_injected_undefined_term_names_the_term() -> None:
    case = next(c for c in PROOF_CASES if c["id"] == "injected-undefined-term")
    checks = di.verify_proof(
        _json(DERIVED / case["file"]), public_key_from_did_key, loader=_case_loader(case)
    )
    terms = next(c for c in checks if c.id == "jsonld.terms")
    assert not terms.ok and "stateOfHealth" in terms.reason


def test_unknown_context_refused_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    doc = _json(TV / "eddsa-rdfc-2022/signedDataInt.json")
    checks = di.verify_proof(doc, public_key_from_did_key)  # pinned contexts only
    assert "jsonld.contexts" in _failed(checks)
    assert "examples/v2" in next(c.reason for c in checks if c.id == "jsonld.contexts")


def test_blank_node_bomb_refused_within_cap() -> None:
    link = {"@id": "https://test.example/link", "@type": "@id"}
    nodes = [
        {"@id": f"_:n{i}", "link": [f"_:n{j}" for j in range(10) if j != i]} for i in range(10)
    ]
    doc = {
        "@context": [CREDENTIALS_V2, {"link": link}],
        "type": "VerifiableCredential",
        "credentialSubject": {"id": "https://test.example/s", "link": "_:n0"},
        "@included": nodes,
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "verificationMethod": did_key_verification_method(KEY.public_key()),
            "proofPurpose": "assertionMethod",
            "proofValue": "z" + "1" * 64,
        },
    }
    checks = di.verify_proof(doc, public_key_from_did_key, loader=LOADER)
    assert "jsonld.limits" in _failed(checks), [c.as_dict() for c in checks]


@pytest.mark.parametrize(
    "document",
    [
        [],
        "text",
        {"proof": "x"},
        {"@context": 5, "proof": {"type": "DataIntegrityProof"}},
        {"@context": [CREDENTIALS_V2], "proof": [1, None]},
        {
            "@context": {"@version": 2.0},
            "proof": {
                "type": "DataIntegrityProof",
                "cryptosuite": "eddsa-rdfc-2022",
                "proofPurpose": "assertionMethod",
                "verificationMethod": did_key_verification_method(KEY.public_key()),
                "proofValue": "z" + "1" * 64,
            },
        },
    ],
)
def test_verify_never_raises(document: Any) -> None:
    checks = di.verify_proof(document, public_key_from_did_key, loader=LOADER)
    assert not _ok(checks)


def test_round_trip_and_proof_set() -> None:
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    unsigned = _json(TV / "unsigned.json")
    once = di.add_proof(unsigned, key, did_key_verification_method(key.public_key()), loader=LOADER)
    assert _ok(di.verify_proof(once, public_key_from_did_key, loader=LOADER))
    twice = di.add_proof(
        once,
        other,
        did_key_verification_method(other.public_key()),
        cryptosuite="eddsa-jcs-2022",
        loader=LOADER,
    )
    assert isinstance(twice["proof"], list) and len(twice["proof"]) == 2
    assert _ok(di.verify_proof(twice, public_key_from_did_key, loader=LOADER))
    assert unsigned == _json(TV / "unsigned.json")  # input untouched


def test_proof_config_template_equals_full_canonicalization() -> None:
    config = {
        **{k: v for k, v in _json(TV / "eddsa-rdfc-2022/proofConfigDataInt.json").items()},
    }
    for created in ("2023-02-24T23:36:38Z", "2030-12-31T23:59:59.123+08:00"):
        config["created"] = created
        full = rdfc.canonicalize(config, loader=LOADER, fast=False)
        assert di._canonical_proof_config(config, LOADER, fast=True, untrusted=False) == full


def test_issuing_refuses_lossy_documents() -> None:
    vm = did_key_verification_method(KEY.public_key())
    unsigned = _json(TV / "unsigned.json")
    with pytest.raises(JsonLdError):
        di.add_proof({**unsigned, "issuer": "issuers/5678"}, KEY, vm, loader=LOADER)
    strict_context = [CREDENTIALS_V2, {"name": "https://schema.org/name"}]
    with pytest.raises(JsonLdError, match="undefinedTerm"):
        di.add_proof(
            {"@context": strict_context, "type": "VerifiableCredential", "undefinedTerm": 1},
            KEY,
            vm,
            loader=LOADER,
        )
    with pytest.raises(ContextError):
        di.add_proof(unsigned, KEY, vm)  # examples context is not pinned
    with pytest.raises(CredentialError):
        di.add_proof(unsigned, KEY, vm, cryptosuite="ecdsa-rdfc-2019", loader=LOADER)
    with pytest.raises(CredentialError):
        di.add_proof(unsigned, KEY, vm, created="2023-02-24 23:36", loader=LOADER)


@pytest.mark.parametrize(
    ("value", "expected"),
    # expected values are what ECMAScript's String(x) gives (RFC 8785 §3.2.2.3)
    [
        (1.5, "1.5"),
        (100.0, "100"),
        (1e21, "1e+21"),
        (123456789012345680000.0, "123456789012345680000"),
        (1.2e-7, "1.2e-7"),
        (0.000001, "0.000001"),
        (5e-324, "5e-324"),
        (-0.0001, "-0.0001"),
        (2.0**60, "1152921504606847000"),
        (0.0, "0"),
    ],
)
def test_jcs_numbers(value: float, expected: str) -> None:
    assert jcs.canonicalize(value).decode() == expected


def test_jcs_sorts_by_utf16_and_escapes_like_ecmascript() -> None:
    doc = {"\U0001f600": 1, "\ufb01": 2, "b": "tab\there\x01", "a": [True, None]}
    assert jcs.canonicalize(doc).decode() == (
        '{"a":[true,null],"b":"tab\\there\\u0001","\U0001f600":1,"\ufb01":2}'
    )
