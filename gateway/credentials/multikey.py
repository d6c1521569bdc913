"""Ed25519 keys as Multikey / multibase strings, and ``did:key`` identifiers.

Multikey (W3C Controlled Identifiers 1.0 §2.2.2) writes a key as ``z`` + base58btc of a
multicodec varint prefix followed by the raw key bytes: ``0xed 0x01`` for an Ed25519
public key, ``0x80 0x26`` for an Ed25519 private key (its 32-byte seed). ``did:key``
(W3C CCG did:key method 0.7 §3) is ``did:key:`` + the public key's multibase string, and
its one verification method is that DID + ``#`` + the same string.

These few lines are written here because no maintained Python package covers the
multicodec + did:key pair; base58btc itself comes from the ``base58`` package.
"""

from __future__ import annotations

import math

import base58
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from gateway.errors import CredentialError

ED25519_PUB = b"\xed\x01"
ED25519_PRIV = b"\x80\x26"
#: A Multikey: two bytes of multicodec prefix and 32 key bytes.
MULTIKEY_BYTES = 34
DID_KEY_PREFIX = "did:key:"
_B58_ALPHABET = frozenset("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")


def b58btc_encode(data: bytes) -> str:
    """Multibase base58btc encoding.

    :param data: bytes to encode.
    :returns: ``"z"`` followed by base58btc (Bitcoin alphabet) of ``data``.
    """
    return "z" + base58.b58encode(data).decode("ascii")


def max_b58_chars(max_bytes: int) -> int:
    """The longest base58btc text of at most ``max_bytes`` bytes: each byte adds
    log(256)/log(58) ≈ 1.366 characters (a leading zero byte adds one ``1``)."""
    return math.ceil(max_bytes * math.log(256) / math.log(58))


#: The largest value the gateway decodes from base58btc: an Ed25519 signature.
MAX_DECODED_BYTES = 64


def b58btc_decode(value: object, *, max_bytes: int = MAX_DECODED_BYTES) -> bytes:
    """Decode a multibase base58btc string.

    Base58 decoding costs time quadratic in the length, so the length is checked
    against the longest encoding of ``max_bytes`` before anything else.

    :param value: a string starting with ``z`` (anything else, e.g. a JSON value read
        from a proof, is refused).
    :param max_bytes: the most bytes the value may decode to (64 for an Ed25519
        signature, 34 for a Multikey).
    :returns: the decoded bytes.
    :raises CredentialError: ``value`` is not a string, has another multibase prefix, is
        longer than ``max_bytes`` allow, or holds a character outside the base58btc
        alphabet.
    """
    if not isinstance(value, str) or not value.startswith("z"):
        raise CredentialError(
            "multibase value must start with 'z' (base58btc); other multibase "
            "encodings are not accepted"
        )
    body = value[1:]
    if not body:
        raise CredentialError("multibase base58btc value is empty")
    limit = max_b58_chars(max_bytes)
    if len(body) > limit:
        raise CredentialError(
            f"multibase base58btc value has {len(body)} characters; at most {limit} "
            f"encode the {max_bytes} bytes expected"
        )
    bad = next((c for c in body if c not in _B58_ALPHABET), None)
    if bad is not None:
        raise CredentialError(f"multibase base58btc value holds invalid character {bad!r}")
    decoded = base58.b58decode(body)
    if len(decoded) > max_bytes:
        raise CredentialError(
            f"multibase base58btc value decodes to {len(decoded)} bytes, more than "
            f"the {max_bytes} expected"
        )
    return decoded


def public_key_multibase(key: Ed25519PublicKey) -> str:
    """The Multikey ``publicKeyMultibase`` of an Ed25519 public key (``z6Mk...``).

    :param key: the public key.
    :returns: ``z`` + base58btc(0xed01 ‖ 32 key bytes).
    """
    return b58btc_encode(ED25519_PUB + key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def public_key_from_multibase(value: str) -> Ed25519PublicKey:
    """Parse an Ed25519 Multikey public key.

    :param value: ``z6Mk...`` string.
    :returns: the public key.
    :raises CredentialError: not base58btc, not the Ed25519 public-key multicodec, or not
        32 key bytes.
    """
    return Ed25519PublicKey.from_public_bytes(
        _key_bytes(value, ED25519_PUB, "publicKeyMultibase", "an Ed25519 public key (0xed01)")
    )


def private_key_multibase(key: Ed25519PrivateKey) -> str:
    """The Multikey ``secretKeyMultibase`` of an Ed25519 private key (``z3u2...``).

    :param key: the private key.
    :returns: ``z`` + base58btc(0x8026 ‖ 32-byte seed).
    """
    seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return b58btc_encode(ED25519_PRIV + seed)


def private_key_from_multibase(value: str) -> Ed25519PrivateKey:
    """Parse an Ed25519 Multikey private key.

    :param value: ``z3u2...`` string.
    :returns: the private key.
    :raises CredentialError: not base58btc, not the Ed25519 private-key multicodec, or not
        a 32-byte seed.
    """
    return Ed25519PrivateKey.from_private_bytes(
        _key_bytes(value, ED25519_PRIV, "secretKeyMultibase", "an Ed25519 private key (0x8026)")
    )


def _key_bytes(value: str, prefix: bytes, field: str, kind: str) -> bytes:
    """The 32 key bytes of a multibase Multikey value after its multicodec prefix."""
    raw = b58btc_decode(value, max_bytes=MULTIKEY_BYTES)
    if raw[:2] != prefix:
        raise CredentialError(f"{field} is not {kind} multicodec")
    if len(raw) != 34:
        raise CredentialError(
            f"{field} must hold 32 bytes of key after the multicodec prefix, got {len(raw) - 2}"
        )
    return raw[2:]


def did_key(key: Ed25519PublicKey) -> str:
    """The ``did:key`` DID of an Ed25519 public key.

    :param key: the public key.
    :returns: ``did:key:z6Mk...``.
    """
    return DID_KEY_PREFIX + public_key_multibase(key)


def did_key_verification_method(key: Ed25519PublicKey) -> str:
    """The verification method id of a ``did:key`` (did:key 0.7 §3.1.2).

    :param key: the public key.
    :returns: ``did:key:z6Mk...#z6Mk...``.
    """
    mb = public_key_multibase(key)
    return f"{DID_KEY_PREFIX}{mb}#{mb}"


def public_key_from_did_key(did_or_vm: str) -> Ed25519PublicKey:
    """Resolve a ``did:key`` DID or verification method locally to its public key.

    :param did_or_vm: ``did:key:z6Mk...`` or ``did:key:z6Mk...#z6Mk...``.
    :returns: the Ed25519 public key.
    :raises CredentialError: not a ``did:key``, the fragment differs from the DID's key,
        or the key is not an Ed25519 Multikey.
    """
    if not isinstance(did_or_vm, str) or not did_or_vm.startswith(DID_KEY_PREFIX):
        raise CredentialError(f"{did_or_vm!r} is not a did:key identifier")
    did, _, fragment = did_or_vm.partition("#")
    mb = did[len(DID_KEY_PREFIX) :]
    if fragment and fragment != mb:
        raise CredentialError(
            f"did:key fragment {fragment!r} does not match the key in the DID ({mb!r})"
        )
    return public_key_from_multibase(mb)
