"""base64url without padding (RFC 4648 §5, RFC 7515 §2) and its multibase form.

JWS parts, JWK members and a status list's ``encodedList`` (multibase prefix ``u``) are
all unpadded base64url. Every decoder checks the length before decoding and refuses
any character outside the alphabet (decoding strictly), so that hostile input is
refused with a message rather than decoded at length or half-accepted by the lenient
standard-library decoder. (Multikey values and
Data Integrity proofs are base58btc, ``z``: see :mod:`gateway.credentials.multikey`.)
"""

from __future__ import annotations

import base64
import binascii

from gateway.errors import CredentialError, GatewayError

#: The multibase prefix of base64url without padding.
MULTIBASE_PREFIX = "u"
#: base64url's two letters as standard base64 writes them.
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


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
    # Standard base64's own letters and padding are refused here; translated to
    # standard base64, the strict decoder refuses every other byte outside the
    # alphabet (no regular expression walks the text first: a JWS payload is some
    # 13,000 characters, and the walk took as long as the decoding).
    if not text.isascii() or len(text) % 4 == 1 or "+" in text or "/" in text or "=" in text:
        raise error(f"{what} is not base64url without padding")
    padded = text.encode("ascii").translate(_TO_STANDARD) + b"=" * (-len(text) % 4)
    try:
        return binascii.a2b_base64(padded, strict_mode=True)
    except binascii.Error:
        raise error(f"{what} is not base64url without padding") from None


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
