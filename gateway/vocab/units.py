"""Units of the attribute catalog as an importer's software reads them
(``vocab/units.csv``), and the battery category codes (``vocab/battery-categories.csv``).

The catalog states each quantity's unit as the DIN DKE SPEC 99100 longlist writes it
(``kWh``, ``Ohm``, ``%/month``). A passport written in context v3 carries the unit in
the data, as Battery Pass and IDTA do: the UN/CEFACT Recommendation 20 common code
(``schema:unitCode``, the code EDI, IDTA and schema.org readers know) and, where QUDT
defines the unit, its QUDT IRI. A catalog unit neither names (``tCO2e``,
``kgCO2e/kWh``: Rec 20 has mass units, not CO2-equivalent ones) travels as text.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from gateway.errors import CatalogInvalid
from gateway.paths import VOCAB_DIR

UNITS_PATH = VOCAB_DIR / "units.csv"
CATEGORIES_PATH = VOCAB_DIR / "battery-categories.csv"


@dataclass(frozen=True, slots=True)
class Unit:
    """One catalog unit.

    :ivar text: the catalog's spelling (the one spelling used everywhere).
    :ivar rec20: the UN/CEFACT Rec 20 common code, or ``""`` where it has none.
    :ivar qudt: the QUDT unit IRI, or ``""`` where QUDT has none.
    :ivar name: the unit's name in Rec 20 (or a description).
    """

    text: str
    rec20: str
    qudt: str
    name: str


@dataclass(frozen=True, slots=True)
class CategoryCode:
    """A battery category code (Art. 3(1)) with its labels in English and Chinese."""

    code: str
    label_en: str
    label_zh: str
    legal_ref: str


def _rows(path: str) -> list[dict[str, str]]:
    with (VOCAB_DIR / path).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@cache
def units() -> Mapping[str, Unit]:
    """Every catalog unit by its catalog spelling.

    :raises CatalogInvalid: a row without a code and without a QUDT IRI that is not
        stated as text only, or a unit listed twice.
    """
    out: dict[str, Unit] = {}
    for row in _rows(UNITS_PATH.name):
        unit = Unit(row["unit"], row["rec20"], row["qudt"], row["name"])
        if unit.text in out:
            raise CatalogInvalid(f"vocab/units.csv lists {unit.text!r} twice")
        if unit.qudt and not unit.qudt.startswith("http://qudt.org/vocab/unit/"):
            raise CatalogInvalid(f"vocab/units.csv: {unit.qudt!r} is not a QUDT unit IRI")
        out[unit.text] = unit
    return MappingProxyType(out)


def unit_of(text: str) -> Unit | None:
    """The unit the catalog writes as ``text``; None for no unit (``""``)."""
    if not text:
        return None
    try:
        return units()[text]
    except KeyError:
        raise CatalogInvalid(f"catalog unit {text!r} is not in vocab/units.csv") from None


@cache
def category_codes() -> Mapping[str, CategoryCode]:
    """The battery category codes by code, in the table's order."""
    return MappingProxyType(
        {
            row["code"]: CategoryCode(
                row["code"], row["label_en"], row["label_zh"], row["legal_ref"]
            )
            for row in _rows(CATEGORIES_PATH.name)
        }
    )


def category_code(value: str) -> str | None:
    """The code of a battery category given as a code or as its English label."""
    codes = category_codes()
    if value in codes:
        return value
    return next((c.code for c in codes.values() if c.label_en == value), None)
