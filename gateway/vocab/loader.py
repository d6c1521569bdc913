"""Pinned, offline JSON-LD contexts.

Nothing is fetched at run time. The contexts the gateway speaks are files in
``vocab/contexts/``, listed in ``index.json`` with their SHA-256; a file whose hash does
not match refuses to load, and any other URL is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from gateway.errors import ContextError
from gateway.paths import CONTEXTS_DIR

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
#: Passport context versions are ``<prefix><n>`` (``.../passport/v1``, ``.../v2``): a
#: published version never changes, a changed vocabulary gets the next number.
PASSPORT_CONTEXT_PREFIX = "https://w3id.org/cn-eu-battery/contexts/passport/v"
PASSPORT_V1 = PASSPORT_CONTEXT_PREFIX + "1"
STATUS_V1 = "https://www.w3.org/ns/credentials/status/v1"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"

DocumentLoader = Callable[[str, Any], dict[str, Any]]


def passport_context_url(version: int) -> str:
    """The URL of passport context version ``version`` (1, 2, ...)."""
    return f"{PASSPORT_CONTEXT_PREFIX}{version}"


def passport_context_version(url: str) -> int | None:
    """The version number of a passport context URL, or None for any other URL."""
    tail = url.removeprefix(PASSPORT_CONTEXT_PREFIX)
    if tail == url or not tail.isascii() or not tail.isdigit() or tail.startswith("0"):
        return None
    return int(tail)


@cache
def passport_contexts() -> tuple[str, ...]:
    """The URLs of every pinned passport context version, oldest first.

    Credentials pinned to any of them verify; new passports use the newest
    (:func:`current_passport_context`).
    """
    versions = sorted(
        (version, url)
        for url in pinned_contexts()
        if (version := passport_context_version(url)) is not None
    )
    return tuple(url for _, url in versions)


def current_passport_context() -> str:
    """The URL of the newest pinned passport context: the one new passports use."""
    return passport_contexts()[-1]


@cache
def pinned_contexts() -> Mapping[str, Mapping[str, Any]]:
    """Every pinned context, parsed, by URL.

    :raises ContextError: a file is missing or its bytes do not match the pinned hash.
    """
    index = json.loads((CONTEXTS_DIR / "index.json").read_text(encoding="utf-8"))
    out: dict[str, Mapping[str, Any]] = {}
    for url, entry in index.items():
        raw = (CONTEXTS_DIR / entry["file"]).read_bytes()
        digest = hashlib.sha256(raw).hexdigest()
        if digest != entry["sha256"]:
            raise ContextError(
                f"pinned context {url} ({entry['file']}) has SHA-256 {digest}, "
                f"expected {entry['sha256']}"
            )
        out[url] = json.loads(raw)
    return out


def document_loader(extra: Mapping[str, Mapping[str, Any]] | None = None) -> DocumentLoader:
    """A pyld document loader that serves the pinned contexts and ``extra``, nothing else.

    :param extra: more contexts by URL, e.g. given by a verifier's ``--context URL=FILE``.
    """
    known = {**pinned_contexts(), **(extra or {})}

    def load(url: str, options: Any = None) -> dict[str, Any]:
        try:
            document = known[url]
        except KeyError:
            raise ContextError(
                f"context {url!r} is not pinned; the gateway never fetches contexts",
                context=url,
            ) from None
        return {"contextUrl": None, "documentUrl": url, "document": document}

    return load


@cache
def default_loader() -> DocumentLoader:
    """The loader of the pinned contexts alone, built once per process."""
    return document_loader()
