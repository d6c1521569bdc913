"""Lexical forms the RDF side of a credential depends on: IRIs (RFC 3987) and language
tags (BCP 47, RFC 5646 §2.1).

A JSON-LD processor silently drops a node, a property or a literal whose IRI or
language tag is ill-formed (pyoxigraph drops it, pyld leaves it out of the RDF, jsonld.js
does too unless in safe mode), so a credential can carry text its signature never
covered. The grammars are compiled regular expressions written from the ABNF of the
RFCs: they cost a few microseconds per value, which matters on the bulk issuance path,
where ``rfc3987-syntax``'s parser would cost a hundred times more. The tests compare
them with that parser.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import unquote, urlsplit

_UCSCHAR = (
    "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef"
    "\U00010000-\U0001fffd\U00020000-\U0002fffd\U00030000-\U0003fffd"
    "\U00040000-\U0004fffd\U00050000-\U0005fffd\U00060000-\U0006fffd"
    "\U00070000-\U0007fffd\U00080000-\U0008fffd\U00090000-\U0009fffd"
    "\U000a0000-\U000afffd\U000b0000-\U000bfffd\U000c0000-\U000cfffd"
    "\U000d0000-\U000dfffd\U000e1000-\U000efffd"
)
_IPRIVATE = "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
_UNRESERVED = "A-Za-z0-9\\-._~" + _UCSCHAR
_SUB_DELIMS = "!$&'()*+,;="
_PCT = "%[0-9A-Fa-f]{2}"
_IPCHAR = f"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_SEGMENT = f"{_IPCHAR}*"
_SEGMENT_NZ = f"{_IPCHAR}+"
_USERINFO = f"(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*"
_REG_NAME = f"(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*"
# The IPv6 literal is matched loosely here and checked by ipaddress afterwards.
_IP_LITERAL = (
    r"\[(?P<ipv6>[0-9A-Fa-f:.]+)\]"
    rf"|\[[vV][0-9A-Fa-f]+\.[A-Za-z0-9\-._~{_SUB_DELIMS}:]+\]"
)
_AUTHORITY = f"(?:{_USERINFO}@)?(?:{_IP_LITERAL}|{_REG_NAME})(?::[0-9]*)?"
_HIER_PART = (
    f"//{_AUTHORITY}(?:/{_SEGMENT})*"
    f"|/(?:{_SEGMENT_NZ}(?:/{_SEGMENT})*)?"
    f"|{_SEGMENT_NZ}(?:/{_SEGMENT})*"
    "|"
)
_QUERY = f"(?:{_IPCHAR}|[{_IPRIVATE}/?])*"
_FRAGMENT = f"(?:{_IPCHAR}|[/?])*"
_IRI = re.compile(f"[A-Za-z][A-Za-z0-9+\\-.]*:(?:{_HIER_PART})(?:\\?{_QUERY})?(?:#{_FRAGMENT})?")
#: A fragment of letters and digits with inner hyphens (``batteryMass``,
#: ``physicalDimensions-length``, what a passport's quantity nodes add to its id): every
#: character is ``iunreserved``, which RFC 3987 allows in any ``ifragment``, so an
#: absolute IRI without a fragment stays one with such a fragment.
PLAIN_FRAGMENT = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
#: Characters an IRI reference may hold at all (RFC 3987 §2.2); used for references
#: without a scheme, which the JSON-LD processors resolve against a base.
_REFERENCE_CHARS = re.compile(f"(?:[{_UNRESERVED}{_SUB_DELIMS}:@/?#\\[\\]{_IPRIVATE}]|{_PCT})*")
_SCHEME_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*:")

# RFC 5646 §2.1: langtag / privateuse / grandfathered, case-insensitive.
_LANGTAG = (
    r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4}|[a-z]{5,8})"  # language (extlang)
    r"(?:-[a-z]{4})?"  # script
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"  # region
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"  # variant
    r"(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*"  # extension
    r"(?:-x(?:-[a-z0-9]{1,8})+)?"  # privateuse
)
_GRANDFATHERED = (
    "en-gb-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo"
    "|i-pwn|i-tao|i-tay|i-tsu|sgn-be-fr|sgn-be-nl|sgn-ch-de"
    "|art-lojban|cel-gaulish|no-bok|no-nyn|zh-guoyu|zh-hakka|zh-min|zh-min-nan|zh-xiang"
)
_LANGUAGE_TAG = re.compile(
    f"{_LANGTAG}|x(?:-[a-z0-9]{{1,8}})+|{_GRANDFATHERED}", re.IGNORECASE | re.ASCII
)


def is_absolute_iri(value: object) -> bool:
    """Whether ``value`` is an IRI with a scheme (RFC 3987 §2.2 ``IRI``).

    :param value: any JSON value.
    :returns: False for anything but a well-formed absolute IRI (fragment allowed).
    """
    if not isinstance(value, str):
        return False
    match = _IRI.fullmatch(value)
    if match is None:
        return False
    ipv6 = match.group("ipv6")
    if ipv6 is not None:
        try:
            ipaddress.IPv6Address(ipv6)
        except ValueError:
            return False
    return True


def has_scheme(value: str) -> bool:
    """Whether ``value`` starts like an absolute IRI (``scheme:``), well-formed or not."""
    return _SCHEME_PREFIX.match(value) is not None


def is_iri_reference(value: object) -> bool:
    """Whether ``value`` can stand where JSON-LD expects an IRI: a well-formed absolute
    IRI, or a scheme-less reference (a term, a compact IRI's suffix, a relative IRI)
    made only of characters an IRI may hold.

    A value with something before a colon that is not a scheme (``https ://x``) is
    neither: processors take it for a relative IRI that no base turns into a valid one.

    :param value: any JSON value.
    """
    if not isinstance(value, str):
        return False
    if has_scheme(value):
        return is_absolute_iri(value)
    head = value.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return ":" not in head and _REFERENCE_CHARS.fullmatch(value) is not None


def is_language_tag(value: object) -> bool:
    """Whether ``value`` is a well-formed BCP 47 language tag (RFC 5646 §2.1).

    :param value: any JSON value.
    """
    return isinstance(value, str) and _LANGUAGE_TAG.fullmatch(value) is not None


def in_url_space(value: object, base_url: str, path: str) -> bool:
    """Whether the URL ``value`` lies at or under ``<base_url><path>`` however it is
    spelled: scheme, host (IDNA-mapped) and path compared case-blind, userinfo, a default port and a
    trailing dot of the host ignored, percent-escapes decoded, dot segments and repeated
    slashes removed (what a server does before routing it). A plain prefix test would
    let ``https://GW.example/passports/…`` or ``…/%70assports/…`` pass for a URL outside
    the space while a browser or the gateway itself resolves it inside.

    :param value: any JSON value; False for anything but a string.
    :param base_url: the gateway's base URL (``https://gw.example`` or with a path).
    :param path: the space under it (``/passports``).
    """
    if not isinstance(value, str):
        return False
    mine, base = _routed(value), _routed(base_url.rstrip("/") + path)
    if mine is None or base is None or mine[0] != base[0]:
        return False
    return mine[1] == base[1] or mine[1].startswith(base[1].rstrip("/") + "/")


def _routed(url: str) -> tuple[str, str] | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = unquote(parts.hostname or "").rstrip(".").lower()
    try:
        # IDNA mapping (NFKC, as browsers do): a fullwidth host is the same host
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        pass  # not a host name IDNA accepts; compared as written
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    segments: list[str] = []
    for segment in unquote(parts.path).lower().split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
    return f"{scheme}://{host}", "/" + "/".join(segments)


_DEFAULT_PORTS = {"http": 80, "https": 443}
