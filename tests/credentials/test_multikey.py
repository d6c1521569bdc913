"""Multikey and did:key against the W3C vc-di-eddsa key pair and the CCG did:key vectors."""

from __future__ import annotations

import base64
import json

import base58
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from gateway.credentials import multikey
from gateway.errors import CredentialError
from gateway.paths import FIXTURES_DIR

VECTORS = FIXTURES_DIR / "vectors"
W3C_KEY = json.loads((VECTORS / "w3c-vc-di-eddsa/TestVectors/keyPair.json").read_text())
CCG = json.loads((VECTORS / "w3c-ccg-did-method-key/test-vectors/ed25519-x25519.json").read_text())


def _raw(public_key) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_w3c_key_pair_private_gives_public() -> None:
    private = multikey.private_key_from_multibase(W3C_KEY["privateKeyMultibase"])
    assert multikey.public_key_multibase(private.public_key()) == W3C_KEY["publicKeyMultibase"]
    assert multikey.private_key_multibase(private) == W3C_KEY["privateKeyMultibase"]


def test_w3c_key_matches_its_jwk() -> None:
    jwk = json.loads((VECTORS / "derived/keys/issuer-a.public.jwk.json").read_text())
    public = multikey.public_key_from_multibase(W3C_KEY["publicKeyMultibase"])
    assert base64.urlsafe_b64encode(_raw(public)).rstrip(b"=").decode() == jwk["x"]


@pytest.mark.parametrize("did", sorted(CCG))
def test_ccg_seed_to_did_key(did: str) -> None:
    entry = CCG[did]
    private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(entry["seed"]))
    public = private.public_key()
    assert multikey.did_key(public) == did
    fragment = did.removeprefix("did:key:")
    assert multikey.did_key_verification_method(public) == f"{did}#{fragment}"
    pair = entry["verificationKeyPair"]
    if "publicKeyBase58" in pair:
        assert _raw(public) == base58.b58decode(pair["publicKeyBase58"])
    else:
        x = pair["publicKeyJwk"]["x"]
        assert _raw(public) == base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
    resolved = multikey.public_key_from_did_key(f"{did}#{fragment}")
    assert _raw(resolved) == _raw(public)
    assert _raw(multikey.public_key_from_did_key(did)) == _raw(public)


def test_private_multikey_prefix() -> None:
    key = Ed25519PrivateKey.generate()
    encoded = multikey.private_key_multibase(key)
    assert encoded.startswith("z3u2")
    assert _raw(multikey.private_key_from_multibase(encoded).public_key()) == _raw(key.public_key())


@pytest.mark.parametrize(
    "value",
    ["", "z", "u" + "A" * 40, "zI0Ol", "z6Mk+", 42, None],
)
def test_b58btc_decode_refuses(value) -> None:
    with pytest.raises(CredentialError):
        multikey.b58btc_decode(value)


def test_b58btc_round_trip() -> None:
    data = b"\x00\x00\x01binary\xff"
    assert multikey.b58btc_decode(multikey.b58btc_encode(data)) == data


def test_public_key_wrong_codec_refused() -> None:
    x25519 = next(iter(CCG.values()))["keyAgreementKeyPair"]["id"].rpartition("#")[2]
    with pytest.raises(CredentialError, match="0xed01"):
        multikey.public_key_from_multibase(x25519)
    with pytest.raises(CredentialError, match="0x8026"):
        multikey.private_key_from_multibase(W3C_KEY["publicKeyMultibase"])


def test_public_key_wrong_length_refused() -> None:
    with pytest.raises(CredentialError, match="32 bytes"):
        multikey.public_key_from_multibase(multikey.b58btc_encode(b"\xed\x01" + b"\x01" * 31))


@pytest.mark.parametrize(
    "value",
    [
        "did:web:example.com",
        "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
        "#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
        "did:key:u6MkrJVn",
    ],
)
def test_did_key_resolution_refuses(value: str) -> None:
    with pytest.raises(CredentialError):
        multikey.public_key_from_did_key(value)
