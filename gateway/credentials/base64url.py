"""base64url without padding (RFC 4648 §5, RFC 7515 §2) and its multibase form.

JWS parts, JWK members and a status list's ``encodedList`` (multibase prefix ``u``) are
all unpadded base64url. Every decoder checks the alphabet and the length before
decoding, so that hostile input is refused with a message rather than decoded at
length or half-accepted by the lenient standard-library decoder. (Multikey values and
Data Integrity proofs are base58btc, ``z``: see :mod:`gateway.credentials.multikey`.)
"""

from __future__ import annotations

import base64
import binascii
import re

from gateway.errors import CredentialError, GatewayError

#: The multibase prefix of base64url without padding.
MULTIBASE_PREFIX = "u"
_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


def encode(raw: bytes) -> str:
    """``raw`` as base64url without padding."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode(
    text: str,
    what: str,
    *,
    limit: int | None = None,
    error: type[GatewayError] = CredentialError,
) -> bytes:
    """Decode base64url without padding.

    :param text: the encoded characters.
    :param what: names the value in error messages (``JWS header``, ``encodedList``).
    :param limit: the most characters accepted, checked before decoding.
    :param error: the error raised, so that each caller keeps its own problem type.
    :returns: the decoded bytes.
    :raises GatewayError: (``error``) empty, too long, padded, outside the alphabet, or
        of a length no base64url text has.
    """
    if not text:
        raise error(f"{what} is empty")
    if limit is not None and len(text) > limit:
        raise error(f"{what} is longer than {limit} base64url characters")
    if not _ALPHABET.fullmatch(text) or len(text) % 4 == 1:
        raise error(f"{what} is not base64url without padding")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as e:
        raise error(f"{what} is not base64url ({e})") from e


def encode_multibase(raw: bytes) -> str:
    """``raw`` as multibase base64url (``u`` + base64url without padding)."""
    return MULTIBASE_PREFIX + encode(raw)


def decode_multibase(
    value: object,
    what: str,
    *,
    limit: int | None = None,
    error: type[GatewayError] = CredentialError,
) -> bytes:
    """Decode a multibase base64url string (``u`` prefix).

    :raises GatewayError: (``error``) not a string, another multibase prefix, or a body
        :func:`decode` refuses.
    """
    if not isinstance(value, str) or not value.startswith(MULTIBASE_PREFIX):
        raise error(f"{what} must be a multibase base64url string ('u' prefix)")
    return decode(value[1:], what, limit=limit, error=error)
