"""Conversion -> one JSON-LD passport document per Annex XIII point (section)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from gateway.annex_xiii import POINTS, PUBLIC_POINT, section
from gateway.transform import en18223
from gateway.transform.engine import Conversion
from gateway.vocab.loader import current_passport_context


def passport_documents(
    conversion: Conversion,
    *,
    issued_at: datetime | None = None,
    record: Mapping[str, Any] | None = None,
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
    :raises ValueError: a naive ``issued_at``.
    """
    documents: dict[str, dict[str, Any]] = {}
    for point in POINTS:
        values = {
            r.attribute.term: r.value
            for r in conversion.results
            if r.value is not None and r.attribute.point == point
        }
        if values or point == PUBLIC_POINT:
            name = section(point)
            metadata = (
                metadata_block(conversion, issued_at, record)
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
    conversion: Conversion, issued_at: datetime, record: Mapping[str, Any] | None = None
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
        unique_product_identifier=conversion.passport_id,
        status="active",
        last_update=issued_at,
        economic_operator_id=en18223.economic_operator(public),
        facility_id=en18223.facility_id(record) if record is not None else None,
        context=current_passport_context(),
    )
    return en18223.metadata(facts)
