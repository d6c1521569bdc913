"""Regenerate the published vocabulary from the attribute catalog.

``python -m gateway.vocab.build`` writes, from ``vocab/catalog/eu-passport-attributes.csv``
(with the unit codes of ``vocab/units.csv`` and the category codes of
``vocab/battery-categories.csv``):

- ``vocab/cn-eu-battery.ttl``: the RDF vocabulary (one ``rdf:Property`` per attribute);
- ``vocab/contexts/passport-v<n>.jsonld``: the protected JSON-LD 1.1 passport context;
- ``vocab/shapes.ttl``: SHACL shapes for a passport document;
- ``vocab/contexts/index.json``: the pinned-context index with each context's SHA-256.

A published passport context never changes: credentials pin it by URL and hash. When
the catalog gives a context that differs from the newest published version, the build
writes it as the next version (``passport-v2.jsonld`` beside ``passport-v1.jsonld``)
and adds it to the index; the older files and their index entries stay as they are.

``--check`` writes nothing and exits 1 if any file on disk differs from what the
catalog gives, a new context version is due, or a published context was edited.
Output is byte-for-byte deterministic: subjects, predicates and objects are sorted by
rdflib's Turtle serializer, context terms follow the catalog order.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rdflib import OWL, RDF, RDFS, SH, SKOS, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS
from rdflib.term import Node

from gateway.annex_xiii import ALL_SECTIONS, LEGACY_SECTIONS, SECTIONS, format_points, points_of
from gateway.errors import ContextError
from gateway.jsonvalues import MAX_SAFE_INTEGER
from gateway.paths import CONTEXTS_DIR, VOCAB_DIR
from gateway.vocab.catalog import (
    CATEGORIES,
    VOCAB_NS,
    Attribute,
    Catalog,
    load_catalog,
)
from gateway.vocab.forms import (
    CODE_TERMS,
    LINK_TERMS,
    STRUCTURED_PARTS,
    is_quantity,
    is_text,
)
from gateway.vocab.loader import passport_context_url, passport_context_version
from gateway.vocab.units import category_codes, unit_of

VOCAB = Namespace(VOCAB_NS)
VOCAB_IRI = URIRef(VOCAB_NS.rstrip("#"))
SHAPES_NS = Namespace("https://w3id.org/cn-eu-battery/shapes#")
CRED = Namespace("https://www.w3.org/2018/credentials#")
#: schema.org's quantitative value terms: ``unitCode`` holds a UN/CEFACT Rec 20 code,
#: ``unitText`` a unit no code names; both are what schema.org and IDTA readers expect.
SCHEMA = Namespace("https://schema.org/")
QUDT = Namespace("http://qudt.org/schema/qudt/")

VOCAB_FILE = "cn-eu-battery.ttl"
SHAPES_FILE = "shapes.ttl"
INDEX_FILE = "index.json"

_YEAR_MONTH = r"^-?[0-9]{4,}-(0[1-9]|1[0-2])"
_ZONE = r"(Z|[+-][0-9]{2}:[0-9]{2})?"
#: Lexical forms, XSD 1.1 Part 2 §3.3.3 (decimal), §3.4.13 (integer), §3.3.9 (date),
#: §3.3.10 (gYearMonth). Datatype checks alone accept "3.2E0"^^xsd:decimal (the form
#: JSON-LD writes for a JSON float) because Python's Decimal parses it.
LEXICAL_PATTERNS: Mapping[str, str] = {
    str(XSD.decimal): r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$",
    str(XSD.integer): r"^[+-]?[0-9]+$",
    str(XSD.date): _YEAR_MONTH + r"-(0[1-9]|[12][0-9]|3[01])" + _ZONE + "$",
    str(XSD.gYearMonth): _YEAR_MONTH + _ZONE + "$",
    # EN 18223 writes times in UTC or with their offset, never without one.
    str(XSD.dateTime): _YEAR_MONTH
    + r"-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?"
    + r"(Z|[+-][0-9]{2}:[0-9]{2})$",
}
#: What a property shape says when a value breaks it, by datatype.
SHAPE_MESSAGES: Mapping[str, str] = {
    str(XSD.decimal): 'expects a decimal number written as a JSON string, e.g. "3.2" (xsd:decimal)',
    str(XSD.integer): "expects a JSON integer within ±(2^53 - 1) (xsd:integer)",
    str(XSD.date): "expects a date YYYY-MM-DD (xsd:date)",
    str(XSD.gYearMonth): "expects a year and month YYYY-MM (xsd:gYearMonth)",
    str(XSD.dateTime): "expects a date-time with its offset, e.g. 2026-12-01T08:30:00Z "
    "(xsd:dateTime)",
    str(XSD.anyURI): "expects a URI string (xsd:anyURI)",
    str(XSD.string): "expects a plain JSON string",
}


def _points_text(points: frozenset[int]) -> str:
    numbers = format_points(points).split()
    if len(numbers) == 1:
        return f"point {numbers[0]}"
    return "points " + ", ".join(numbers[:-1]) + " and " + numbers[-1]


def _sections_text() -> str:
    current = ", ".join(f"{s} ({_points_text(points_of(s))})" for s in SECTIONS)
    legacy = ", ".join(f"{n} ({_points_text(p)})" for n, p in LEGACY_SECTIONS.items())
    return (
        "The section of the passport a credential and its subject carry, named after the "
        f"Annex XIII point whose readers it is for (Art. 77(2)): {current}. Passports "
        f"issued before carry one of the earlier access groups {legacy}."
    )


#: Terms the passport context defines besides the attributes: (term, label, comment).
#: ``accessGroup`` stays first: its shape is the one with a closed list of values.
STRUCTURAL_TERMS: tuple[tuple[str, str, str], ...] = (
    ("accessGroup", "access group", _sections_text()),
    (
        "exportApproval",
        "export approval",
        "References of the export approvals (China) under which BMS health data in this "
        "credential left China; a string, or a list of strings.",
    ),
    (
        "mappingSet",
        "mapping set",
        "Name of the mapping set that turned the national record into this passport.",
    ),
    (
        "mappingVersion",
        "mapping version",
        "Semantic version of the published mapping set used.",
    ),
    (
        "mappingHash",
        "mapping hash",
        "Content hash of the published mapping set version used.",
    ),
    (
        "batteryCode",
        "GB/T 34014 battery code",
        "The national traceability code (GB/T 34014) the passport was made from.",
    ),
    # The EN 18223 metadata block, carried by the Annex XIII point 1 section: its fields
    # are what the standard names them, so that EN 18223 readers find them as such.
    (
        "digitalProductPassportId",
        "digital product passport identifier",
        "EN 18223 metadata: the identifier of the passport (its URL).",
    ),
    (
        "uniqueProductIdentifier",
        "unique product identifier",
        "EN 18223 metadata: the unique identifier of the battery the passport describes "
        "(Art. 77(3)).",
    ),
    (
        "granularity",
        "granularity",
        "EN 18223 metadata: whether the passport describes an Item, a Batch or a Model; "
        "battery passports are per Item.",
    ),
    (
        "dppSchemaVersion",
        "passport schema version",
        "EN 18223 metadata: the version of the passport schema (this context) the "
        "passport is written in.",
    ),
    (
        "dppStatus",
        "passport status",
        "EN 18223 metadata: the passport's status when this version was issued (active, "
        "suspended, revoked, superseded or ceased); the live status is in the status list.",
    ),
    (
        "lastUpdate",
        "last update",
        "EN 18223 metadata: when this version of the passport was issued.",
    ),
    (
        "economicOperatorId",
        "economic operator identifier",
        "EN 18223 metadata: the identifier of the economic operator responsible for the passport.",
    ),
    (
        "facilityId",
        "facility identifier",
        "EN 18223 metadata: the identifier of the facility where the battery was made.",
    ),
    (
        "contentSpecificationIds",
        "content specification identifiers",
        "EN 18223 metadata: the specifications the passport content follows (this "
        "context first); a string, or a list of strings.",
    ),
)

#: The members of a quantity node (context v3) and what they mean:
#: (term, IRI, JSON-LD type coercion or None).
QUANTITY_TERMS: tuple[tuple[str, URIRef, str | None], ...] = (
    ("measuredAt", VOCAB.measuredAt, "xsd:dateTime"),
    ("unitCode", SCHEMA.unitCode, None),
    ("unitText", SCHEMA.unitText, None),
    ("unit", QUDT.hasUnit, "@id"),
)
#: The parts of structured quantities (context v4): part -> (label, comment).
PART_TERMS: Mapping[str, tuple[str, str]] = {
    "length": (
        "length",
        "The battery's length (Catena-X physicalDimension.length), a quantity node with "
        "its value and unit.",
    ),
    "width": (
        "width",
        "The battery's width (Catena-X physicalDimension.width), a quantity node with its "
        "value and unit.",
    ),
    "height": (
        "height",
        "The battery's height (Catena-X physicalDimension.height), a quantity node with "
        "its value and unit.",
    ),
}
#: The code list of battery categories in the vocabulary.
CATEGORY_SCHEME = VOCAB.BatteryCategory

#: Structural terms that may hold a list of values.
MULTI_VALUED_TERMS = frozenset({"exportApproval", "contentSpecificationIds"})
#: Structural terms whose values are typed literals; the others are plain strings.
STRUCTURAL_DATATYPES: Mapping[str, URIRef] = {"lastUpdate": XSD.dateTime}

# Annotation properties that carry catalog columns on each attribute property.
ANNOTATIONS: tuple[tuple[str, str], ...] = (
    ("catalogKey", "Key of the attribute in the attribute catalog."),
    ("catalogRow", "Row number of the attribute in the attribute catalog."),
    ("accessRight", "Access right as the catalog states it (after the longlist)."),
    (
        "annexXIIIPoint",
        "The Annex XIII point (1 to 4) the attribute falls under; the credential of "
        "section annex-xiii-<point> carries it.",
    ),
    ("staticOrDynamic", "Whether the value is set once (static) or updated (dynamic)."),
    ("level", "Whether the value describes the battery model or the individual item."),
    ("catalogDataType", "Data type as the catalog (after the DIN longlist) states it."),
    ("unit", "Unit of the value, as the catalog states it."),
    ("unitCode", "UN/CEFACT Recommendation 20 common code of the catalog's unit."),
    ("obligationText", "The catalog's obligation statement, before it is split by category."),
    ("dinClause", "Clause of DIN DKE SPEC 99100 that describes the attribute."),
    ("longlistNumber", "Number in the Battery Pass data attribute longlist v1.2."),
    ("batteryPassPath", "Payload path in the Battery Pass data model."),
    ("catenaXPath", "JSON path in the Catena-X battery pass 6.1.0 payload."),
    ("idtaPath", "Payload path in the IDTA battery passport submodels."),
    *(
        (
            f"obligation{c.capitalize()}",
            f"Obligation for {c} batteries: mandatory, voluntary, "
            "conditional, not_applicable or none.",
        )
        for c in CATEGORIES
    ),
)


def _lit(text: str) -> Literal:
    return Literal(text)


def _en(text: str) -> Literal:
    return Literal(text, lang="en")


def _range(attribute: Attribute) -> URIRef:
    return URIRef(attribute.xsd) if attribute.xsd else XSD.string


def _comment(a: Attribute) -> str:
    kind = "static" if a.static else "dynamic"
    unit = f" in {a.unit}" if a.unit else ""
    return (
        f"{a.label}. Annex XIII point {a.point}; {kind}, {a.level} level; "
        f"value{unit} as {a.json_type}."
    )


def vocabulary_graph(catalog: Catalog) -> Graph:
    """The RDF vocabulary: classes, structural properties, one property per attribute.

    Where the catalog names one Battery Pass (or IDTA) property for an attribute, the
    link is ``skos:closeMatch``; never ``skos:exactMatch``, which is transitive and
    claims interchangeability: those properties sit inside nested entities, carry SAMM
    units and characteristics, and several differ from the catalog in datatype or unit
    (see the catalog notes). Where the catalog names several properties of one model
    (an address split into parts, a list entry told apart by a discriminator), each
    holds only part of the attribute, so the link is ``skos:relatedMatch``.
    """
    g = Graph(bind_namespaces="none")
    for prefix, ns in (
        ("cnb", VOCAB),
        ("cred", CRED),
        ("dct", DCTERMS),
        ("owl", OWL),
        ("rdf", RDF),
        ("rdfs", RDFS),
        ("skos", SKOS),
        ("xsd", XSD),
    ):
        g.bind(prefix, ns)
    g.add((VOCAB_IRI, RDF.type, OWL.Ontology))
    g.add((VOCAB_IRI, DCTERMS.title, _en("CN-EU battery passport vocabulary")))
    g.add(
        (
            VOCAB_IRI,
            DCTERMS.description,
            _en(
                "Terms of the EU battery passport (Regulation (EU) 2023/1542, Art. 77 and "
                "Annex XIII) as issued by the CN-EU battery passport gateway, generated "
                "from its attribute catalog."
            ),
        )
    )
    g.add((VOCAB_IRI, DCTERMS.license, URIRef("https://www.apache.org/licenses/LICENSE-2.0")))
    g.add((VOCAB_IRI, OWL.versionInfo, _lit("2")))

    passport = VOCAB.BatteryPassport
    g.add((passport, RDF.type, RDFS.Class))
    g.add((passport, RDFS.label, _en("battery passport")))
    g.add(
        (
            passport,
            RDFS.comment,
            _en(
                "The passport data of one battery (Art. 77) under one Annex XIII point "
                "(one section)."
            ),
        )
    )
    g.add((passport, RDFS.isDefinedBy, VOCAB_IRI))
    credential = VOCAB.BatteryPassportCredential
    g.add((credential, RDF.type, RDFS.Class))
    g.add((credential, RDFS.subClassOf, CRED.VerifiableCredential))
    g.add((credential, RDFS.label, _en("battery passport credential")))
    g.add(
        (
            credential,
            RDFS.comment,
            _en("A verifiable credential whose subject is a BatteryPassport."),
        )
    )
    g.add((credential, RDFS.isDefinedBy, VOCAB_IRI))

    for term, label, comment in STRUCTURAL_TERMS:
        p = VOCAB[term]
        g.add((p, RDF.type, RDF.Property))
        g.add((p, RDFS.label, _en(label)))
        g.add((p, RDFS.comment, _en(comment)))
        g.add((p, RDFS.range, STRUCTURAL_DATATYPES.get(term, XSD.string)))
        g.add((p, RDFS.isDefinedBy, VOCAB_IRI))
    measured = VOCAB.measuredAt
    g.add((measured, RDF.type, RDF.Property))
    g.add((measured, RDFS.label, _en("measured at")))
    g.add(
        (
            measured,
            RDFS.comment,
            _en(
                "When a dynamic value was measured (Battery Pass lastUpdate); a date the "
                "record gives is its first instant in UTC."
            ),
        )
    )
    g.add((measured, RDFS.range, XSD.dateTime))
    g.add((measured, RDFS.isDefinedBy, VOCAB_IRI))
    for name, (label, comment) in PART_TERMS.items():
        part = VOCAB[name]
        g.add((part, RDF.type, RDF.Property))
        g.add((part, RDFS.label, _en(label)))
        g.add((part, RDFS.comment, _en(comment)))
        g.add((part, RDFS.isDefinedBy, VOCAB_IRI))
    g.add((CATEGORY_SCHEME, RDF.type, SKOS.ConceptScheme))
    g.add((CATEGORY_SCHEME, RDFS.label, _en("battery category")))
    g.add(
        (
            CATEGORY_SCHEME,
            RDFS.comment,
            _en("The battery categories of Regulation (EU) 2023/1542 that need a passport."),
        )
    )
    g.add((CATEGORY_SCHEME, RDFS.isDefinedBy, VOCAB_IRI))
    for code in category_codes().values():
        concept = VOCAB[code.code]
        g.add((concept, RDF.type, SKOS.Concept))
        g.add((concept, SKOS.inScheme, CATEGORY_SCHEME))
        g.add((concept, SKOS.notation, _lit(code.code)))
        g.add((concept, SKOS.prefLabel, _en(code.label_en)))
        g.add((concept, SKOS.prefLabel, Literal(code.label_zh, lang="zh")))
        g.add((concept, DCTERMS.source, _lit(code.legal_ref)))
        g.add((concept, RDFS.isDefinedBy, VOCAB_IRI))
    for name, comment in ANNOTATIONS:
        p = VOCAB[name]
        g.add((p, RDF.type, OWL.AnnotationProperty))
        g.add((p, RDFS.comment, _en(comment)))
        g.add((p, RDFS.isDefinedBy, VOCAB_IRI))

    for a in catalog:
        p = URIRef(a.iri)
        g.add((p, RDF.type, RDF.Property))
        g.add((p, RDFS.label, _en(a.label)))
        g.add((p, RDFS.comment, _en(_comment(a))))
        g.add((p, RDFS.domain, passport))
        g.add((p, RDFS.range, _range(a)))
        g.add((p, RDFS.isDefinedBy, VOCAB_IRI))
        g.add((p, DCTERMS.source, _lit(a.legal_ref)))
        if a.notes:
            g.add((p, SKOS.editorialNote, _en(a.notes)))
        g.add((p, VOCAB.catalogKey, _lit(a.key)))
        g.add((p, VOCAB.catalogRow, Literal(a.n)))
        g.add((p, VOCAB.annexXIIIPoint, Literal(a.point)))
        g.add((p, VOCAB.accessRight, _lit(a.access)))
        g.add((p, VOCAB.staticOrDynamic, _lit("static" if a.static else "dynamic")))
        g.add((p, VOCAB.level, _lit(a.level)))
        g.add((p, VOCAB.catalogDataType, _lit(a.data_type)))
        g.add((p, VOCAB.obligationText, _lit(a.mandatory_text)))
        if a.unit:
            g.add((p, VOCAB.unit, _lit(a.unit)))
            unit = unit_of(a.unit)
            if unit is not None and unit.rec20:
                g.add((p, VOCAB.unitCode, _lit(unit.rec20)))
            if unit is not None and unit.qudt:
                g.add((p, QUDT.hasUnit, URIRef(unit.qudt)))
        if a.din_chapter:
            g.add((p, VOCAB.dinClause, _lit(a.din_chapter)))
        if a.longlist_no:
            g.add((p, VOCAB.longlistNumber, _lit(a.longlist_no)))
        for category in CATEGORIES:
            g.add((p, VOCAB[f"obligation{category.capitalize()}"], _lit(a.obligation(category))))
        for urns in (a.batterypass_urns, a.idta_urns):
            match = SKOS.closeMatch if len(urns) == 1 else SKOS.relatedMatch
            for urn in urns:
                g.add((p, match, URIRef(urn)))
        for prop, paths in (
            (VOCAB.batteryPassPath, a.batterypass_paths),
            (VOCAB.catenaXPath, a.catenax_paths),
            (VOCAB.idtaPath, a.idta_paths),
        ):
            for path in paths:
                g.add((p, prop, _lit(path)))
    return g


def passport_context(catalog: Catalog) -> dict[str, Any]:
    """The passport JSON-LD 1.1 context.

    ``id`` and ``type`` are defined exactly as the VC 2.0 context defines them, so both
    protected contexts can be used together (JSON-LD 1.1 §4.1.11: redefining a protected
    term is an error unless the definition is identical).
    """
    terms: dict[str, Any] = {
        "@version": 1.1,
        "@protected": True,
        "id": "@id",
        "type": "@type",
        "xsd": str(XSD),
        "BatteryPassport": {"@id": str(VOCAB.BatteryPassport)},
        "BatteryPassportCredential": {"@id": str(VOCAB.BatteryPassportCredential)},
    }
    for term, _, _ in STRUCTURAL_TERMS:
        terms[term] = {"@id": str(VOCAB[term])}
        if term in STRUCTURAL_DATATYPES:
            terms[term]["@type"] = "xsd:" + STRUCTURAL_DATATYPES[term].removeprefix(str(XSD))
    for term, iri, coercion in QUANTITY_TERMS:
        terms[term] = {"@id": str(iri)}
        if coercion:
            terms[term]["@type"] = coercion
    for a in catalog:
        terms[a.term] = _term_definition(a)
    return {"@context": terms}


def _xsd_term(iri: str) -> str:
    return "xsd:" + iri.removeprefix(str(XSD))


def _term_definition(a: Attribute) -> dict[str, Any]:
    """The context v4 definition of an attribute's term (see :mod:`gateway.vocab.forms`).

    A quantity's ``value`` gets its datatype from a property-scoped context, the
    JSON-LD 1.1 way of typing a member by the property that holds it: one ``value``
    term serves decimals, integers and text alike. A structured quantity's scoped
    context also names its parts; it reaches the parts' nodes, so their ``value`` is
    typed alike.
    """
    definition: dict[str, Any] = {"@id": a.iri}
    if is_quantity(a):
        value: dict[str, str] = {"@id": str(SCHEMA.value)}
        if a.xsd:
            value["@type"] = _xsd_term(a.xsd)
        scoped: dict[str, Any] = {"value": value}
        for part in STRUCTURED_PARTS.get(a.term, ()):
            scoped[part] = {"@id": str(VOCAB[part])}
        definition["@context"] = scoped
    elif a.term in LINK_TERMS:
        definition["@type"] = "@id"
    elif a.term in CODE_TERMS:
        definition["@type"] = "@vocab"
        definition["@context"] = {code: {"@id": str(VOCAB[code])} for code in category_codes()}
    elif is_text(a):
        definition["@container"] = "@language"
    elif a.xsd:
        definition["@type"] = _xsd_term(a.xsd)
    return definition


def shapes_graph(catalog: Catalog) -> Graph:
    """SHACL shapes: a closed node shape for BatteryPassport, one property shape per term.

    Property shapes have IRIs (``shapes#<term>``) rather than blank nodes so that the
    serialization is stable and a violation names its shape.
    """
    g = Graph(bind_namespaces="none")
    for prefix, ns in (
        ("cnb", VOCAB),
        ("cnbsh", SHAPES_NS),
        ("rdf", RDF),
        ("sh", SH),
        ("xsd", XSD),
    ):
        g.bind(prefix, ns)
    node = SHAPES_NS.BatteryPassportShape
    g.add((node, RDF.type, SH.NodeShape))
    g.add((node, SH.targetClass, VOCAB.BatteryPassport))
    g.add((node, SH.closed, Literal(True)))
    ignored = BNode("ignoredProperties")
    Collection(g, ignored, [RDF.type])
    g.add((node, SH.ignoredProperties, ignored))

    g.add((node, SH.message, _lit("the property is not in the passport vocabulary")))

    def literal(shape: URIRef, datatype: URIRef) -> None:
        g.add((shape, SH.nodeKind, SH.Literal))
        g.add((shape, SH.datatype, datatype))
        pattern = LEXICAL_PATTERNS.get(str(datatype))
        if pattern:
            g.add((shape, SH.pattern, _lit(pattern)))
        if datatype == XSD.integer:
            g.add((shape, SH.minInclusive, Literal(-MAX_SAFE_INTEGER)))
            g.add((shape, SH.maxInclusive, Literal(MAX_SAFE_INTEGER)))

    def property_shape(
        term: str, datatype: URIRef, name: str, attribute: Attribute | None = None
    ) -> URIRef:
        shape = SHAPES_NS[term]
        g.add((node, SH.property, shape))
        g.add((shape, RDF.type, SH.PropertyShape))
        g.add((shape, SH.path, VOCAB[term]))
        g.add((shape, SH.name, _lit(name)))
        message = SHAPE_MESSAGES[str(datatype)]
        others = [] if attribute is None else _node_forms(g, attribute, literal)
        if not others:
            g.add((shape, SH.message, _lit(message)))
            literal(shape, datatype)
            return shape
        # Context v1 and v2 wrote every attribute as a literal; v3 writes some as a
        # quantity node, a language-tagged string, a link or a code; v4 writes a
        # structured quantity as a node of named parts.
        texts = ", or ".join(text for _, text in others)
        g.add((shape, SH.message, _lit(f"{message}, or {texts}")))
        plain = SHAPES_NS[f"{term}-literal"]
        literal(plain, datatype)
        forms = BNode(f"{term}-forms")
        Collection(g, forms, [plain, *(form for form, _ in others)])
        g.add((shape, SH["or"], forms))
        return shape

    access = property_shape("accessGroup", XSD.string, "access group")
    g.set((access, SH.message, _lit("expects one of " + ", ".join(ALL_SECTIONS))))
    g.add((access, SH.minCount, Literal(1)))
    g.add((access, SH.maxCount, Literal(1)))
    groups = BNode("accessGroups")
    Collection(g, groups, [Literal(name) for name in ALL_SECTIONS])
    g.add((access, SH["in"], groups))
    for term, label, _ in STRUCTURAL_TERMS[1:]:
        shape = property_shape(term, STRUCTURAL_DATATYPES.get(term, XSD.string), label)
        if term not in MULTI_VALUED_TERMS:
            g.add((shape, SH.maxCount, Literal(1)))
    for a in catalog:
        property_shape(a.term, _range(a), a.label, a)
    return g


def _node_forms(g: Graph, a: Attribute, literal: Any) -> list[tuple[URIRef, str]]:
    """The shapes of an attribute's forms other than a plain literal, with the words
    each adds to the message."""
    return [form for form in (_v3_form(g, a, literal), _v4_form(g, a, literal)) if form]


def _unit_members(g: Graph, shape: URIRef, prefix: str, a: Attribute) -> None:
    """The unit members a quantity node of ``a`` holds, each exactly once."""
    unit = unit_of(a.unit)
    members: list[tuple[str, URIRef, Node]] = []
    if unit is not None and unit.rec20:
        members.append(("unitCode", SCHEMA.unitCode, Literal(unit.rec20)))
    elif unit is not None:
        members.append(("unitText", SCHEMA.unitText, Literal(unit.text)))
    if unit is not None and unit.qudt:
        members.append(("unit", QUDT.hasUnit, URIRef(unit.qudt)))
    for name, path, fixed in members:
        member = SHAPES_NS[f"{prefix}-{name}"]
        g.add((shape, SH.property, member))
        g.add((member, SH.path, path))
        g.add((member, SH.minCount, Literal(1)))
        g.add((member, SH.maxCount, Literal(1)))
        g.add((member, SH.hasValue, fixed))


def _v4_form(g: Graph, a: Attribute, literal: Any) -> tuple[URIRef, str] | None:
    """The shape of a structured quantity (context v4): a node whose parts are each a
    quantity node with one value in the attribute's unit; None for other attributes."""
    parts = STRUCTURED_PARTS.get(a.term)
    if not parts:
        return None
    term = a.term
    shape = SHAPES_NS[f"{term}-parts"]
    part_shape = SHAPES_NS[f"{term}-part"]
    for node in (shape, part_shape):
        g.add((node, RDF.type, SH.NodeShape))
        g.add((node, SH.nodeKind, SH.IRI))
        g.add((node, SH.closed, Literal(True)))
        g.add((node, SH.ignoredProperties, BNode("ignoredProperties")))
    value = SHAPES_NS[f"{term}-part-value"]
    g.add((part_shape, SH.property, value))
    g.add((value, SH.path, SCHEMA.value))
    g.add((value, SH.minCount, Literal(1)))
    g.add((value, SH.maxCount, Literal(1)))
    literal(value, _range(a))
    _unit_members(g, part_shape, f"{term}-part", a)
    for part in parts:
        member = SHAPES_NS[f"{term}-{part}"]
        g.add((shape, SH.property, member))
        g.add((member, SH.path, VOCAB[part]))
        g.add((member, SH.maxCount, Literal(1)))
        g.add((member, SH.node, part_shape))
    return shape, f"a node of {', '.join(parts)}, each a quantity node in {a.unit}"


def _v3_form(g: Graph, a: Attribute, literal: Any) -> tuple[URIRef, str] | None:
    """The shape of an attribute's context v3 form other than a plain literal, and
    the words its message adds; None when v3 writes a literal too."""
    term = a.term
    if is_quantity(a):
        shape = SHAPES_NS[f"{term}-quantity"]
        g.add((shape, RDF.type, SH.NodeShape))
        g.add((shape, SH.nodeKind, SH.IRI))
        g.add((shape, SH.closed, Literal(True)))
        g.add((shape, SH.ignoredProperties, BNode("ignoredProperties")))
        value = SHAPES_NS[f"{term}-value"]
        g.add((shape, SH.property, value))
        g.add((value, SH.path, SCHEMA.value))
        # several values (accidents, test reports) share the node's unit and time
        g.add((value, SH.minCount, Literal(1)))
        literal(value, _range(a))
        _unit_members(g, shape, term, a)
        if not a.static:
            measured = SHAPES_NS.measuredAt
            g.add((shape, SH.property, measured))
            g.add((measured, SH.path, VOCAB.measuredAt))
            g.add((measured, SH.maxCount, Literal(1)))
            literal(measured, XSD.dateTime)
        words = (
            f"a quantity node with its value and unit {a.unit}"
            if a.unit
            else ("a node with its value and when it was measured")
        )
        return shape, words
    if a.term in LINK_TERMS:
        shape = SHAPES_NS[f"{term}-link"]
        g.add((shape, SH.nodeKind, SH.IRI))
        return shape, "a link (@id) to a passport"
    if a.term in CODE_TERMS:
        shape = SHAPES_NS[f"{term}-code"]
        codes = BNode(f"{term}-codes")
        Collection(g, codes, [VOCAB[code] for code in category_codes()])
        g.add((shape, SH["in"], codes))
        return shape, "one of the codes " + ", ".join(category_codes())
    if is_text(a):
        shape = SHAPES_NS[f"{term}-text"]
        g.add((shape, SH.nodeKind, SH.Literal))
        g.add((shape, SH.datatype, RDF.langString))
        return shape, "a string with its language"
    return None


def _turtle(graph: Graph) -> bytes:
    out = graph.serialize(format="turtle", encoding="utf-8")
    return out if out.endswith(b"\n") else out + b"\n"


def _json(document: Any) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def context_file(version: int) -> str:
    """The file name of passport context version ``version`` under ``vocab/contexts/``."""
    return f"passport-v{version}.jsonld"


def pinned_index(
    context_bytes: bytes, contexts_dir: Path = CONTEXTS_DIR
) -> tuple[dict[str, Any], int]:
    """The context index with the catalog's passport context pinned, and its version.

    Every published entry is kept unchanged: the third-party copies (checked against
    their hashes, never recomputed) and every passport context version. The catalog's
    context is the newest published version when its SHA-256 equals that version's pin,
    otherwise the next version, added to the index.

    :returns: ``(index, version of the catalog's context)``.
    :raises ContextError: a pinned third-party file no longer matches its hash.
    """
    current = json.loads((contexts_dir / INDEX_FILE).read_text(encoding="utf-8"))
    index: dict[str, Any] = {}
    for url, entry in current.items():
        index[url] = {"file": entry["file"], "sha256": entry["sha256"]}
        if passport_context_version(url) is not None:
            continue  # checked by published_problems(); may be rebuilt below
        digest = hashlib.sha256((contexts_dir / entry["file"]).read_bytes()).hexdigest()
        if digest != entry["sha256"]:
            raise ContextError(
                f"{entry['file']}: SHA-256 {digest} differs from the pinned {entry['sha256']}; "
                "pinned copies are never edited",
                context=url,
            )
    versions = [v for url in index if (v := passport_context_version(url)) is not None]
    newest = max(versions, default=0)
    digest = hashlib.sha256(context_bytes).hexdigest()
    if newest and index[passport_context_url(newest)]["sha256"] == digest:
        return dict(sorted(index.items())), newest
    version = newest + 1
    index[passport_context_url(version)] = {"file": context_file(version), "sha256": digest}
    return dict(sorted(index.items())), version


def published_problems(contexts_dir: Path = CONTEXTS_DIR) -> list[str]:
    """The published passport context files (relative to ``vocab/``) that are missing
    or no longer match the hash their index entry pins."""
    index = json.loads((contexts_dir / INDEX_FILE).read_text(encoding="utf-8"))
    out: list[str] = []
    for url, entry in index.items():
        if passport_context_version(url) is None:
            continue
        path = contexts_dir / entry["file"]
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
            out.append(f"contexts/{entry['file']}")
    return out


def artifacts(catalog: Catalog | None = None, vocab_dir: Path = VOCAB_DIR) -> dict[str, bytes]:
    """Every generated file, by path relative to ``vocab/``.

    :param catalog: the catalog to build from; the shipped one by default.
    :param vocab_dir: the vocabulary folder whose published contexts are kept.
    """
    catalog = catalog or load_catalog()
    context = _json(passport_context(catalog))
    index, version = pinned_index(context, vocab_dir / "contexts")
    return {
        VOCAB_FILE: _turtle(vocabulary_graph(catalog)),
        SHAPES_FILE: _turtle(shapes_graph(catalog)),
        f"contexts/{context_file(version)}": context,
        f"contexts/{INDEX_FILE}": _json(index),
    }


def build(out_dir: Path = VOCAB_DIR, catalog: Catalog | None = None) -> list[str]:
    """Write the generated files under ``out_dir`` (a vocabulary folder with its
    ``contexts/index.json``), leaving every published context file as it is.

    :param catalog: the catalog to build from; the shipped one by default.
    :returns: the relative paths written; a file already holding the generated bytes
        is left alone and not listed.
    :raises ContextError: a published context file is missing or was edited.
    """
    files = artifacts(catalog, out_dir)
    for rel in published_problems(out_dir / "contexts"):
        if rel not in files:
            raise ContextError(
                f"vocab/{rel} no longer matches its pinned hash; a published context is "
                "never edited (restore it from version control)"
            )
    written = []
    for rel, data in files.items():
        path = out_dir / rel
        if path.is_file() and path.read_bytes() == data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(rel)
    return written


def stale(vocab_dir: Path = VOCAB_DIR, catalog: Catalog | None = None) -> list[str]:
    """The files that are missing or differ from what the catalog gives, including a
    passport context version that is due but not built, and published contexts edited."""
    out = [
        rel
        for rel, data in artifacts(catalog, vocab_dir).items()
        if not (vocab_dir / rel).is_file() or (vocab_dir / rel).read_bytes() != data
    ]
    return out + [rel for rel in published_problems(vocab_dir / "contexts") if rel not in out]


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m gateway.vocab.build [--check]``."""
    parser = argparse.ArgumentParser(prog="python -m gateway.vocab.build", description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if vocab/ is out of date"
    )
    args = parser.parse_args(argv)
    if args.check:
        differing = stale()
        for rel in differing:
            print(f"vocab/{rel} is out of date; run `make vocab`", file=sys.stderr)
        return 1 if differing else 0
    written = build()
    for rel in written:
        print(f"wrote vocab/{rel}")
    if not written:
        print("vocab/ is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
