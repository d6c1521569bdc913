"""JSON pointers (RFC 6901): the one way every layer names a member of a JSON value.

Errors, findings and problem bodies point at the member at fault with a pointer such
as ``/events/2/vin``; each reference token escapes ``~`` as ``~0`` and ``/`` as ``~1``
(RFC 6901 §3), and is unescaped in the opposite order (§4).
"""

from __future__ import annotations

from collections.abc import Iterable

#: The pointer of the whole document, as the gateway writes it in problem bodies (RFC
#: 6901 spells it ``""``; ``/`` reads better to people and is never a member of ours).
ROOT = "/"


def escape(token: object) -> str:
    """One reference token (RFC 6901 §3: ``~`` -> ``~0``, ``/`` -> ``~1``).

    :param token: a member name or a list position.
    """
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    """A member name from its reference token (RFC 6901 §4: ``~1`` first, then ``~0``)."""
    return token.replace("~1", "/").replace("~0", "~")


def join(tokens: Iterable[object], base: str = "") -> str:
    """The pointer of ``tokens`` below ``base``: ``join(["a/b", 0])`` -> ``/a~1b/0``.

    :param tokens: member names and list positions, outermost first.
    :param base: the pointer of the value the tokens start from (``""`` for the root).
    """
    return base + "".join("/" + escape(token) for token in tokens)


def child(pointer: str, token: object) -> str:
    """The pointer of one member or position below ``pointer``."""
    return f"{pointer}/{escape(token)}"


def split(pointer: str) -> list[str]:
    """The unescaped tokens of a pointer; ``""`` and ``/`` (the root) give none."""
    if pointer in ("", ROOT):
        return []
    return [unescape(token) for token in pointer.split("/")[1:]]
