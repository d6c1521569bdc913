"""Unsigned content hidden where JSON-LD to RDF drops it without a word: keyword aliases
(``@index``, ``@direction``, ``@language``), terms mapped to null, index maps and
free-floating nodes (``@included``, ``@graph``). Each must be refused, with its JSON
pointer, on both canonicalization paths, before anything is signed or verified."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gateway.credentials import rdfc
from gateway.errors import JsonLdError

V2 = "https://www.w3.org/ns/credentials/v2"
S = "https://schema.org/"


def _credential(context: Any = None, **members: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": [V2, *([context] if context else [])],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {"id": "urn:uuid:1"},
    }
    doc.update(members)
    return doc


def _subject(**members: Any) -> dict[str, Any]:
    return {"id": "urn:uuid:1", **members}


HIDDEN = {
    "alias of @index": (
        _credential({"idx": "@index"}, credentialSubject=_subject(idx="HIDDEN")),
        "/credentialSubject/idx",
    ),
    "alias of @index in a type-scoped context": (
        _credential(
            {"Foo": {"@id": S + "Foo", "@context": {"ix": {"@id": "@index"}}}},
            credentialSubject=_subject(type="Foo", ix="HIDDEN"),
        ),
        "/credentialSubject/ix",
    ),
    "alias of @direction": (
        _credential({"dir": "@direction"}, name={"@value": "a", "@language": "en", "dir": "rtl"}),
        "/name/dir",
    ),
    "alias of @language with a bad tag": (
        _credential({"lang": "@language"}, name={"@value": "a", "lang": "en US"}),
        "/name/lang",
    ),
    "term mapped to null": (
        _credential({"secret": None}, credentialSubject=_subject(secret="HIDDEN")),
        "/credentialSubject/secret",
    ),
    "term with @id null": (
        _credential({"secret": {"@id": None}}, credentialSubject=_subject(secret="HIDDEN")),
        "/credentialSubject/secret",
    ),
    "index map key": (
        _credential(
            {"claims": {"@id": S + "claims", "@container": "@index"}},
            credentialSubject=_subject(claims={"HIDDEN": "v"}),
        ),
        "/credentialSubject/claims/HIDDEN",
    ),
    "graph index map key": (
        _credential(
            {"g": {"@id": S + "g", "@container": ["@graph", "@index"]}},
            credentialSubject=_subject(g={"HIDDEN": {"name": "a"}}),
        ),
        "/credentialSubject/g/HIDDEN",
    ),
    "index map in a property-scoped context": (
        _credential(
            {"p": {"@id": S + "p", "@context": {"q": {"@id": S + "q", "@container": "@index"}}}},
            credentialSubject=_subject(p={"q": {"HIDDEN": "v"}}),
        ),
        "/credentialSubject/p/q/HIDDEN",
    ),
    "keyword-like value of a term typed @id": (
        _credential(
            {"p": {"@id": S + "p", "@type": "@id"}}, credentialSubject=_subject(p="@hidden")
        ),
        "/credentialSubject/p",
    ),
    "keyword-like id": (
        _credential(credentialSubject={"id": "@hidden", "name": "x"}),
        "/credentialSubject/id",
    ),
    "keyword-like type in a list": (
        _credential(credentialSubject=_subject(type=["@hidden"])),
        "/credentialSubject/type/0",
    ),
    "free-floating node in @included": (
        _credential(**{"@included": [{"id": "urn:hidden"}]}),
        "/@included/0",
    ),
    "free-floating node naming only @included": (
        _credential(
            **{"@included": [{"id": "urn:hidden", "@included": [{"id": "urn:a", "name": "x"}]}]}
        ),
        "/@included/0",
    ),
    "free-floating node in @graph": (
        _credential(
            credentialSubject=_subject(**{"@graph": [{"@id": "urn:hidden"}, {"name": "x"}]})
        ),
        "/credentialSubject/@graph/0",
    ),
    "free-floating value in @graph": (
        _credential(credentialSubject=_subject(**{"@graph": ["HIDDEN", {"name": "x"}]})),
        "/credentialSubject/@graph/0",
    ),
    "node alone in a graph container": (
        _credential(
            {"g": {"@id": S + "g", "@container": "@graph"}},
            credentialSubject=_subject(g={"@id": "urn:hidden"}),
        ),
        "/credentialSubject/g",
    ),
}


@pytest.mark.parametrize("name", sorted(HIDDEN))
@pytest.mark.parametrize("fast", [True, False])
def test_content_rdf_drops_is_refused(name: str, fast: bool) -> None:
    doc, pointer = HIDDEN[name]
    with pytest.raises(JsonLdError) as refused:
        rdfc.canonicalize(copy.deepcopy(doc), fast=fast, untrusted=True)
    assert refused.value.pointer == pointer, refused.value.detail


KEPT = {
    "property-valued index map": _credential(
        {"claims": {"@id": S + "claims", "@container": "@index", "@index": "name"}},
        credentialSubject=_subject(claims={"a": {"@id": "urn:x"}}),
    ),
    "node with a type in @included": _credential(
        **{"@included": [{"id": "urn:a", "type": "VerifiableCredential"}]}
    ),
    "node in a graph container with a property": _credential(
        {"g": {"@id": S + "g", "@container": "@graph"}},
        credentialSubject=_subject(g={"@id": "urn:a", "name": "x"}),
    ),
    "JSON literal value object": _credential(
        credentialSubject=_subject(name={"@value": {"a": 1}, "@type": "@json"})
    ),
    "alias of @language with a good tag": _credential(
        {"lang": "@language"}, name={"@value": "a", "lang": "en-GB"}
    ),
}


@pytest.mark.parametrize("name", sorted(KEPT))
def test_what_reaches_rdf_stays_allowed(name: str) -> None:
    doc = KEPT[name]
    assert rdfc.canonicalize(doc, untrusted=True) == rdfc.canonicalize(doc, fast=False)
