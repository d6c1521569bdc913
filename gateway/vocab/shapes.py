"""Check a passport document against the SHACL shapes in ``vocab/shapes.ttl``.

The document is expanded and turned into RDF by pyld with the pinned contexts only,
then validated by pySHACL. Two things SHACL cannot see are checked on the JSON itself:
terms that JSON-LD expansion would drop (no context defines them), and the JSON form of
each value: a number where the catalog wants a string, or a float anywhere (JSON-LD
writes a float as an ``xsd:double`` lexical form that differs between processors, so
DESIGN §5 keeps floats out of passports).

pySHACL is a development dependency: it is imported only when a check runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

import pyoxigraph
from pyld import jsonld
from rdflib import RDF, SH, XSD, BNode, Graph, Literal, URIRef
from rdflib.term import Node

from gateway.errors import JsonLdError
from gateway.jsonvalues import MAX_SAFE_INTEGER
from gateway.paths import VOCAB_DIR
from gateway.vocab.catalog import VOCAB_NS, load_catalog
from gateway.vocab.forms import json_values
from gateway.vocab.loader import document_loader

SHAPES_PATH = VOCAB_DIR / "shapes.ttl"
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_NAMES = Graph(bind_namespaces="none").namespace_manager
_NAMES.bind("xsd", XSD)


@cache
def shapes() -> Graph:
    """The SHACL shapes graph, parsed once."""
    graph = Graph()
    graph.parse(SHAPES_PATH, format="turtle")
    return graph


def _subjects(document: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The passport objects of a document with their JSON pointers: the document itself,
    or each ``credentialSubject`` of a credential."""
    if "credentialSubject" not in document:
        yield "", document
        return
    subject = document["credentialSubject"]
    if isinstance(subject, Mapping):
        yield "/credentialSubject", subject
    elif isinstance(subject, list):
        for i, item in enumerate(subject):
            if isinstance(item, Mapping):
                yield f"/credentialSubject/{i}", item


def _json_form_violations(document: Mapping[str, Any]) -> list[str]:
    by_term = load_catalog().by_term
    out: list[str] = []
    for pointer, subject in _subjects(document):
        for term, value in subject.items():
            attribute = by_term.get(term)
            if attribute is None:
                continue
            members = value if isinstance(value, list) else [value]
            # context v3: a quantity node's value, each string of a language map
            for v in [v for member in members for v in json_values(member)]:
                where = f"{term} ({pointer}/{term})"
                if isinstance(v, bool):
                    out.append(f"{where}: JSON boolean where {attribute.json_type} expected")
                elif isinstance(v, float):
                    out.append(
                        f"{where}: JSON float {v!r}; non-integer quantities are decimal strings"
                    )
                elif isinstance(v, int) and attribute.json_type != "integer":
                    out.append(
                        f"{where}: JSON number {v} where {attribute.json_type} expected; "
                        "write it as a string"
                    )
                elif isinstance(v, int) and abs(v) > MAX_SAFE_INTEGER:
                    out.append(f"{where}: integer {v} is outside ±(2^53 - 1)")
                elif isinstance(v, str) and attribute.json_type == "integer":
                    out.append(f"{where}: string {v!r} where a JSON integer expected")
    return out


def _to_graph(document: Mapping[str, Any], dropped: list[str]) -> Graph:
    loader = document_loader()
    try:
        expanded = jsonld.expand(
            dict(document),
            {"documentLoader": loader},
            on_property_dropped=lambda p: dropped.append(str(p)),
        )
        nquads = jsonld.to_rdf(
            expanded, {"format": "application/n-quads", "documentLoader": loader}
        )
    except jsonld.JsonLdError as e:
        raise JsonLdError(f"document cannot be processed as JSON-LD: {e}") from e
    # The union of all graphs: a credential's proof sits in a named graph and has no
    # BatteryPassport node, so nothing is lost for the shapes.
    graph = Graph()
    for quad in pyoxigraph.parse(nquads.encode("utf-8"), format=pyoxigraph.RdfFormat.N_QUADS):
        graph.add((_term(quad.subject), _term(quad.predicate), _term(quad.object)))
    return graph


def _term(node: Any) -> Node:
    """An rdflib term for a pyoxigraph one, literals kept as written.

    rdflib's parsers normalise literals ("3.2E0"^^xsd:decimal becomes "3.2"), which
    would hide from the lexical-form patterns the float that JSON-LD wrote.
    """
    if isinstance(node, pyoxigraph.NamedNode):
        return URIRef(node.value)
    if isinstance(node, pyoxigraph.BlankNode):
        return BNode(node.value)
    if node.language:
        return Literal(node.value, lang=node.language, normalize=False)
    if node.datatype.value == _XSD_STRING:
        # RDF 1.1: a simple literal is an xsd:string; rdflib keeps the two apart.
        return Literal(node.value, normalize=False)
    return Literal(node.value, datatype=URIRef(node.datatype.value), normalize=False)


def _name(node: object) -> str:
    text = str(node)
    return text.removeprefix(VOCAB_NS) if text.startswith(VOCAB_NS) else text


def check_shapes(document: Mapping[str, Any]) -> list[str]:
    """Validate a passport document, or a credential whose subject is one.

    :param document: compacted JSON-LD using the pinned contexts.
    :returns: one readable line per violation (``term: message``), sorted; empty if the
        document conforms.
    :raises JsonLdError: the document cannot be expanded (unknown context, protected
        term redefined, invalid JSON-LD).
    """
    import pyshacl

    dropped: list[str] = []
    data = _to_graph(document, dropped)
    out = [f"{p}: not defined by any context; JSON-LD would drop it" for p in dropped]
    out += _json_form_violations(document)
    if (None, RDF.type, URIRef(VOCAB_NS + "BatteryPassport")) not in data:
        # The shapes target BatteryPassport nodes: without one, SHACL would pass anything.
        out.append("document: no node of type BatteryPassport")
    conforms, results, _ = pyshacl.validate(
        data, shacl_graph=shapes(), inference="none", advanced=False
    )
    if not conforms:
        for result in results.subjects(RDF.type, SH.ValidationResult):
            path = results.value(result, SH.resultPath)
            message = results.value(result, SH.resultMessage)
            value = results.value(result, SH.value)
            focus = results.value(result, SH.focusNode)
            line = f"{_name(path) if path is not None else _name(focus)}: {message}"
            if value is not None:
                line += f" (value {value.n3(_NAMES)})"
            out.append(line)
    return sorted(out)
