"""base64url without padding: exactly the texts of its alphabet whose length some
base64url text has are decoded (RFC 4648 §5, RFC 7515 §2), whatever else a caller sends
is refused with the value's name, and the limit is checked before decoding."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.credentials import base64url
from gateway.errors import CredentialError, InvalidInput

#: The definition: the alphabet, and no length of 4n + 1 (no text encodes to it).
_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")
_CHARACTERS = st.one_of(
    st.sampled_from("ABCXYZabcxyz0189-_"),
    st.sampled_from("+/= \t\n.\x00é\u2028"),
)


def _reference(text: str) -> bytes | None:
    if not _ALPHABET.fullmatch(text) or len(text) % 4 == 1:
        return None
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@given(st.text(_CHARACTERS, min_size=1, max_size=24))
def test_it_decodes_exactly_what_the_definition_decodes(text: str) -> None:
    expected = _reference(text)
    if expected is None:
        with pytest.raises(CredentialError, match="^the part is not base64url"):
            base64url.decode(text, "the part")
    else:
        assert base64url.decode(text, "the part") == expected


@given(st.binary(max_size=64))
def test_what_it_encodes_it_decodes(raw: bytes) -> None:
    text = base64url.encode(raw)
    assert "=" not in text
    if raw:
        assert base64url.decode(text, "x") == raw


@pytest.mark.parametrize(
    "text",
    ["", "a", "ab=", "ab+c", "ab/c", "ab c", "abc\n", "ab\u00e9c", "abcde", "ab\ud800c"],
)
def test_refusals_name_the_value_and_raise_the_callers_error(text: str) -> None:
    with pytest.raises(InvalidInput, match="^the JWS payload "):
        base64url.decode(text, "the JWS payload", error=InvalidInput)


def test_the_limit_is_checked_before_the_text_is_read() -> None:
    with pytest.raises(CredentialError, match="longer than 8"):
        base64url.decode("A" * 9 + "\x00", "x", limit=8)
