"""Nothing unsigned verifies and nothing ill-formed is signed (VC Data Integrity §4.4
DATA_LOSS_DETECTION), through the library and through ``gateway verify``."""

from __future__ import annotations

import copy
import json

import pytest
import rfc3987_syntax
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.credentials import data_integrity, multikey, rdfc
from gateway.credentials.did import Resolver
from gateway.credentials.jose import verify_jwt
from gateway.credentials.jsonld import expand_strict
from gateway.credentials.lexical import is_absolute_iri, is_language_tag
from gateway.credentials.model import structure_checks
from gateway.credentials.verify import verify
from gateway.errors import CredentialError, JsonLdError
from gateway.vocab.loader import default_loader
from tests.credentials.tampering import (
    TAMPERINGS,
    duplicate_member_text,
    forged_jwt,
    jwt_credential_text,
    signed_passport,
    tampered,
)


@pytest.fixture(scope="module")
def signed() -> dict:
    return signed_passport()


def _failed(result) -> dict[str, str]:
    return {c.id: c.reason for c in result.checks if not c.ok}


def test_the_untampered_credential_verifies(signed) -> None:
    assert verify(signed).verified


@pytest.mark.parametrize("name", sorted(TAMPERINGS))
def test_content_the_signature_does_not_cover_never_verifies(signed, name) -> None:
    pointer = TAMPERINGS[name][1]
    failed = _failed(verify(tampered(signed, name)))
    assert failed["jsonld.terms"].startswith(pointer + ": "), failed
    assert "proof.signature" in failed


@pytest.mark.parametrize("name", sorted(TAMPERINGS))
@pytest.mark.parametrize("fast", [True, False])
def test_both_canonicalization_paths_refuse(signed, name, fast) -> None:
    unsecured = {k: v for k, v in tampered(signed, name).items() if k != "proof"}
    with pytest.raises(JsonLdError) as refused:
        rdfc.canonicalize(unsecured, fast=fast)
    assert refused.value.pointer == TAMPERINGS[name][1]
    with pytest.raises(JsonLdError):
        expand_strict(unsecured)


@pytest.mark.parametrize("name", sorted(TAMPERINGS))
def test_the_issuer_refuses_what_it_cannot_represent_whole(signed, name) -> None:
    unsecured = {k: v for k, v in tampered(signed, name).items() if k != "proof"}
    key = Ed25519PrivateKey.generate()
    vm = multikey.did_key_verification_method(key.public_key())
    with pytest.raises(JsonLdError) as refused:
        data_integrity.add_proof(unsecured, key, vm, untrusted=True)
    assert refused.value.status == 422 and refused.value.pointer == TAMPERINGS[name][1]


@pytest.mark.parametrize(
    "member, pointer",
    [
        ({"@index": "x"}, "/@index"),
        ({"name": {"@value": "x", "@language": "ar", "@direction": "rtl"}}, "/name/@direction"),
        ({"description": None}, "/description"),
        ({"title": {"en": "Pack", "en US": "Pack"}}, "/title/en US"),  # language map
        ({"https ://x.example/p": "1"}, "/https :~1~1x.example~1p"),
        ({"recalled<": "yes"}, "/recalled<"),  # vanished under pyoxigraph's sentinel
        ({"issuer": "did:key:z6Mk a"}, "/issuer"),
    ],
)
def test_members_without_rdf_are_refused(signed, member, pointer) -> None:
    doc = {**copy.deepcopy(signed), **member}
    if "title" in member:
        doc["@context"] = [
            *doc["@context"],
            {"title": {"@id": "https://schema.org/name", "@container": "@language"}},
        ]
    failed = _failed(verify(doc))
    assert failed["jsonld.terms"].startswith(pointer + ": "), failed


def test_json_literals_and_value_objects_stay_allowed() -> None:
    doc = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "name": {"@value": "Pack", "@language": "zh-Hans-CN"},
        "title": {"en": "Pack", "zh-Hans": "电池包", "@none": "Pack"},
        "credentialSubject": {"id": "urn:uuid:1", "data": {"kty": "OKP", "@odd": None}},
    }
    doc["@context"].append(
        {
            "data": {"@id": "https://x.example/data", "@type": "@json"},
            "title": {"@id": "https://schema.org/name", "@container": "@language"},
        }
    )
    assert rdfc.canonicalize(doc) == rdfc.canonicalize(doc, fast=False)


def test_pyoxigraph_empty_dataset_goes_to_pyld() -> None:
    # pyoxigraph answers an empty dataset for one bad @id; that must not pass as the
    # canonical form of the document.
    doc = {"@context": {"@vocab": "https://v.example/"}, "@id": "https ://x", "p": "1"}
    assert rdfc._canonicalize_oxigraph(doc, default_loader(), None, deep=False, used={"p"}) is None
    with pytest.raises(JsonLdError, match="subject"):
        rdfc._canonicalize_pyld(doc, default_loader(), None)


