"""VC-JOSE-COSE: credentials secured as compact JWS, media type ``application/vc+jwt``.

The JWS payload is the credential itself (VC-JOSE-COSE §3.1.1); the VC-JWT 1.1 claims
``vc`` and ``vp`` must not appear. Verification is strict about the header: one
algorithm allow-list, no key material or key URLs in the header (the verifier, not the
sender, picks the key), no ``crit`` extensions and no unencoded payloads.

Signing writes the JWS by hand (cached header, orjson, ``cryptography`` Ed25519) because
it sits on the bulk issuance path, where jwcrypto's object model costs ten times the
signature; verifying ``EdDSA`` checks the Ed25519 signature over the two parts as sent
with ``cryptography`` too, after the header and payload checks here, and the other
algorithms go through jwcrypto.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwcrypto import jws
from jwcrypto.common import JWException

from gateway import jsontext
from gateway.credentials import base64url, direct_nquads
from gateway.credentials.checks import Check
from gateway.credentials.did import Resolver, VerificationMethod
from gateway.credentials.model import issuer_id
from gateway.errors import CredentialError, DidResolutionError
from gateway.jsontext import JsonTextError
from gateway.jsonvalues import MAX_SAFE_INTEGER, is_safe_integer

MEDIA_TYPE = "vc+jwt"
CONTENT_TYPE = "vc"
#: RFC 8037 EdDSA for our keys; ES256/ES384 (RFC 7518 §3.4) because the W3C
#: vc-jose-cose test suite signs with P-256 and P-384 keys.
ALGORITHMS = {"EdDSA": ("OKP", "Ed25519"), "ES256": ("EC", "P-256"), "ES384": ("EC", "P-384")}
#: Header members that carry or point at keys, or change how the JWS is processed
#: (RFC 7515 §4.1.3-4.1.11, RFC 7797 b64); a verifier that honoured them would let the
#: sender choose the key or the rules.
REFUSED_HEADERS = ("jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256", "crit", "b64")
#: RFC 7519 §4.1 registered claims: JWT metadata, not credential properties.
REGISTERED_CLAIMS = ("iss", "sub", "aud", "exp", "nbf", "iat", "jti", "cnf")
MAX_JWS_BYTES = 1024 * 1024


#: Largest JWS header accepted, in base64url characters; a header of this gateway is
#: about 200, one with a long did:web kid well under 2,000.
MAX_HEADER_CHARS = 4096
#: An Ed25519 signature is 64 bytes (86 characters), an ES384 one 96 (128 characters).
MAX_SIGNATURE_CHARS = 128
#: Three base64url parts, the first (the header) not empty.
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")


def _numeric_date(value: object) -> bool:
    """An RFC 7519 §2 NumericDate as this verifier accepts it: a JSON integer (not a
    boolean, not a fraction, not NaN or infinity) that a JavaScript verifier reads
    exactly: within ±(2^53 - 1)."""
    return is_safe_integer(value)


@lru_cache(maxsize=64)
def _header(kid: str) -> bytes:
    header = {"alg": "EdDSA", "typ": MEDIA_TYPE, "cty": CONTENT_TYPE, "kid": kid}
    return base64url.encode(orjson.dumps(header)).encode("ascii")


def sign_jwt(
    credential: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    kid: str,
    *,
    iat: int | None = None,
    exp: int | None = None,
    untrusted: bool = False,
) -> str:
    """Secure a credential as a compact JWS (``alg`` EdDSA, ``typ`` vc+jwt, ``cty`` vc).

    :param credential: the unsecured credential; it becomes the payload as is.
    :param private_key: the issuer's Ed25519 key.
    :param kid: the verification method id of the key.
    :param iat: optional issued-at NumericDate of the signature.
    :param exp: optional expiry NumericDate of the signature (not the data's validUntil).
    :param untrusted: the credential comes from a caller: it must mean in JSON-LD what it
        says in JSON, as a verifier will check (pinned contexts, nothing dropped, the
        canonicalization caps), before it is signed.
    :returns: ``header.payload.signature``.
    :raises CredentialError: the credential holds ``vc``/``vp`` claims or a ``proof``.
    :raises JsonLdError: ``untrusted`` and the credential would lose data in JSON-LD.
    :raises ContextError: ``untrusted`` and a context is not pinned.
    """
    for claim in ("vc", "vp", "proof"):
        if claim in credential:
            raise CredentialError(
                f"a vc+jwt payload must not contain {claim!r} (VC-JOSE-COSE §3.1.1)",
                pointer=f"/{claim}",
            )
    if untrusted:
        direct_nquads.canonicalize(credential, untrusted=True)
    claims: Mapping[str, Any] = credential
    if iat is not None or exp is not None:
        claims = {**credential, **{k: v for k, v in (("iat", iat), ("exp", exp)) if v is not None}}
    signing_input = _header(kid) + b"." + base64url.encode(orjson.dumps(claims)).encode("ascii")
    return signing_input.decode("ascii") + "." + base64url.encode(private_key.sign(signing_input))


def looks_like_jws(text: str) -> bool:
    """Whether ``text`` has the shape of a compact JWS (three base64url parts)."""
    return _COMPACT_JWS.fullmatch(text.strip()) is not None


@dataclass(frozen=True)
class JoseResult:
    """What JWS verification found.

    :param credential: the payload without JWT registered claims, or None if unreadable.
    :param checks: the ``jose.*`` checks.
    :param method: the verification method that verified the signature, if any.
    """

    credential: dict[str, Any] | None
    checks: tuple[Check, ...]
    method: VerificationMethod | None = field(default=None, compare=False)


def _media_type(value: str, expected: str) -> bool:
    # RFC 7515 §4.1.9: "application/" may be left out, and the comparison is case-insensitive.
    value = value.lower()
    return value in (expected, f"application/{expected}")


def verify_jwt(
    token: str,
    resolver: Resolver,
    *,
    now: datetime,
    strict: bool = False,
) -> JoseResult:
    """Verify a ``vc+jwt`` compact JWS.

    :param token: the compact JWS.
    :param resolver: finds the key the ``kid`` names (and checks it may assert).
    :param now: the time ``exp``/``nbf`` are checked against.
    :param strict: turn warnings (``typ`` absent) into failures.
    :returns: the payload and the checks; never raises for bad input.
    """
    checks: list[Check] = []

    def fail(check_id: str, reason: str) -> JoseResult:
        checks.append(Check(check_id, False, reason))
        return JoseResult(None, tuple(checks))

    token = token.strip()
    if len(token) > MAX_JWS_BYTES:
        return fail("jose.format", f"JWS larger than {MAX_JWS_BYTES} bytes")
    parts = token.split(".")
    if len(parts) != 3:
        return fail("jose.format", "not a compact JWS (three dot-separated parts expected)")
    if len(parts[2]) > MAX_SIGNATURE_CHARS:
        return fail("jose.format", f"JWS signature is longer than {MAX_SIGNATURE_CHARS} characters")
    raw = b""
    try:
        raw = base64url.decode(parts[0], "JWS header", limit=MAX_HEADER_CHARS)
        header = jsontext.loads(raw, what="the JWS header")
        raw = base64url.decode(parts[1], "JWS payload", limit=MAX_JWS_BYTES)
        payload = jsontext.loads(raw, what="the JWS payload")
    except CredentialError as e:
        return fail("jose.format", str(e))
    except JsonTextError as e:
        where = jsontext.duplicate_pointer(raw)
        return fail("jose.format", f"{where}: {e.message}" if where else e.message)
    if not isinstance(header, dict) or not isinstance(payload, dict):
        return fail("jose.format", "JWS header and payload must be JSON objects")
    checks.append(Check("jose.format", True, "compact JWS"))

    alg = header.get("alg")
    refused = [h for h in REFUSED_HEADERS if h in header]
    if alg not in ALGORITHMS:
        return fail(
            "jose.header",
            f"alg {alg!r} is not allowed (allowed: {', '.join(ALGORITHMS)}); "
            "unsecured and HMAC JWS are refused",
        )
    if refused:
        return fail("jose.header", f"header member(s) {', '.join(refused)} are refused")
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        return fail("jose.header", "kid is missing: the key cannot be identified")
    checks.append(Check("jose.header", True, f"alg {alg}, kid {header['kid']}"))

    problems = []
    typ, cty = header.get("typ"), header.get("cty")
    if typ is not None and not (isinstance(typ, str) and _media_type(typ, MEDIA_TYPE)):
        problems.append(f"typ {typ!r} is not {MEDIA_TYPE} (VC-JOSE-COSE §3.1.1)")
    if cty is not None and not (isinstance(cty, str) and _media_type(cty, CONTENT_TYPE)):
        problems.append(f"cty {cty!r} is not {CONTENT_TYPE}")
    if problems:
        checks.append(Check("jose.media-type", False, "; ".join(problems)))
    elif typ is None:
        checks.append(Check("jose.media-type", not strict, f"typ absent (SHOULD be {MEDIA_TYPE})"))
    else:
        checks.append(Check("jose.media-type", True, f"typ {typ}"))

    try:
        method = resolver.resolve(header["kid"], purpose="assertionMethod")
    except (DidResolutionError, CredentialError) as e:
        return fail("jose.key", str(e))
    kty, crv = ALGORITHMS[alg]
    if method.jwk.get("kty") != kty or method.jwk.get("crv") != crv:
        return fail("jose.key", f"key of {method.id or header['kid']} is not {kty}/{crv} for {alg}")
    checks.append(Check("jose.key", True, method.id or header["kid"]))

    try:
        if alg == "EdDSA":
            # RFC 7515 §5.2 step 8 with RFC 8037 §3.1: Ed25519 over the first two parts as
            # sent. The header and payload were decoded and checked above; jwcrypto's
            # object model (a copy of its header registry per token) would cost as much
            # as the signature on the gateway's own algorithm.
            signature = base64url.decode(parts[2], "JWS signature", limit=MAX_SIGNATURE_CHARS)
            method.ed25519().verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
        else:
            signed = jws.JWS()
            signed.allowed_algs = [alg]
            signed.deserialize(token)
            signed.verify(method.jose_key(), alg=alg)
    except (JWException, ValueError, InvalidSignature, CredentialError) as e:
        return fail("jose.signature", f"signature does not verify ({e.__class__.__name__})")
    checks.append(Check("jose.signature", True, ""))

    problems = []
    for claim in ("vc", "vp"):
        if claim in payload:
            problems.append(f"claim {claim!r} must not be present (VC-JOSE-COSE §3.1.1)")
    if "proof" in payload:
        problems.append("an enveloped credential must not also carry an embedded proof")
    if "iss" in payload and payload["iss"] != issuer_id(payload):
        problems.append(f"iss {payload['iss']!r} does not equal issuer {issuer_id(payload)!r}")
    stamp = now.timestamp()
    for claim in ("exp", "nbf", "iat"):
        if claim not in payload:
            continue
        value = payload[claim]
        if claim == "iat" and isinstance(value, str):
            # iat is informative; the W3C vc-jose-cose suite writes it as a string, which
            # VC-JOSE-COSE leaves to the payload's own rules. A number must be valid.
            continue
        if not _numeric_date(value):
            problems.append(
                f"/{claim} must be a NumericDate: an integer number of seconds within "
                f"±{MAX_SAFE_INTEGER} (RFC 7519 §2)"
            )
        elif claim == "exp" and stamp >= value:
            problems.append(f"the signature expired (exp {value})")
        elif claim == "nbf" and stamp < value:
            problems.append(f"the signature is not valid yet (nbf {value})")
    checks.append(Check("jose.claims", not problems, "; ".join(problems)))
    credential = {k: v for k, v in payload.items() if k not in REGISTERED_CLAIMS}
    return JoseResult(credential, tuple(checks), method)
