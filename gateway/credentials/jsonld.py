"""Strict JSON-LD expansion: nothing dropped, nothing relative (DESIGN §5).

JSON-LD 1.1 §7.1 (Expansion Algorithm, step 13.3) drops every key that does not expand
to an absolute IRI or a keyword; VC Data Integrity 1.0 §4.4 asks verifiers to treat
that as an error (DATA_LOSS_DETECTION_ERROR). jsonld.js calls this "safe mode"; pyld
offers only the ``on_property_dropped`` hook, which is set to raise here. pyld keeps
relative IRIs (``@id`` values, undefined ``@type`` values) instead of dropping them, so
they are resolved against a sentinel base and refused afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyld import jsonld as pyld

from gateway import jsonpointer
from gateway.credentials import safe_mode
from gateway.credentials.rdfc import (
    RELATIVE_BASE,
    StrictProcessor,
    pyld_options,
    unwrap_pyld_error,
)
from gateway.errors import JsonLdError
from gateway.vocab.loader import DocumentLoader, document_loader


def expand_strict(
    document: Mapping[str, Any], *, loader: DocumentLoader | None = None
) -> list[Any]:
    """Expand a JSON-LD document, refusing any term that would be dropped or left relative.

    :param document: the JSON-LD document.
    :param loader: document loader; default: the pinned contexts only.
    :returns: the expanded document (a list of node objects).
    :raises ContextError: a context is not served by ``loader``.
    :raises JsonLdError: a term is undefined, an IRI is relative (the error names it and
        its JSON pointer in the expanded form), a member would not reach the RDF
        (:mod:`~gateway.credentials.safe_mode`, pointer in the document), or the document
        is not valid JSON-LD.
    """
    loader = loader or document_loader()
    safe_mode.check_document(document, loader)
    processor = StrictProcessor()
    try:
        expanded: list[Any] = processor.expand(dict(document), pyld_options(loader))
    except pyld.JsonLdError as exc:
        raise unwrap_pyld_error(exc) from exc
    _refuse_relative(expanded, "")
    return expanded


def _refuse_relative(value: Any, path: str) -> None:
    if isinstance(value, list):
        for i, item in enumerate(value):
            _refuse_relative(item, f"{path}/{i}")
        return
    if not isinstance(value, dict):
        return
    if "@value" in value:
        return
    for key, item in value.items():
        at = jsonpointer.child(path, key)
        if key.startswith(RELATIVE_BASE):
            _relative(key, at)
        if key in ("@id", "@type"):
            for i, iri in enumerate(item if isinstance(item, list) else [item]):
                if isinstance(iri, str) and iri.startswith(RELATIVE_BASE):
                    _relative(iri, at if not isinstance(item, list) else f"{at}/{i}")
        else:
            _refuse_relative(item, at)


def _relative(iri: str, pointer: str) -> None:
    raise JsonLdError(
        f"{iri[len(RELATIVE_BASE) :]!r} is a relative IRI (or an undefined term used as a "
        "type); refusing to guess its base",
        pointer=pointer,
        rule="relative-iri",
    )