def test_vocab_null_is_processed_not_a_crash() -> None:
    key = Ed25519PrivateKey.generate()
    did = multikey.did_key(key.public_key())
    doc = {
        "@context": ["https://www.w3.org/ns/credentials/v2", {"@vocab": None}],
        "type": ["VerifiableCredential"],
        "issuer": did,
        "credentialSubject": {"id": "urn:uuid:1"},
    }
    assert rdfc.canonicalize(doc, fast=False) == rdfc.canonicalize(
        {**doc, "@context": doc["@context"][:1]}, fast=False
    )
    secured = data_integrity.add_proof(
        doc, key, multikey.did_key_verification_method(key.public_key()), untrusted=True
    )
    assert verify(secured).verified
    # @vocab null really removes the vocabulary mapping: an undefined term is refused
    undefined = {
        **doc,
        "@context": [{"@vocab": "https://v.example/"}, {"@vocab": None}],
        "anything": "x",
    }
    with pytest.raises(JsonLdError, match="anything"):
        rdfc.canonicalize(undefined, fast=False)


# -- duplicate members ----------------------------------------------------------------


def test_duplicate_members_are_refused(runner, signed, tmp_path) -> None:
    text = duplicate_member_text(signed)
    assert verify(json.loads(text)).verified  # what a last-wins parser sees is signed
    result = verify(text)
    assert not result.verified
    reason = _failed(result)["format"]
    assert reason.startswith("/credentialSubject/manufacturerName: ") and "Evil" not in reason
    path = tmp_path / "dup.json"
    path.write_text(text, encoding="utf-8")
    out = runner.invoke(args=["verify", str(path)])
    assert out.exit_code == 1 and "/credentialSubject/manufacturerName" in out.output, out.output


def test_duplicate_members_in_did_documents_are_refused(tmp_path) -> None:
    from gateway.errors import DidResolutionError

    path = tmp_path / "did.json"
    path.write_text('{"id": "did:web:a.example", "id": "did:web:b.example"}')
    with pytest.raises(DidResolutionError, match="/id: .* appears twice"):
        Resolver.from_files(files=[path])


# -- the CLI -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TAMPERINGS))
def test_gateway_verify_refuses_tampered_files(runner, signed, name, tmp_path) -> None:
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(tampered(signed, name)), encoding="utf-8")
    out = runner.invoke(args=["verify", "--json", str(path)])
    assert out.exit_code == 1, out.output
    [verdict] = json.loads(out.output)
    failed = {c["id"]: c.get("reason", "") for c in verdict["checks"] if not c["ok"]}
    assert failed["jsonld.terms"].startswith(TAMPERINGS[name][1] + ": ")


# -- vc+jwt: NumericDate, duplicates, nesting, segment sizes ----------------------------


@pytest.fixture(scope="module")
def jwt_issuer():
    key = Ed25519PrivateKey.generate()
    pub = key.public_key()
    return key, multikey.did_key(pub), multikey.did_key_verification_method(pub)


@pytest.mark.parametrize(
    "claims, reason",
    [
        ('"exp": NaN', "NaN is not a JSON number"),
        ('"exp": Infinity', "Infinity is not a JSON number"),
        ('"exp": 1e999', "out of range"),
        ('"nbf": -1e999', "out of range"),
        ('"iat": NaN', "NaN is not a JSON number"),
        ('"exp": 1.5e12', "NumericDate"),
        ('"exp": 9007199254740993', "NumericDate"),
        ('"exp": true', "NumericDate"),
        ('"iat": 1.5', "NumericDate"),
        ('"exp": 4102444800, "exp": 1', "/exp: the JWS payload: member 'exp' appears twice"),
    ],
)
def test_numeric_dates_are_finite_integers(jwt_issuer, claims, reason) -> None:
    key, did, kid = jwt_issuer
    token = forged_jwt(
        key, {"alg": "EdDSA", "typ": "vc+jwt", "kid": kid}, jwt_credential_text(did, claims)
    )
    result = verify(token)
    assert not result.verified
    assert any(reason in c.reason for c in result.failures), result.failures


def test_integer_exp_in_the_future_verifies(jwt_issuer) -> None:
    key, did, kid = jwt_issuer
    token = forged_jwt(
        key,
        {"alg": "EdDSA", "typ": "vc+jwt", "kid": kid},
        jwt_credential_text(did, '"exp": 4102444800, "iat": 1700000000'),
    )
    assert verify(token).verified


