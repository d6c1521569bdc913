from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.credentials import multikey
from gateway.credentials.did import Resolver
from gateway.credentials.jose import sign_jwt, verify_jwt
from gateway.errors import CredentialError

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def _b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


@pytest.fixture
def issuer():
    key = Ed25519PrivateKey.generate()
    pub = key.public_key()
    return key, multikey.did_key(pub), multikey.did_key_verification_method(pub)


def _credential(did: str) -> dict:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": did,
        "credentialSubject": {"id": "urn:uuid:1"},
    }


def test_sign_and_verify_roundtrip(issuer) -> None:
    key, did, kid = issuer
    token = sign_jwt(_credential(did), key, kid)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": "EdDSA", "typ": "vc+jwt", "cty": "vc", "kid": kid}
    result = verify_jwt(token, Resolver(), now=NOW)
    assert all(c.ok for c in result.checks), result.checks
    assert result.credential == _credential(did)


def test_sign_refuses_vc_claim(issuer) -> None:
    key, did, kid = issuer
    with pytest.raises(CredentialError, match="vc"):
        sign_jwt({**_credential(did), "vc": {}}, key, kid)


def _forged(header: dict, payload: dict, key=None) -> str:
    signing_input = f"{_b64(header)}.{_b64(payload)}"
    sig = key.sign(signing_input.encode()) if key else b"x"
    return signing_input + "." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("header_extra", "reason"),
    [
        ({"alg": "none"}, "not allowed"),
        ({"alg": "HS256"}, "not allowed"),
        ({"jwk": {"kty": "OKP"}}, "jwk"),
        ({"jku": "https://evil.example/keys"}, "jku"),
        ({"x5c": ["MII"]}, "x5c"),
        ({"crit": ["exp"]}, "crit"),
        ({"b64": False}, "b64"),
    ],
)
def test_hostile_headers_are_refused(issuer, header_extra: dict, reason: str) -> None:
    key, did, kid = issuer
    header = {"alg": "EdDSA", "typ": "vc+jwt", "kid": kid, **header_extra}
    result = verify_jwt(_forged(header, _credential(did), key), Resolver(), now=NOW)
    failed = [c for c in result.checks if not c.ok]
    assert failed and failed[0].id == "jose.header" and reason in failed[0].reason


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": 1000}, "expired"),
        ({"nbf": 4102444800}, "not valid yet"),
        ({"exp": "2030-01-01"}, "NumericDate"),
        ({"iss": "did:key:other"}, "does not equal issuer"),
        ({"vp": {}}, "'vp'"),
    ],
)
def test_claims(issuer, claims: dict, reason: str) -> None:
    key, did, kid = issuer
    header = {"alg": "EdDSA", "typ": "vc+jwt", "kid": kid}
    result = verify_jwt(_forged(header, {**_credential(did), **claims}, key), Resolver(), now=NOW)
    [failed] = [c for c in result.checks if not c.ok]
    assert failed.id == "jose.claims" and reason in failed.reason


def test_string_iat_is_accepted(issuer) -> None:
    key, did, kid = issuer
    header = {"alg": "EdDSA", "typ": "vc+jwt", "kid": kid}
    payload = {**_credential(did), "iat": "2010-01-01T19:23:24Z"}
    result = verify_jwt(_forged(header, payload, key), Resolver(), now=NOW)
    assert all(c.ok for c in result.checks)
    assert "iat" not in result.credential


def test_missing_typ_is_a_warning_unless_strict(issuer) -> None:
    key, did, kid = issuer
    token = _forged({"alg": "EdDSA", "kid": kid}, _credential(did), key)
    assert all(c.ok for c in verify_jwt(token, Resolver(), now=NOW).checks)
    strict = verify_jwt(token, Resolver(), now=NOW, strict=True)
    assert [c.id for c in strict.checks if not c.ok] == ["jose.media-type"]
