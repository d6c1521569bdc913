"""EN 18223 passport metadata: the fixed block every digital product passport carries.

EN 18223:2026 (harmonised for the ESPR by Implementing Decision (EU) 2026/1736) defines a
JSON passport whose metadata block names the passport, the product it describes and the
state of the passport: ``digitalProductPassportId``, ``uniqueProductIdentifier``,
``granularity``, ``dppSchemaVersion``, ``dppStatus``, ``lastUpdate``,
``economicOperatorId``, ``facilityId``, ``contentSpecificationIds``. IDTA-02099-1 carries
the same fields in the AAS ``DppMetadata`` submodel (:mod:`gateway.transform.aas`).

What the gateway writes:

- the passport id is the passport URL; the unique product identifier is the battery's
  EN 18219 identifier (a GS1 Digital Link or an IEC 61406 identification link,
  :mod:`gateway.services.identifiers`), the passport URL for passports issued before;
- granularity is ``Item``: batteries are registered battery by battery (Art. 77(10));
- ``dppSchemaVersion`` is the passport context the passport is written in
  (``passport/v2``); ``contentSpecificationIds`` name that context and, in the AAS export,
  the mapping version and the IDTA submodel templates used;
- ``dppStatus`` follows the passport's life cycle: ``active``, ``suspended``,
  ``revoked``, ``superseded`` (a successor passport exists, Art. 77(7)) and ``ceased``
  (the battery was recycled, Art. 77(8): the passport is kept and its credentials still
  verify as what was true when signed, but it no longer describes a battery);
- ``lastUpdate`` is the time the passport version was issued, so it changes with every
  new version;
- the economic operator is the EU operator identifier of the passport
  (``operator_identifier``), else the manufacturer's identifier; the facility is the
  record's plant identifier (:func:`facility_id`), as far as the data policy lets it
  leave;
- the point 1 document of a passport carries the block as signed at issue (status
  ``active``); the live block is served at ``GET /passports/{code}/metadata`` and in the
  AAS ``DppMetadata`` submodel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.vocab.catalog import EN18223_TERMS
from gateway.vocab.loader import current_passport_context, passport_context_version

GRANULARITY = "Item"
#: EN 18223 passport states, by the gateway's passport status.
DPP_STATUSES: Mapping[str, str] = {
    "active": "active",
    "suspended": "suspended",
    "revoked": "revoked",
    "superseded": "superseded",
    "ceased": "ceased",
}
#: Member order of the metadata block, as EN 18223 lists it.
FIELDS = EN18223_TERMS
#: Catalog attributes naming the economic operator, first found wins.
OPERATOR_ATTRIBUTES = ("operator_identifier", "manufacturer_identifier")


@dataclass(frozen=True)
class PassportFacts:
    """What the metadata block says of one passport version.

    :ivar status: the gateway's passport status (a key of :data:`DPP_STATUSES`).
    :ivar last_update: when this passport version was issued (timezone-aware).
    :ivar context: the passport context the passport is written in.
    """

    passport_id: str
    unique_product_identifier: str
    status: str
    last_update: datetime
    economic_operator_id: str | None = None
    facility_id: str | None = None
    context: str = ""

    @property
    def context_url(self) -> str:
        return self.context or current_passport_context()


def facts_from_block(block: Mapping[str, Any]) -> PassportFacts:
    """The facts a metadata block states (as :func:`metadata` writes it, alone or as
    members of a passport's point 1 document): the inverse of :func:`metadata`.

    :raises ValueError: a block without the identifiers, with a status the life cycle
        does not have, or without a time with its offset.
    """
    ids = (block.get("digitalProductPassportId"), block.get("uniqueProductIdentifier"))
    status, moment = block.get("dppStatus"), block.get("lastUpdate")
    if not all(isinstance(v, str) and v for v in ids):
        raise ValueError("the metadata block names no passport or product")
    if status not in DPP_STATUSES:
        raise ValueError(f"dppStatus {status!r} is not a passport status")
    if not isinstance(moment, str) or len(moment) > 40:
        raise ValueError("the metadata block has no lastUpdate")
    last_update = datetime.fromisoformat(moment)
    if last_update.tzinfo is None:
        raise ValueError("lastUpdate needs its UTC offset")
    specifications = block.get("contentSpecificationIds")
    context = specifications[0] if isinstance(specifications, list) and specifications else ""

    def text(name: str) -> str | None:
        value = block.get(name)
        return value if isinstance(value, str) and value else None

    return PassportFacts(
        passport_id=str(ids[0]),
        unique_product_identifier=str(ids[1]),
        status=str(status),
        last_update=last_update,
        economic_operator_id=text("economicOperatorId"),
        facility_id=text("facilityId"),
        context=context if isinstance(context, str) else "",
    )


def dpp_status(status: str) -> str:
    """The EN 18223 ``dppStatus`` of a passport status.

    :raises ValueError: a status the passport life cycle does not have.
    """
    try:
        return DPP_STATUSES[status]
    except KeyError:
        raise ValueError(f"passport status {status!r} has no EN 18223 dppStatus") from None


def schema_version(context: str) -> str:
    """``dppSchemaVersion``: the passport context version (``passport/v2``), else the URL."""
    version = passport_context_version(context)
    return f"passport/v{version}" if version is not None else context


def economic_operator(attributes: Mapping[str, Any]) -> str | None:
    """The economic operator identifier a passport's attributes give, if any."""
    for key in OPERATOR_ATTRIBUTES:
        value = attributes.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def facility_id(record: Mapping[str, Any]) -> str | None:
    """The facility identifier a national record gives: its plant's ``facility_id``.

    :param record: the record as the data policy lets it leave (a withheld plant gives
        none).
    """
    manufacturer = record.get("manufacturer")
    plant = manufacturer.get("plant") if isinstance(manufacturer, Mapping) else None
    value = plant.get("facility_id") if isinstance(plant, Mapping) else None
    return value if isinstance(value, str) and value.strip() else None


def format_time(moment: datetime) -> str:
    """``lastUpdate`` as written: UTC, seconds, ``Z``.

    :raises ValueError: a naive datetime.
    """
    if moment.tzinfo is None:
        raise ValueError("lastUpdate needs a timezone-aware time")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def metadata(facts: PassportFacts, content_specification_ids: Sequence[str] = ()) -> dict[str, Any]:
    """The EN 18223 metadata block of a passport version, as JSON data.

    :param content_specification_ids: further specifications the payload follows; the
        passport context always comes first.
    :returns: the members of :data:`FIELDS` in order; ``economicOperatorId`` and
        ``facilityId`` only when known.
    :raises ValueError: an unknown status or a naive time.
    """
    ids = [facts.context_url, *(i for i in content_specification_ids if i != facts.context_url)]
    block: dict[str, Any] = {
        "digitalProductPassportId": facts.passport_id,
        "uniqueProductIdentifier": facts.unique_product_identifier,
        "granularity": GRANULARITY,
        "dppSchemaVersion": schema_version(facts.context_url),
        "dppStatus": dpp_status(facts.status),
        "lastUpdate": format_time(facts.last_update),
        "economicOperatorId": facts.economic_operator_id,
        "facilityId": facts.facility_id,
        "contentSpecificationIds": ids,
    }
    return {k: v for k, v in block.items() if v is not None}