def test_duplicate_header_member_is_refused(jwt_issuer) -> None:
    key, did, kid = jwt_issuer
    header = {"alg": "EdDSA", "typ": "vc+jwt", "kid": kid}
    text_header = json.dumps(header)[:-1] + ', "alg": "none"}'
    from tests.credentials.tampering import b64url

    signing_input = f"{b64url(text_header.encode())}.{b64url(jwt_credential_text(did).encode())}"
    token = f"{signing_input}.{b64url(key.sign(signing_input.encode()))}"
    result = verify_jwt(token, Resolver(), now=__import__("datetime").datetime.now())
    assert not all(c.ok for c in result.checks)
    assert result.checks[-1].reason.startswith("/alg: ")
    assert "appears twice" in result.checks[-1].reason


def test_nested_arrays_in_a_jwt_payload_are_a_failed_check(jwt_issuer) -> None:
    key, did, kid = jwt_issuer
    deep = "[" * 5000 + "]" * 5000
    token = forged_jwt(
        key,
        {"alg": "EdDSA", "typ": "vc+jwt", "kid": kid},
        jwt_credential_text(did, f'"evidence": {deep}'),
    )
    result = verify(token)
    assert not result.verified and "deeper than" in result.failures[0].reason


def test_deeply_nested_credentials_are_a_failed_check() -> None:
    doc: dict = {"@context": ["https://www.w3.org/ns/credentials/v2"], "proof": {}}
    node = doc
    for _ in range(300):  # beyond orjson's 254 levels and the walk's limit
        node["credentialSubject"] = {}
        node = node["credentialSubject"]
    doc["proof"] = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "proofPurpose": "assertionMethod",
        "proofValue": "z1",
        "verificationMethod": "did:key:z6Mk#z6Mk",
    }
    result = verify(doc)
    assert not result.verified
    with pytest.raises(JsonLdError):
        rdfc.canonicalize(doc, untrusted=True)


# -- bounded decoding (base58btc, multibase, base64url) ---------------------------------


def test_base58_is_bounded_before_decoding() -> None:
    with pytest.raises(CredentialError, match="at most 88"):
        multikey.b58btc_decode("z" + "2" * 200_000, max_bytes=64)
    with pytest.raises(CredentialError, match="at most 47"):
        multikey.public_key_from_multibase("z" + "2" * 200_000)
    with pytest.raises(CredentialError, match="at most 47"):
        multikey.public_key_from_did_key("did:key:z" + "2" * 200_000)
    longest = multikey.b58btc_encode(b"\xff" * 64)
    assert len(longest) == 1 + multikey.max_b58_chars(64)
    assert multikey.b58btc_decode(longest, max_bytes=64) == b"\xff" * 64
    with pytest.raises(CredentialError, match="decodes to 65 bytes"):
        multikey.b58btc_decode(multikey.b58btc_encode(b"\xff" * 65)[:89], max_bytes=64)


def test_huge_proof_value_and_kid_are_refused_at_once(signed, jwt_issuer) -> None:
    doc = copy.deepcopy(signed)
    doc["proof"]["proofValue"] = "z" + "2" * 200_000
    failed = _failed(verify(doc))
    assert "at most 88" in failed["proof.value"]
    doc = copy.deepcopy(signed)
    doc["proof"]["verificationMethod"] = "did:key:z" + "2" * 200_000 + "#z" + "2" * 200_000
    reason = _failed(verify(doc))["proof.verificationMethod"]
    assert "longer than 2048 characters" in reason and len(reason) < 400
    doc["proof"]["verificationMethod"] = "did:key:z" + "2" * 1000 + "#z" + "2" * 1000
    assert "at most 47" in _failed(verify(doc))["proof.verificationMethod"]
    key, did, _ = jwt_issuer
    token = forged_jwt(
        key, {"alg": "EdDSA", "kid": "did:key:z" + "2" * 200_000}, jwt_credential_text(did)
    )
    assert "header is longer than 4096" in _failed(verify(token))["jose.format"]
    long_kid = "did:key:z" + "2" * 1000 + "#z" + "2" * 1000  # within the header bound
    token = forged_jwt(key, {"alg": "EdDSA", "kid": long_kid}, jwt_credential_text(did))
    assert "at most 47" in _failed(verify(token))["jose.key"]


def test_jws_segments_are_bounded(jwt_issuer) -> None:
    key, did, kid = jwt_issuer
    token = forged_jwt(
        key, {"alg": "EdDSA", "kid": kid, "pad": "x" * 5000}, jwt_credential_text(did)
    )
    assert "header is longer than" in _failed(verify(token))["jose.format"]
    head, payload, _ = forged_jwt(
        key, {"alg": "EdDSA", "kid": kid}, jwt_credential_text(did)
    ).split(".")
    assert "signature is longer" in _failed(verify(f"{head}.{payload}.{'A' * 500}"))["jose.format"]


