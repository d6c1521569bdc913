"""How each catalog attribute is written in a passport of context v3 and v4, and its
plain value read back from any context version.

Context v1 and v2 write every attribute as one literal. Context v3 writes what an
importer needs without this gateway's catalog:

- a **quantity** (an attribute with a unit, and every dynamic attribute) is a node with
  an IRI, ``<passport id>#<term>``, holding ``value``, its unit (``unitCode``: the
  UN/CEFACT Rec 20 code; ``unit``: the QUDT IRI; ``unitText`` where neither names it)
  and, for a dynamic value, ``measuredAt``. The node has an IRI rather than being a
  blank node so that the issuer's graph stays free of blank nodes: canonical N-Quads
  are then read straight off the JSON, and every processor labels the graph alike;
- **text** (names, addresses, free text) may be a language map (``{"en": ..., "zh": ...}``)
  under an ``@container: @language`` term, so each string keeps its BCP 47 tag;
- **codes**: ``batteryCategory`` is one of the codes of ``vocab/battery-categories.csv``
  (``@type: @vocab``), a concept with English and Chinese labels in the vocabulary;
- **links**: the passport identifiers are ``@id`` links to the passports they name.

Context v4 adds **structured quantities**: an attribute made of named parts in one unit
(the battery's length, width and height) is a node, ``<passport id>#<term>``, with one
quantity node per part, ``<passport id>#<term>-<part>``. RDF keeps no order among the
values of one property, so three lengths under one term would not say which is which.
A structured attribute given as one figure (an exporter's declaration) is written as a
quantity node, as in v3.

Readers of stored credentials (pages, summaries, conformance, projections) take an
attribute's value with :func:`plain_value`, which reads all three versions alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.vocab.catalog import Attribute

#: Terms whose values are links to other passports (``@type: @id``).
LINK_TERMS = frozenset({"batteryPassportId", "predecessorPassportId"})
#: Terms whose values are codes of a code list (``@type: @vocab``).
CODE_TERMS = frozenset({"batteryCategory"})
#: Attributes context v4 writes as a node of named parts, each a quantity in the
#: attribute's unit: term -> parts, in the order a plain reading lists them. The parts
#: are those of Catena-X's ``physicalDimension`` (its paths in the catalog); neither the
#: national record nor Battery Pass 1.2 has a diameter.
STRUCTURED_PARTS: Mapping[str, tuple[str, ...]] = {
    "physicalDimensions": ("length", "width", "height"),
}
#: Every part name of :data:`STRUCTURED_PARTS`, once each, in their order.
_PART_NAMES = tuple(dict.fromkeys(p for parts in STRUCTURED_PARTS.values() for p in parts))
_PART_SET = frozenset(_PART_NAMES)
#: Catalog data types of free text, which may carry a language per string.
TEXT_DATA_TYPES = frozenset({"String", "Representation to document", "See 6.1 and 6.2", "n.a."})


def is_quantity(attribute: Attribute) -> bool:
    """Whether context v3 writes the attribute as a quantity node."""
    return bool(attribute.unit) or not attribute.static


def is_structured(attribute: Attribute) -> bool:
    """Whether context v4 writes the attribute as a node of named parts."""
    return attribute.term in STRUCTURED_PARTS


def is_text(attribute: Attribute) -> bool:
    """Whether context v3 lets the attribute carry a language map."""
    return (
        attribute.data_type in TEXT_DATA_TYPES
        and attribute.xsd is None
        and not is_quantity(attribute)
        and attribute.term not in CODE_TERMS | LINK_TERMS
    )


def quantity_id(passport_id: str, term: str) -> str:
    """The IRI of the quantity node of ``term`` in the passport ``passport_id``."""
    return f"{passport_id}#{term}"


def part_id(passport_id: str, term: str, part: str) -> str:
    """The IRI of the quantity node of one part of the structured ``term``."""
    return f"{passport_id}#{term}-{part}"


def parts_of(value: Any) -> tuple[str, ...]:
    """The parts a structured node holds (:data:`STRUCTURED_PARTS`), in their order;
    empty for anything else."""
    if not isinstance(value, Mapping) or _PART_SET.isdisjoint(value):
        return ()  # most nodes: a quantity or a language map, told apart in C
    return tuple(p for p in _PART_NAMES if p in value)


def plain_value(value: Any, language: str = "en") -> Any:
    """An attribute's value as context v1 wrote it, from a member of any version.

    A quantity node gives its ``value``; a structured node the values of its parts in
    their order (as context v1 would list them); a language map its text in
    ``language``, else in English, else the first one; anything else is returned as it is.
    """
    if isinstance(value, Mapping):
        parts = parts_of(value)
        if parts:
            return [plain_value(value[p], language) for p in parts]
        if "value" in value or "id" in value:
            return value.get("value")
        texts = [v for v in value.values() if isinstance(v, str)]
        for tag in (language, "en"):
            if isinstance(value.get(tag), str):
                return value[tag]
        return texts[0] if texts else None
    if isinstance(value, list):
        return [plain_value(v, language) for v in value]
    return value


def language_texts(value: Any, language: str = "en") -> list[str] | None:
    """Every text of a language map, the one in ``language`` first, then English, then
    the others in tag order; None for anything that is not a language map."""
    if not isinstance(value, Mapping) or "value" in value or "id" in value:
        return None
    order = sorted(value, key=lambda tag: (tag != language, tag != "en", str(tag)))
    out: list[str] = []
    for tag in order:
        texts = value[tag]
        out.extend(t for t in (texts if isinstance(texts, list) else [texts]) if isinstance(t, str))
    return out


def json_values(value: Any) -> list[Any]:
    """The JSON values whose form the catalog states, in one member of any version: a
    quantity node's ``value`` (of each part of a structured node), each string of a
    language map, or the value itself."""
    if isinstance(value, Mapping):
        parts = parts_of(value)
        if parts:
            return [v for p in parts for v in json_values(value[p])]
        if "value" in value or "id" in value:
            inner = value.get("value")
            return list(inner) if isinstance(inner, list) else [inner]
        out: list[Any] = []
        for texts in value.values():
            out.extend(texts if isinstance(texts, list) else [texts])
        return out
    return [value]


def measured_at_of(value: Any) -> str | None:
    """The ``measuredAt`` of a quantity node, if it has one."""
    if isinstance(value, Mapping) and isinstance(value.get("measuredAt"), str):
        return str(value["measuredAt"])
    return None
