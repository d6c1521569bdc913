"""Conversion -> one JSON-LD passport document per Annex XIII point (section)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from gateway.annex_xiii import POINTS, PUBLIC_POINT, section
from gateway.transform import en18223
from gateway.transform.engine import AttributeResult, Conversion
from gateway.transform.measurements import measurement_time
from gateway.vocab.forms import (
    CODE_TERMS,
    STRUCTURED_PARTS,
    is_quantity,
    is_text,
    part_id,
    quantity_id,
)
from gateway.vocab.loader import current_passport_context
from gateway.vocab.units import category_code, unit_of


def passport_documents(
    conversion: Conversion,
    *,
    issued_at: datetime | None = None,
    record: Mapping[str, Any] | None = None,
    unique_product_identifier: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Documents by section (``annex-xiii-N``), in point order.

    A point gets a document only when it holds at least one value; point 1 always
    does, since the public passport is what the QR code leads to. All documents share
    the passport id; inside a credential each becomes the ``credentialSubject``
    (DESIGN §5). Points 3 and 4 never share a document: their audiences differ
    (Art. 77(2)).

    Given the time of issue, the point 1 document also carries the EN 18223 metadata
    block (:func:`metadata_block`): the metadata is public, like the point.

    :param issued_at: when this passport version is issued (timezone-aware); without
        it, no metadata block (a comparison of two conversions, not an issue).
    :param record: the record as the data policy lets it leave, for the facility
        identifier.
    :param unique_product_identifier: the battery's EN 18219 identifier
        (:mod:`gateway.services.identifiers`); default: the passport id.
    :raises ValueError: a naive ``issued_at``.
    """
    documents: dict[str, dict[str, Any]] = {}
    # The results in one pass, by point (in catalog order within each).
    by_point: dict[Any, dict[str, Any]] = {point: {} for point in POINTS}
    for r in conversion.results:
        if r.value is not None:
            values = by_point.get(r.attribute.point)
            if values is not None:
                values[r.attribute.term] = member(conversion, r)
    for point in POINTS:
        values = by_point[point]
        if values or point == PUBLIC_POINT:
            name = section(point)
            metadata = (
                metadata_block(conversion, issued_at, record, unique_product_identifier)
                if point == PUBLIC_POINT and issued_at is not None
                else {}
            )
            documents[name] = {
                "@context": [current_passport_context()],
                "id": conversion.passport_id,
                "type": "BatteryPassport",
                "accessGroup": name,
                **metadata,
                **values,
            }
    return documents


def metadata_block(
    conversion: Conversion,
    issued_at: datetime,
    record: Mapping[str, Any] | None = None,
    unique_product_identifier: str | None = None,
) -> dict[str, Any]:
    """The EN 18223 metadata of a passport version at its issue, as signed.

    The status is ``active``: a credential states what was true when it was signed;
    the live status is in the status list and at ``GET /passports/{code}/metadata``.
    The economic operator comes from the point 1 attributes, the facility from the
    record (:func:`gateway.transform.en18223.facility_id`).

    :raises ValueError: a naive ``issued_at``.
    """
    public = {
        r.attribute.key: r.value
        for r in conversion.results
        if r.value is not None and r.attribute.point == PUBLIC_POINT
    }
    facts = en18223.PassportFacts(
        passport_id=conversion.passport_id,
        unique_product_identifier=unique_product_identifier or conversion.passport_id,
        status="active",
        last_update=issued_at,
        economic_operator_id=en18223.economic_operator(public),
        facility_id=en18223.facility_id(record) if record is not None else None,
        context=current_passport_context(),
    )
    return en18223.metadata(facts)


def member(conversion: Conversion, result: AttributeResult) -> Any:
    """An attribute's value as the passport context v4 writes it
    (:mod:`gateway.vocab.forms`): a quantity node with its unit and, for a dynamic
    value, the time it was measured; a node of named parts, each a quantity node, for a
    structured value; a language map for text the record carries in more than one
    language; a category code; otherwise the plain value.
    """
    attribute = result.attribute
    if is_quantity(attribute):
        node: dict[str, Any] = {"id": quantity_id(conversion.passport_id, attribute.term)}
        parts = STRUCTURED_PARTS.get(attribute.term, ())
        if isinstance(result.value, Mapping) and parts:
            for part in parts:
                if part in result.value:
                    node[part] = {
                        "id": part_id(conversion.passport_id, attribute.term, part),
                        "value": result.value[part],
                        **_unit_members(attribute.unit),
                    }
            return node
        node["value"] = result.value
        node.update(_unit_members(attribute.unit))
        if result.measured_at and not attribute.static:
            # The engine checked the time when it read it from the record.
            node["measuredAt"] = en18223.format_time(measurement_time(result.measured_at))
        return node
    if attribute.term in CODE_TERMS:
        # The mapping writes the category's English label; the code is the record's.
        return category_code(str(result.value)) or conversion.category
    if is_text(attribute) and result.languages:
        # Tags are case-insensitive (BCP 47 §2.1.1); JSON-LD processors differ in whether
        # they lower-case them, so they are written in lower case, as pyld reads them.
        return {tag.lower(): text for tag, text in sorted(result.languages)}
    return result.value


def _unit_members(unit_text: str) -> dict[str, str]:
    """A quantity node's unit: its Rec 20 code (or its text where none names it) and
    its QUDT unit."""
    unit = unit_of(unit_text)
    if unit is None:
        return {}
    members = {"unitCode": unit.rec20} if unit.rec20 else {"unitText": unit.text}
    if unit.qudt:
        members["unit"] = unit.qudt
    return members
