"""Is the record consistent with its own code, with physics and with its category?

The national platform takes what firms upload (2018 Provisions Art. 16 makes them
answer for its accuracy), so a record can say things that cannot all be true: a pack
code dated otherwise than ``production.date``, an LFP letter on a ternary pack, a
minimum voltage above the nominal one. A passport built from it would publish one of
them as a fact. These checks read the record and the decode of ``battery.code`` (made
once, by the code rule) and yield findings with the pointers of the members that
disagree; each builds its pointers only when it finds something.

Quantities are compared in one unit through the record model's own unit table
(:func:`gateway.mapping.transforms.convert_unit`); a value that is not a number or
has a unit the model does not know is left to the record schema, which refuses it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from gateway.codes.gbt34014 import BatteryCode
from gateway.codes.tables import load_tables
from gateway.compliance.finding import Finding, as_mapping, as_sequence, record_date, record_pointer
from gateway.compliance.rules import (
    ENERGY_TOLERANCE,
    INDUSTRIAL_CATEGORIES,
    LMT_MAX_MASS_KG,
    PASSPORT_MIN_INDUSTRIAL_KWH,
)
from gateway.errors import GatewayError
from gateway.mapping.transforms import convert_unit
from gateway.records.lifecycle import recycled_on

#: How the free-text ``specs.chemistry`` names the chemistry of each battery-type value
#: of the code tables (``battery_type.csv``): lower-case fragments, Chinese and English.
#: ``other`` (Z) has none: it agrees with any chemistry that is none of the others.
CHEMISTRY_NAMES: Mapping[str, tuple[str, ...]] = {
    "nimh": ("nimh", "ni-mh", "镍氢", "nickel-metal hydride", "nickel metal hydride"),
    "lfp": ("lfp", "lifepo", "磷酸铁锂", "iron phosphate"),
    "lmo": ("lmo", "limn2o4", "锰酸锂", "manganese oxide"),
    "lco": ("lco", "licoo2", "钴酸锂", "cobalt oxide"),
    "ternary": ("ncm", "nmc", "nca", "三元", "nickel cobalt", "nickel-cobalt"),
    "supercapacitor": ("capacitor", "电容"),
    "lto": ("lto", "titanate", "钛酸锂"),
}

#: Record members holding a date, outside the events (whose dates are walked per event).
_DATES = (
    ("production", "date"),
    ("production", "reported_on"),
    ("production", "shipped_on"),
    ("usage", "as_of"),
)
_EVENT_DATES = ("date", "reported_on", "coc_date")


def _number(value: Any) -> Decimal | None:
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _quantity(value: Any, unit: str) -> Decimal | None:
    """A ``{value, unit}`` member in ``unit``, or None when absent or malformed."""
    value = as_mapping(value)
    number = _number(value.get("value"))
    if number is None or not isinstance(value.get("unit"), str):
        return None
    try:
        return convert_unit(number, value["unit"], unit)
    except GatewayError:
        return None


def chemistries(text: str) -> set[str]:
    """The battery-type values whose names ``text`` contains."""
    folded = text.casefold()
    return {key for key, names in CHEMISTRY_NAMES.items() if any(n in folded for n in names)}


class Plausibility:
    """The consistency checks of one record, given the decode of its top code."""

    def __init__(self, record: Mapping[str, Any], top: BatteryCode | None, today: dt.date) -> None:
        self.record = record
        self.top = top
        self.today = today
        self.battery = as_mapping(record.get("battery"))
        self.specs = as_mapping(record.get("specs"))
        self.usage = as_mapping(record.get("usage"))

    def run(self) -> Iterator[Finding]:
        yield from self.future_dates()
        yield from self.code_date()
        yield from self.chemistry()
        yield from self.voltages()
        yield from self.energy()
        yield from self.category()
        yield from self.health()
        yield from self.recycled()

    # -- dates -----------------------------------------------------------------------

    def future_dates(self) -> Iterator[Finding]:
        places: list[tuple[tuple[str | int, ...], Any]] = [
            (path, as_mapping(self.record.get(path[0])).get(path[1])) for path in _DATES
        ]
        for i, event in enumerate(as_sequence(self.record.get("events"))):
            event = as_mapping(event)
            places += [(("events", i, name), event.get(name)) for name in _EVENT_DATES]
        for i, report in enumerate(as_sequence(self.record.get("test_reports"))):
            places.append((("test_reports", i, "date"), as_mapping(report).get("date")))
        for path, value in places:
            day = record_date(value)
            if day is not None and day > self.today:
                pointer = record_pointer(*path)
                yield Finding(
                    "date-future",
                    f"{pointer}: {day} is after today ({self.today})",
                    (pointer,),
                    details={"date": day.isoformat(), "today": self.today.isoformat()},
                )

    def code_date(self) -> Iterator[Finding]:
        top = self.top
        production = as_mapping(self.record.get("production"))
        stated = record_date(production.get("date"))
        if top is None or top.production_date is None or stated is None:
            return
        if top.production_date == stated:
            return
        unsure = [a for a in top.ambiguities if a.segment == "production_date_code"]
        yield Finding(
            "code-date-mismatch",
            f"battery.code {top.code} is dated {top.production_date} "
            f"(positions 15-17 {top.production_date_code!r}); production.date is {stated}",
            (record_pointer("battery", "code"), record_pointer("production", "date")),
            details={
                "code_date": top.production_date.isoformat(),
                "production_date": stated.isoformat(),
            },
            uncertainty=(
                "the code's date letters are not confirmed: " + unsure[0].reason if unsure else None
            ),
        )

    def chemistry(self) -> Iterator[Finding]:
        top = self.top
        if top is None:
            return
        row = load_tables().lookup("battery_type", top.battery_type)
        confidence = row.confidence if row else "U"
        text = self.specs.get("chemistry")
        letter = f"battery-type letter {top.battery_type!r} of battery.code"
        if not isinstance(text, str) or not text.strip():
            if confidence != "S":
                yield Finding(
                    "chemistry-code-uncertain",
                    f"{letter} reads as {top.battery_chemistry.upper()} only with confidence "
                    f"{confidence} ({top.battery_type_name}); the chemistry is not filled from "
                    "it: give specs.chemistry",
                    (record_pointer("battery", "code"), record_pointer("specs", "chemistry")),
                    details={
                        "letter": top.battery_type,
                        "reading": top.battery_chemistry,
                        "confidence": confidence,
                    },
                )
            return
        named = chemistries(text)
        if not named:
            return  # a chemistry the table does not name: nothing to compare
        coded = top.battery_chemistry
        agrees = not (named - {"other"}) if coded == "other" else coded in named
        if agrees:
            return
        yield Finding(
            "code-chemistry-mismatch",
            f"{letter} means {top.battery_type_name}; specs.chemistry is {text[:60]!r}",
            (record_pointer("battery", "code"), record_pointer("specs", "chemistry")),
            details={"letter": top.battery_type, "reading": coded, "confidence": confidence},
            uncertainty=(
                None
                if confidence == "S"
                else f"the letter {top.battery_type!r} is read with confidence {confidence} only"
            ),
        )

    # -- physics ---------------------------------------------------------------------

    def voltages(self) -> Iterator[Finding]:
        names = ("min_voltage", "nominal_voltage", "max_voltage")
        values = [(n, _quantity(self.specs.get(n), "V")) for n in names]
        known = [(n, v) for n, v in values if v is not None]
        for (low_name, low), (high_name, high) in zip(known, known[1:], strict=False):
            if low > high:
                yield Finding(
                    "voltage-order",
                    f"specs.{low_name} ({low} V) is above specs.{high_name} ({high} V)",
                    (record_pointer("specs", low_name), record_pointer("specs", high_name)),
                    details={low_name: str(low), high_name: str(high)},
                )

    def energy(self) -> Iterator[Finding]:
        capacity = _quantity(self.specs.get("rated_capacity"), "Ah")
        voltage = _quantity(self.specs.get("nominal_voltage"), "V")
        energy = _quantity(self.specs.get("rated_energy"), "Wh")
        if capacity is None or voltage is None or energy is None or energy <= 0:
            return
        product = capacity * voltage
        if abs(product - energy) <= ENERGY_TOLERANCE * energy:
            return
        yield Finding(
            "energy-capacity-mismatch",
            f"specs.rated_energy is {energy.normalize():f} Wh; rated capacity x nominal "
            f"voltage is {product.normalize():f} Wh (tolerance {ENERGY_TOLERANCE * 100:.0f} %)",
            (
                record_pointer("specs", "rated_energy"),
                record_pointer("specs", "rated_capacity"),
                record_pointer("specs", "nominal_voltage"),
            ),
            details={
                "rated_energy_wh": format(energy.normalize(), "f"),
                "capacity_times_voltage_wh": format(product.normalize(), "f"),
                "tolerance": format(ENERGY_TOLERANCE, "f"),
            },
        )

    def category(self) -> Iterator[Finding]:
        category = self.battery.get("category")
        if category == "lmt":
            mass = _quantity(self.specs.get("mass"), "kg")
            if mass is not None and mass > LMT_MAX_MASS_KG:
                yield Finding(
                    "category-mass",
                    f"battery.category is lmt but specs.mass is {mass.normalize():f} kg; an "
                    "LMT battery weighs at most 25 kg (a heavier traction battery is an EV "
                    "battery)",
                    (record_pointer("battery", "category"), record_pointer("specs", "mass")),
                    details={"mass_kg": format(mass.normalize(), "f")},
                )
        elif category in INDUSTRIAL_CATEGORIES:
            energy = _quantity(self.specs.get("rated_energy"), "kWh")
            if energy is not None and energy <= PASSPORT_MIN_INDUSTRIAL_KWH:
                yield Finding(
                    "passport-not-required",
                    f"battery.category is {category} and specs.rated_energy is "
                    f"{energy.normalize():f} kWh; industrial batteries need a passport only "
                    "above 2 kWh",
                    (
                        record_pointer("battery", "category"),
                        record_pointer("specs", "rated_energy"),
                    ),
                    details={"rated_energy_kwh": format(energy.normalize(), "f")},
                )

    def health(self) -> Iterator[Finding]:
        soh = _number(self.usage.get("soh"))
        if soh is not None and soh > 100:
            yield Finding(
                "soh-above-100",
                f"usage.soh is {soh} %; the state of health is a share of the rated capacity",
                (record_pointer("usage", "soh"),),
            )
        remaining = _quantity(self.usage.get("remaining_capacity"), "Ah")
        rated = _quantity(self.specs.get("rated_capacity"), "Ah")
        if remaining is not None and rated is not None and remaining > rated:
            yield Finding(
                "remaining-capacity-above-rated",
                f"usage.remaining_capacity ({remaining.normalize():f} Ah) is above "
                f"specs.rated_capacity ({rated.normalize():f} Ah)",
                (
                    record_pointer("usage", "remaining_capacity"),
                    record_pointer("specs", "rated_capacity"),
                ),
            )

    # -- lifecycle -------------------------------------------------------------------

    def recycled(self) -> Iterator[Finding]:
        day = recycled_on(self.record)
        if day is None:
            return
        events = as_sequence(self.record.get("events"))
        last = max(
            (
                i
                for i, e in enumerate(events)
                if as_mapping(e).get("type") == "recycling" and as_mapping(e).get("date") == day
            ),
            default=None,
        )
        where = record_pointer("events", last) if last is not None else record_pointer("events")
        yield Finding(
            "battery-recycled",
            f"{where}: the battery was recycled on {day}, its last event; its passport "
            "ceases to exist and no new passport is issued",
            (where,),
            details={"recycled_on": day},
        )
