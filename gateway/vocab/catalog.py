"""The EU battery passport attribute catalog (``vocab/catalog/eu-passport-attributes.csv``).

One row per passport data attribute of Regulation (EU) 2023/1542 (Art. 77, Annex XIII),
numbered after DIN DKE SPEC 99100 and the Battery Pass longlist, with the Annex XIII
point it falls under, the obligation per battery category and the matching Battery
Pass, Catena-X and IDTA model properties. Everything else in ``vocab/`` (the RDF vocabulary,
the JSON-LD context, the SHACL shapes) is generated from this file by
``python -m gateway.vocab.build``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from gateway.annex_xiii import Point, section
from gateway.errors import CatalogInvalid
from gateway.jsonvalues import JsonType
from gateway.paths import VOCAB_DIR

VOCAB_NS = "https://w3id.org/cn-eu-battery/vocab#"
XSD_NS = "http://www.w3.org/2001/XMLSchema#"
CATALOG_PATH = VOCAB_DIR / "catalog" / "eu-passport-attributes.csv"

Category = Literal["ev", "lmt", "industrial", "stationary"]
#: Battery categories with a passport (Art. 77(1)): EV, LMT, industrial > 2 kWh;
#: stationary battery energy storage systems are industrial batteries with their own column.
CATEGORIES: tuple[Category, ...] = ("ev", "lmt", "industrial", "stationary")
OBLIGATIONS = ("mandatory", "voluntary", "conditional", "not_applicable", "none")

#: The catalog's access column (the longlist's "access rights according to the Battery
#: Regulation") -> the Annex XIII point whose credential carries the attribute.
ACCESS_TO_POINT: Mapping[str, Point] = MappingProxyType(
    {
        "public": 1,
        # Annex XIII 2 (composition, spare parts, dismantling, safety): persons with a
        # legitimate interest and, by Art. 77(2)(b), the authorities and the Commission.
        "legitimate_interest_commission": 2,
        # Annex XIII 3 (test results): notified bodies, market surveillance, Commission.
        "authorities": 3,
        # Annex XIII 4 (the individual battery: condition, history, status).
        "legitimate_interest": 4,
    }
)


#: Units that make a catalog "Integer" a real-valued physical quantity. The catalog's
#: ``data_type`` follows the DIN DKE SPEC 99100 longlist, which says "Integer" for
#: ratings such as voltage or internal resistance; real ratings (3.2 V per cell,
#: 0.7 mOhm) are not integers, so these travel as xsd:decimal strings.
PHYSICAL_UNITS = frozenset({"Ah", "V", "W", "kWh", "Ohm", "°C", "W/Wh"})

_URI_TYPES = frozenset({"URL", "Link to PDF", "PDF", "Graphic", "Text/URL"})
#: Catalog data types carried as plain JSON strings, with no datatype coercion.
_STRING_TYPES = frozenset(
    {
        "ID",
        "String",
        "String (e-mail)",
        "String/Date",
        "Enum",
        "Enum (CLP hazard class)",
        "Representation to document",
        "See 6.1 and 6.2",
        "n.a.",
    }
)

COLUMNS = (
    "n",
    "key",
    "name",
    "longlist_no",
    "din_chapter",
    "legal_ref",
    "access",
    "static_dynamic",
    "level",
    "data_type",
    "unit",
    "mandatory",
    "obligation_ev",
    "obligation_lmt",
    "obligation_industrial",
    "obligation_stationary",
    "batterypass_urns",
    "batterypass_paths",
    "catenax_paths",
    "idta_urns",
    "idta_paths",
    "notes",
)
_KEY = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
#: The EN 18223 passport metadata block (in the point 1 section), in the order the
#: standard lists its members.
EN18223_TERMS: tuple[str, ...] = (
    "digitalProductPassportId",
    "uniqueProductIdentifier",
    "granularity",
    "dppSchemaVersion",
    "dppStatus",
    "lastUpdate",
    "economicOperatorId",
    "facilityId",
    "contentSpecificationIds",
)
#: Terms the passport context defines besides the attributes; an attribute must not take one.
RESERVED_TERMS = frozenset(
    {
        "id",
        "type",
        "accessGroup",
        "exportApproval",
        "mappingSet",
        "mappingVersion",
        "mappingHash",
        "batteryCode",
        *EN18223_TERMS,
    }
)

#: Members of a quantity node in context v3 (:mod:`gateway.vocab.forms`): the context
#: defines them (``value`` per attribute), so no attribute may take one as its term.
QUANTITY_MEMBER_TERMS = frozenset({"value", "unitCode", "unitText", "unit", "measuredAt"})


@dataclass(frozen=True)
class Attribute:
    """One passport data attribute.

    ``point`` is the Annex XIII point it falls under and ``access_group`` the section
    (``annex-xiii-N``, see ``gateway.annex_xiii``) whose credential carries it.
    ``obligations`` maps each battery category to ``mandatory``, ``voluntary``,
    ``conditional`` (mandatory only in a case the regulation names), ``not_applicable``
    or ``none`` (not a passport data point).
    """

    n: int
    key: str
    term: str
    iri: str
    label: str
    longlist_no: str
    din_chapter: str
    legal_ref: str
    access: str
    point: Point
    access_group: str
    static: bool
    level: str
    data_type: str
    xsd: str | None
    json_type: JsonType
    unit: str
    mandatory_text: str
    obligations: Mapping[Category, str] = field(hash=False)
    batterypass_urns: tuple[str, ...]
    batterypass_paths: tuple[str, ...]
    catenax_paths: tuple[str, ...]
    idta_urns: tuple[str, ...]
    idta_paths: tuple[str, ...]
    notes: str

    def obligation(self, category: str) -> str:
        """The obligation of this attribute for a battery category.

        :param category: one of :data:`CATEGORIES`.
        :returns: ``mandatory``, ``voluntary``, ``conditional``, ``not_applicable`` or ``none``.
        :raises ValueError: ``category`` is not a passport battery category.
        """
        try:
            return self.obligations[category]  # type: ignore[index]
        except KeyError:
            raise ValueError(
                f"battery category {category!r} is not one of {', '.join(CATEGORIES)}"
            ) from None

    def is_mandatory(self, category: str) -> bool:
        """Whether the attribute is unconditionally mandatory for a battery category.

        :param category: one of :data:`CATEGORIES`.
        :raises ValueError: ``category`` is not a passport battery category.
        """
        return self.obligation(category) == "mandatory"


@dataclass(frozen=True)
class Catalog:
    """All attributes in CSV order, with look-ups by CSV key and by JSON-LD term."""

    attributes: tuple[Attribute, ...]
    by_key: Mapping[str, Attribute] = field(hash=False, compare=False)
    by_term: Mapping[str, Attribute] = field(hash=False, compare=False)

    @classmethod
    def of(cls, attributes: tuple[Attribute, ...]) -> Catalog:
        """Build the look-ups for ``attributes``.

        :raises CatalogInvalid: two attributes share a key or a term.
        """
        by_key: dict[str, Attribute] = {}
        by_term: dict[str, Attribute] = {}
        for a in attributes:
            for index, name, value in ((by_key, "key", a.key), (by_term, "term", a.term)):
                if value in index:
                    raise CatalogInvalid(
                        f"row {a.n}: {name} {value!r} repeats row {index[value].n}",
                        row=a.n,
                    )
                index[value] = a
        return cls(attributes, MappingProxyType(by_key), MappingProxyType(by_term))

    def __iter__(self) -> Iterator[Attribute]:
        return iter(self.attributes)

    def __len__(self) -> int:
        return len(self.attributes)

    def at_point(self, point: int) -> tuple[Attribute, ...]:
        """The attributes of one Annex XIII point, in CSV order."""
        return tuple(a for a in self.attributes if a.point == point)


def term_of(key: str) -> str:
    """The JSON-LD term of a catalog key: ``rated_capacity`` -> ``ratedCapacity``."""
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def datatype_of(data_type: str, unit: str) -> tuple[JsonType, str | None]:
    """The JSON form and XSD datatype of a catalog ``data_type`` and ``unit``.

    The rule (documented in ``docs/vocabulary.md``): passports carry no JSON floats
    (non-integer quantities are strings typed ``xsd:decimal`` by the context), so that
    every JSON-LD processor gives the same RDF literal.

    :returns: ``(json_type, xsd datatype IRI or None for a plain string)``.
    :raises ValueError: the data type is not one the rule knows; a new one needs a decision.
    """
    if data_type == "Decimal":
        return "decimal-string", XSD_NS + "decimal"
    if data_type == "Integer":
        if unit in PHYSICAL_UNITS:
            return "decimal-string", XSD_NS + "decimal"
        # Counts and whole quantities: cycles, events, minutes, tCO2e (longlist unit).
        return "integer", XSD_NS + "integer"
    if data_type == "Date[YYYY-MM]":
        return "year-month", XSD_NS + "gYearMonth"
    if data_type == "Date":
        return "date", XSD_NS + "date"
    if data_type in _URI_TYPES:
        return "uri", XSD_NS + "anyURI"
    if data_type == "composite":
        # state_of_health: a percentage derived from the category's SoH parameters.
        return "decimal-string", XSD_NS + "decimal"
    if data_type in _STRING_TYPES:
        return "string", None
    raise ValueError(f"data type {data_type!r} has no datatype rule")


def _split(cell: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.split(" | ") if part.strip())


def _attribute(row: Mapping[str, str], line: int) -> Attribute:
    def bad(column: str, rule: str) -> CatalogInvalid:
        return CatalogInvalid(
            f"line {line}, column {column!r}: {row.get(column)!r} {rule}",
            row=line,
            column=column,
        )

    key = row["key"]
    if not _KEY.fullmatch(key):
        raise bad("key", "is not a snake_case key")
    if not row["n"].isdigit():
        raise bad("n", "is not a row number")
    if row["access"] not in ACCESS_TO_POINT:
        raise bad("access", f"is not one of {', '.join(ACCESS_TO_POINT)}")
    if row["static_dynamic"] not in ("static", "dynamic"):
        raise bad("static_dynamic", "is not static or dynamic")
    if row["level"] not in ("model", "item"):
        raise bad("level", "is not model or item")
    obligations: dict[Category, str] = {}
    for category in CATEGORIES:
        column = f"obligation_{category}"
        if row[column] not in OBLIGATIONS:
            raise bad(column, f"is not one of {', '.join(OBLIGATIONS)}")
        obligations[category] = row[column]
    try:
        json_type, xsd = datatype_of(row["data_type"], row["unit"])
    except ValueError as e:
        raise bad("data_type", "has no datatype rule") from e
    term = term_of(key)
    if term in RESERVED_TERMS or term in QUANTITY_MEMBER_TERMS:
        raise bad("key", f"gives term {term!r}, which the passport context reserves")
    return Attribute(
        n=int(row["n"]),
        key=key,
        term=term,
        iri=VOCAB_NS + term,
        label=row["name"].strip(),
        longlist_no=row["longlist_no"],
        din_chapter=row["din_chapter"],
        legal_ref=row["legal_ref"],
        access=row["access"],
        point=ACCESS_TO_POINT[row["access"]],
        access_group=section(ACCESS_TO_POINT[row["access"]]),
        static=row["static_dynamic"] == "static",
        level=row["level"],
        data_type=row["data_type"],
        xsd=xsd,
        json_type=json_type,
        unit=row["unit"],
        mandatory_text=row["mandatory"],
        obligations=MappingProxyType(obligations),
        batterypass_urns=_split(row["batterypass_urns"]),
        batterypass_paths=_split(row["batterypass_paths"]),
        catenax_paths=_split(row["catenax_paths"]),
        idta_urns=_split(row["idta_urns"]),
        idta_paths=_split(row["idta_paths"]),
        notes=row["notes"],
    )


def read_catalog(path: Path) -> Catalog:
    """Read and check a catalog CSV (UTF-8, header row :data:`COLUMNS`).

    :param path: the CSV file.
    :raises CatalogInvalid: a column is missing, or a row breaks a rule (the message
        names the line and column).
    """
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise CatalogInvalid(f"{path.name}: missing columns {', '.join(missing)}")
        # Line 1 is the header; notes never span lines, so the line is the row's.
        attributes = tuple(_attribute(row, line) for line, row in enumerate(reader, start=2))
    return Catalog.of(attributes)


@cache
def _default_catalog() -> Catalog:
    return read_catalog(CATALOG_PATH)


def load_catalog(path: Path | None = None) -> Catalog:
    """The attribute catalog.

    :param path: another catalog CSV; by default the shipped one, read once and cached.
    :raises CatalogInvalid: the file breaks the catalog rules.
    """
    return _default_catalog() if path is None else read_catalog(path)
