"""End to end: credentials this gateway issues, verified by its own verifier, and every
kind of bad input refused with its own reason."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from gateway.credentials import data_integrity
from gateway.credentials.did import Resolver
from gateway.credentials.jose import sign_jwt
from gateway.credentials.keys import KeyStore
from gateway.credentials.model import build_credential
from gateway.credentials.multikey import b58btc_decode
from gateway.credentials.status_list import FileStatusListStore, StatusRegistry
from gateway.credentials.trust import TrustList
from gateway.credentials.verify import DeferredTrustList, verify

NOW = datetime(2026, 6, 1, tzinfo=UTC)
BASE = "https://gw.example"
BASE_DID = "did:web:gw.example"
PASSPORT = f"{BASE}/passports/01A1B2C3D4E5F6G7H8J9K0L1"
SUBJECT = {
    "type": "BatteryPassport",
    "batteryCode": "01A1B2C3D4E5F6G7H8J9K0L1",
    "manufacturerName": "Ningde Example Battery Co., Ltd. 宁德",
    "batteryMass": "450.5",
    "expectedLifetimeCycles": 3000,
    "manufacturingDate": "2025-11",
    "manufacturerWebAddress": "https://maker.example",
}


class Issuer:
    def __init__(self, tmp_path, method="web"):
        self.keys = KeyStore(tmp_path / "keys", BASE, tmp_path / "did")
        self.keys.generate(method=method)
        self.did_dir = tmp_path / "did"
        signing = self.keys.signing_key()
        self.registry = StatusRegistry(
            FileStatusListStore(tmp_path / "status"), base_url=BASE, issuer=signing.issuer
        )

    def credential(self, subject=SUBJECT, **kw):
        signing = self.keys.signing_key()
        [entries] = self.registry.allocate()
        args = dict(
            issuer=signing.issuer,
            passport_id=PASSPORT,
            access_group="annex-xiii-1",
            mapping={"set": "cn-trace-to-eu-passport", "version": "1.0.0", "hash": "sha256:00"},
            status=entries,
            valid_from="2026-01-01T00:00:00Z",
        )
        args.update(kw)
        return build_credential(subject, **args)

    def sign(self, credential, **kw):
        signing = self.keys.signing_key()
        return data_integrity.add_proof(
            credential, signing.private_key, signing.kid, created="2026-01-01T00:00:00Z", **kw
        )

    def jwt(self, credential):
        signing = self.keys.signing_key()
        return sign_jwt(credential, signing.private_key, signing.kid)

    def verify(self, secured, **kw):
        kw.setdefault("resolver", Resolver.from_files([self.did_dir]))
        kw.setdefault("status_lists", self.registry.source())
        return verify(secured, now=NOW, **kw)


@pytest.fixture
def issuer(tmp_path):
    return Issuer(tmp_path)


def failed(result):
    return {c.id: c.reason for c in result.checks if not c.ok}


def test_data_integrity_passport_verifies(issuer) -> None:
    result = issuer.verify(issuer.sign(issuer.credential()))
    assert result.verified, failed(result)
    ids = [c.id for c in result.checks]
    for expected in (
        "proof.signature",
        "issuer.controller",
        "validity",
        "status.revocation",
        "status.suspension",
        "issuer.trust",
        "passport.vocabulary",
        "passport.mapping",
    ):
        assert expected in ids
    # No trust list: the issuer check is not evaluated, never a pass, and says so.
    trust = next(c for c in result.checks if c.id == "issuer.trust")
    assert not trust.evaluated and trust.reason.startswith("not evaluated")
    assert result.as_dict()["verified"] is True
    assert result.as_dict()["issuerTrust"] == "unknown"
    assert {"id": "issuer.trust", "ok": True, "evaluated": False} == {
        k: v for k, v in trust.as_dict().items() if k != "reason"
    }


def test_vc_jwt_passport_verifies(issuer) -> None:
    result = issuer.verify(issuer.jwt(issuer.credential()))
    assert result.verified, failed(result)
    assert result.format == "vc+jwt"


def test_rotated_key_still_verifies_old_credentials(issuer) -> None:
    old = issuer.sign(issuer.credential())
    old_jwt = issuer.jwt(issuer.credential())
    issuer.keys.generate()
    new = issuer.sign(issuer.credential())
    assert old["proof"]["verificationMethod"] != new["proof"]["verificationMethod"]
    for secured in (old, old_jwt, new):
        assert issuer.verify(secured).verified


def test_trust_list(issuer) -> None:
    secured = issuer.sign(issuer.credential())
    assert issuer.verify(secured, trusted_issuers=["did:web:gw.example"]).verified
    result = issuer.verify(secured, trusted_issuers=["did:web:other.example"])
    assert list(failed(result)) == ["issuer.trust"]


def test_deferred_trust_list_is_read_only_for_other_issuers(issuer) -> None:
    secured = issuer.sign(issuer.credential())
    reads = []

    def deferred(own, entries):
        def read():
            reads.append(entries)
            return TrustList.of(entries, own=[own])

        return DeferredTrustList(frozenset({own}), read)

    result = issuer.verify(secured, trusted_issuers=deferred(BASE_DID, ["did:web:x.example"]))
    assert result.verified and result.issuer_trust == "trusted"
    assert reads == []  # the gateway's own credential: no list read
    # the issuer is not this gateway: the stored list decides
    other = deferred("did:web:other.example", ["x.example"])
    assert list(failed(issuer.verify(secured, trusted_issuers=other))) == ["issuer.trust"]
    assert reads == [["x.example"]]
    listed = deferred("did:web:other.example", ["gw.example"])
    assert issuer.verify(secured, trusted_issuers=listed).issuer_trust == "trusted"


def test_unknown_context_url(issuer) -> None:
    secured = issuer.sign(issuer.credential())
    secured["@context"].append("https://w3id.org/cn-eu-battery/contexts/passport/v99")
    reasons = failed(issuer.verify(secured, proof_only=True))
    assert "not pinned" in reasons["jsonld.contexts"]


def test_remote_context(issuer) -> None:
    secured = issuer.sign(issuer.credential())
    secured["@context"].append({"@import": "https://evil.example/context.jsonld"})
    reasons = failed(issuer.verify(secured, proof_only=True))
    assert "evil.example" in reasons["jsonld.contexts"]


def test_dropped_term(issuer) -> None:
    secured = issuer.sign(issuer.credential())
    secured["credentialSubject"]["undefinedTerm"] = "smuggled"
    reasons = failed(issuer.verify(secured, proof_only=True))
    assert "undefinedTerm" in reasons["jsonld.terms"]


def test_wrong_cryptosuite(issuer) -> None:
    secured = issuer.sign(issuer.credential())
    secured["proof"]["cryptosuite"] = "ecdsa-rdfc-2019"
    reasons = failed(issuer.verify(secured))
    assert "ecdsa-rdfc-2019" in reasons["proof.cryptosuite"]


def test_base64_proof_value(issuer) -> None:
    secured = issuer.sign(issuer.credential())
    raw = b58btc_decode(secured["proof"]["proofValue"])
    secured["proof"]["proofValue"] = "u" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    reasons = failed(issuer.verify(secured))
    assert "base58btc" in reasons["proof.value"]


def test_alg_none(issuer) -> None:
    token = issuer.jwt(issuer.credential())
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "vc+jwt"}).encode())
    unsecured = header.rstrip(b"=").decode() + "." + token.split(".")[1] + "."
    result = issuer.verify(unsecured)
    assert not result.verified
    assert "'none' is not allowed" in failed(result)["jose.header"]


def test_expired(issuer) -> None:
    secured = issuer.sign(issuer.credential(valid_until="2026-02-01T00:00:00Z"))
    reasons = failed(issuer.verify(secured))
    assert list(reasons) == ["validity"] and "expired" in reasons["validity"]
    assert issuer.verify(secured, proof_only=True).verified


def test_revoked_and_superseded(issuer) -> None:
    credential = issuer.credential()
    secured = issuer.sign(credential)
    issuer.registry.revoke(credential)
    reasons = failed(issuer.verify(secured))
    assert list(reasons) == ["status.revocation"] and "revoked" in reasons["status.revocation"]
    other = issuer.credential()
    issuer.registry.supersede(other, f"{BASE}/passports/NEW")
    reasons = failed(issuer.verify(issuer.jwt(other)))
    assert f"superseded by {BASE}/passports/NEW" in reasons["status.revocation"]


def test_suspended_then_reinstated(issuer) -> None:
    credential = issuer.credential()
    secured = issuer.sign(credential)
    issuer.registry.suspend(credential)
    assert list(failed(issuer.verify(secured))) == ["status.suspension"]
    issuer.registry.unsuspend(credential)
    assert issuer.verify(secured).verified


def test_status_list_not_found_fails_closed(issuer) -> None:
    secured = issuer.sign(issuer.credential())
    result = issuer.verify(secured, status_lists={})
    assert "STATUS_RETRIEVAL_ERROR" in failed(result)["status.revocation"]


def test_signed_status_list_credential_from_elsewhere(issuer) -> None:
    credential = issuer.credential()
    secured = issuer.sign(credential)
    lists = {}
    for entry in credential["credentialStatus"]:
        url = entry["statusListCredential"]
        lists[url] = issuer.sign(issuer.registry.store.load(url).credential())
    assert issuer.verify(secured, status_lists=lists).verified
    url = credential["credentialStatus"][0]["statusListCredential"]
    lists[url] = issuer.registry.store.load(url).credential()  # unsigned
    assert (
        "STATUS_VERIFICATION_ERROR"
        in failed(issuer.verify(secured, status_lists=lists))["status.revocation"]
    )


def test_vocabulary_conformance(issuer) -> None:
    subject = {**SUBJECT, "batteryMass": 450, "manufacturingDate": "2025-11-30"}
    result = issuer.verify(issuer.sign(issuer.credential(subject=subject)))
    reason = failed(result)["passport.vocabulary"]
    assert "/credentialSubject/batteryMass: 450 is not a JSON decimal-string" in reason
    assert "/credentialSubject/manufacturingDate" in reason


def test_did_web_without_pinned_document(issuer) -> None:
    result = issuer.verify(issuer.sign(issuer.credential()), resolver=Resolver())
    assert "network resolution is off" in failed(result)["proof.verificationMethod"]


@pytest.mark.parametrize("text", ["", "hello", "{not json", "[1, 2]", "a.b"])
def test_garbage_is_a_verdict_not_an_exception(text) -> None:
    result = verify(text)
    assert not result.verified and failed(result)


def test_unsecured_credential(issuer) -> None:
    assert "unsecured" in failed(issuer.verify(issuer.credential()))["format"]


def test_enveloped_credential(issuer) -> None:
    envelope = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "EnvelopedVerifiableCredential",
        "id": "data:application/vc+jwt," + issuer.jwt(issuer.credential()),
    }
    assert issuer.verify(envelope).verified