# -- VC DM 2.0 structure: ids, type IRIs, credentialStatus / Schema / evidence -----------


@pytest.mark.parametrize(
    "member, pointer",
    [
        (
            {"credentialStatus": {"id": "not a url", "type": "BitstringStatusListEntry"}},
            "/credentialStatus/id",
        ),
        ({"credentialSchema": {"id": "schema 1", "type": "JsonSchema"}}, "/credentialSchema"),
        ({"evidence": [{"id": "https ://e.example/1", "type": "Evidence"}]}, "/evidence/0/id"),
        ({"type": ["VerifiableCredential", "https ://not-a-url#T"]}, "/type/1"),
        ({"credentialSubject": {"id": "https ://x", "type": ["X"]}}, "/credentialSubject/id"),
        ({"termsOfUse": {"type": "Policy", "id": "policy 7"}}, "/termsOfUse/id"),
    ],
)
def test_structure_checks_validate_ids_and_types(member, pointer) -> None:
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {"id": "https://x.example/1"},
        **member,
    }
    problems = " ".join(c.reason for c in structure_checks(credential) if not c.ok)
    assert pointer in problems, problems


def test_lexical_forms_agree_with_the_rfc3987_grammar() -> None:
    samples = [
        "https://a.example/x?y#z",
        "urn:uuid:6f1c2a34-0b7d-4c1e-9a55-3e0f1d2c4b6a",
        "did:key:z6Mk#z6Mk",
        "did:web:gw.example%3A8443:eu",
        "mailto:x@y",
        "x:",
        "http://例え.jp/パス",
        "data:application/vc+jwt,eyJ.a.b",
        "http://[v1.x]/",
        "https ://x",
        "http://a b",
        "http://a%zz",
        "http://a/<b>",
        "https://x/#a#b",
        "http://a:80x/",
        "https://a/{x}",
        "",
        "no-scheme",
        "http://a/\u0007",
    ]
    for iri in samples:
        assert is_absolute_iri(iri) == rfc3987_syntax.is_valid_syntax_iri(iri), iri
    # ipaddress checks IPv6 literals (the grammar package refuses even valid ones)
    assert is_absolute_iri("http://[::1]/") and not is_absolute_iri("http://[::zz]/")
    good = ["en", "en-US", "zh-Hans-CN", "de-CH-1901", "x-private", "i-klingon", "sr-Latn"]
    bad = ["en_US", "en US", "12345678901", "", "-x", "abcdefghi", "en-a", "en-"]
    assert all(is_language_tag(t) for t in good)
    assert not any(is_language_tag(t) for t in bad)


def test_duplicate_pointer_names_the_nested_member() -> None:
    from gateway.jsontext import duplicate_pointer

    assert duplicate_pointer('{"a": {"b": [1, {"c": 1, "c": 2}]}}') == "/a/b/1/c"
    assert duplicate_pointer(b'[{"x": [[{"y/z": 1, "y/z": 1}]]}]') == "/0/x/0/0/y~1z"
    assert duplicate_pointer('{"a": 1}') is None and duplicate_pointer("{") is None


def test_issue_side_canonicalization_applies_the_verifier_caps() -> None:
    # Eight blank nodes each linked to all others: uncapped URDNA2015 tries 7! orders per
    # node (seconds); under the caps it stops after a bounded number of steps.
    n = 8
    doc = {
        "@context": ["https://www.w3.org/ns/credentials/v2", {"ex": "https://ex.example/#"}],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": [
            {"@id": f"_:b{i}", "ex:link": [{"@id": f"_:b{j}"} for j in range(n) if j != i]}
            for i in range(n)
        ],
    }
    key = Ed25519PrivateKey.generate()
    vm = multikey.did_key_verification_method(key.public_key())
    with pytest.raises(JsonLdError) as refused:
        data_integrity.add_proof(doc, key, vm, untrusted=True)
    assert refused.value.extensions["rule"] == "limit"
    with pytest.raises(JsonLdError, match="limit|interlinked"):
        data_integrity.add_proof(doc, key, vm, untrusted=True, cryptosuite="eddsa-jcs-2022")
    doc["credentialSubject"] = [  # two linked blank nodes: signed as before
        {"@id": "_:b0", "ex:link": {"@id": "_:b1"}},
        {"@id": "_:b1", "ex:v": "1"},
    ]
    assert "proof" in data_integrity.add_proof(doc, key, vm, untrusted=True)
