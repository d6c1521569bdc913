from __future__ import annotations

import json
import stat

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.credentials import multikey
from gateway.credentials.did import (
    Resolver,
    VerificationMethod,
    did_key_document,
    did_web,
    did_web_url,
)
from gateway.credentials.keys import KeyStore
from gateway.errors import DidResolutionError, SigningKeyError
from gateway.paths import FIXTURES_DIR
from gateway.serving import TURN

DERIVED = FIXTURES_DIR / "vectors" / "derived"
W3C_KEY = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"


@pytest.mark.parametrize(
    ("base_url", "did"),
    [
        ("http://127.0.0.1:8080", "did:web:127.0.0.1%3A8080"),
        ("https://gw.example", "did:web:gw.example"),
        ("https://gw.example/eu/passports", "did:web:gw.example:eu:passports"),
    ],
)
def test_did_web_from_base_url(base_url: str, did: str) -> None:
    assert did_web(base_url) == did


def test_did_web_url() -> None:
    assert did_web_url("did:web:gw.example") == "https://gw.example/.well-known/did.json"
    assert did_web_url("did:web:gw.example%3A8443:eu") == "https://gw.example:8443/eu/did.json"


def test_did_key_document_matches_the_w3c_key_and_jwk() -> None:
    doc = did_key_document(f"did:key:{W3C_KEY}")
    [vm] = doc["verificationMethod"]
    assert vm["id"] == f"did:key:{W3C_KEY}#{W3C_KEY}"
    assert vm["type"] == "Multikey" and vm["publicKeyMultibase"] == W3C_KEY
    assert doc["assertionMethod"] == [vm["id"]]
    method = Resolver().resolve(vm["id"])
    public = json.loads((DERIVED / "keys/issuer-a.public.jwk.json").read_text())
    assert method.jwk["x"] == public["x"] == "sA2Nk45_dz1RVlqtNqYj9TRPf10ZYPnPPo4SYg6igQ8"
    assert method.controller == f"did:key:{W3C_KEY}"


def test_generate_rotate_and_did_document(tmp_path) -> None:
    store = KeyStore(tmp_path / "keys", "https://gw.example", tmp_path / "did")
    with pytest.raises(SigningKeyError, match="keys generate"):
        store.active()
    first = store.generate()
    assert first.kid.startswith("did:web:gw.example#") and first.controller == "did:web:gw.example"
    mode = stat.S_IMODE((tmp_path / "keys" / first.file).stat().st_mode)
    assert mode == 0o600
    second = store.generate()
    assert store.active().kid == second.kid
    assert [r.status for r in store.records()] == ["retired", "active"]
    signing = store.signing_key()
    assert isinstance(signing.private_key, Ed25519PrivateKey)
    assert signing.kid == second.kid and signing.issuer == "did:web:gw.example"

    doc = store.did_document()
    assert [vm["id"] for vm in doc["verificationMethod"]] == [first.kid, second.kid]
    assert doc["assertionMethod"] == [first.kid, second.kid]
    assert all(vm["publicKeyMultibase"].startswith("z6Mk") for vm in doc["verificationMethod"])
    jwk_doc = store.did_document("jwk")
    assert jwk_doc["verificationMethod"][0]["publicKeyJwk"]["crv"] == "Ed25519"

    # the retired key still resolves from the pinned (written) DID document
    resolver = Resolver.from_files([tmp_path / "did"])
    old = resolver.resolve(first.kid)
    assert old.controller == "did:web:gw.example"
    assert (
        old.ed25519().public_bytes_raw()
        == VerificationMethod(first.kid, first.controller, first.public_jwk)
        .ed25519()
        .public_bytes_raw()
    )


def test_did_key_method(tmp_path) -> None:
    store = KeyStore(tmp_path / "keys", "https://gw.example")
    record = store.generate(method="key")
    assert record.controller.startswith("did:key:z6Mk")
    pub = store.signing_key().private_key.public_key()
    assert record.kid == multikey.did_key_verification_method(pub)


def test_did_web_needs_a_pinned_document_without_network() -> None:
    with pytest.raises(DidResolutionError, match="network resolution is off"):
        Resolver().resolve("did:web:unknown.example#key-1")


def test_method_not_listed_for_assertion_is_refused() -> None:
    key = Ed25519PrivateKey.generate().public_key()
    vm = VerificationMethod.from_ed25519("did:web:a.example#k", "did:web:a.example", key)
    doc = {
        "id": "did:web:a.example",
        "verificationMethod": [vm.as_json()],
        "authentication": ["#k"],
    }
    resolver = Resolver(documents={doc["id"]: doc})
    assert resolver.resolve("did:web:a.example#k", purpose="authentication").id == vm.id
    with pytest.raises(DidResolutionError, match="assertionMethod"):
        resolver.resolve("did:web:a.example#k")


def test_cli_keys_generate_list_did(runner, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GATEWAY_BASE_URL", "https://gw.example:8443")
    result = runner.invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert "signing key created: did:web:gw.example%3A8443#" in result.output
    assert "signing key created" not in runner.invoke(args=["init"]).output
    assert runner.invoke(args=["keys", "generate"]).exit_code == 0
    listed = runner.invoke(args=["keys", "list", "--json"])
    rows = json.loads(listed.output)
    assert [r["status"] for r in rows if r["use"] == "passport"] == ["retired", "active"]
    # The generic issue route's key: its own DID, rotated on its own.
    [vc_api] = [r for r in rows if r["use"] == "vc-api"]
    assert vc_api["controller"] == "did:web:gw.example%3A8443:vc-api"
    assert runner.invoke(args=["keys", "generate", "--vc-api"]).exit_code == 0
    rows = json.loads(runner.invoke(args=["keys", "list", "--json"]).output)
    assert [r["status"] for r in rows if r["use"] == "vc-api"] == ["retired", "active"]
    assert [r["status"] for r in rows if r["use"] == "passport"] == ["retired", "active"]
    vc_doc = json.loads(runner.invoke(args=["keys", "did", "--vc-api"]).output)
    assert vc_doc["id"] == "did:web:gw.example%3A8443:vc-api"
    assert len(vc_doc["verificationMethod"]) == 2
    doc = json.loads(runner.invoke(args=["keys", "did", "--format", "jwk"]).output)
    assert doc["id"] == "did:web:gw.example%3A8443"
    assert {vm["type"] for vm in doc["verificationMethod"]} == {"JsonWebKey"}


def test_a_served_request_leaves_its_turn_before_fetching_a_did_document(monkeypatch) -> None:
    """A did:web host that answers slowly holds the verifying thread, not the worker's
    turn (:class:`gateway.serving.Turn`): the next request starts meanwhile."""
    holders = []

    def get(url: str, **kwargs: object) -> None:
        holders.append(TURN.holder())
        raise requests.ConnectionError("unreachable")

    monkeypatch.setattr(requests, "get", get)
    TURN.take()
    try:
        with pytest.raises(DidResolutionError, match="unreachable"):
            Resolver(allow_network=True).document("did:web:slow.example")
        assert holders == [None]
    finally:
        TURN.leave()
    assert TURN.holder() is None
