"""Named value transforms a mapping row may apply, and their parameters.

A transform takes the value found at the row's source path and returns the EU value
(``None`` when there is nothing to say). Rows name transforms by string and give their
parameters as JSON, so the registry checks both when a table is loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from gateway.errors import TransformError
from gateway.jsonvalues import JsonType

Value = Any


@dataclass(frozen=True)
class Context:
    """What a transform may read besides its value.

    :ivar base_url: public base of the issuing gateway (passport ids live under it).
    :ivar decode_code: GB/T 34014 decoder, injected so this module does not import codes/.
    :ivar passport_of: the passport id of a battery code when the issuer knows that
        passport (None when it does not), injected so this module does not import the
        store; without it no passport counts as known.
    """

    record: Mapping[str, Any]
    base_url: str
    decode_code: Callable[[str], Mapping[str, Any]]
    cache: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    passport_of: Callable[[str], str | None] | None = None

    def decoded(self, code: str) -> Mapping[str, Any]:
        if code not in self.cache:
            self.cache[code] = self.decode_code(code)
        return self.cache[code]


@dataclass(frozen=True)
class Transform:
    name: str
    function: Callable[..., Value]
    params: Mapping[str, type]
    optional: frozenset[str]
    unit_param: str | None
    outputs: frozenset[JsonType] | None
    description: str


REGISTRY: dict[str, Transform] = {}


class Refused(Exception):
    """A transform declines to give a value the record has, for a reason the gap report
    shows (an unverified reading, a check that fails); the next row is tried."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Multilingual:
    """Text the record carries in more than one language.

    :ivar text: the plain value: English when present, else the first given.
    :ivar languages: ``(BCP 47 tag, text)`` pairs, in the order the row names them.
    """

    text: str
    languages: tuple[tuple[str, str], ...]


def transform(
    name: str,
    *,
    params: Mapping[str, type] | None = None,
    optional: tuple[str, ...] = (),
    unit_param: str | None = None,
    outputs: tuple[JsonType, ...] | None = None,
) -> Callable[[Callable[..., Value]], Callable[..., Value]]:
    """Register a transform under ``name``.

    :param params: parameter name -> expected JSON type (str, int, dict, list, bool).
    :param optional: the parameters that may be left out.
    :param unit_param: the parameter holding the unit the transform outputs, checked
        against the EU attribute's unit when a table is validated.
    :param outputs: the catalog JSON types (``Attribute.json_type``) the result can
        fill; None for transforms that pass the national value's type through.
    """

    def register(function: Callable[..., Value]) -> Callable[..., Value]:
        REGISTRY[name] = Transform(
            name=name,
            function=function,
            params=dict(params or {}),
            optional=frozenset(optional),
            unit_param=unit_param,
            outputs=frozenset(outputs) if outputs is not None else None,
            description=(function.__doc__ or "").strip().splitlines()[0],
        )
        return function

    return register


def check_params(name: str, params: Mapping[str, Any]) -> list[str]:
    """Problems with a row's transform name and parameters (empty list if none)."""
    if name not in REGISTRY:
        return [f"transform {name!r} is not registered (known: {', '.join(sorted(REGISTRY))})"]
    spec = REGISTRY[name]
    problems = []
    for key, value in params.items():
        if key in ENGINE_PARAMS:
            continue
        if key not in spec.params:
            problems.append(f"transform {name!r} takes no parameter {key!r}")
        elif not isinstance(value, spec.params[key]):
            problems.append(
                f"transform {name!r} parameter {key!r} must be {spec.params[key].__name__}"
            )
    for key in spec.params:
        if key not in params and key not in spec.optional:
            problems.append(f"transform {name!r} needs parameter {key!r}")
    return problems


def apply(name: str, value: Value, context: Context, params: Mapping[str, Any]) -> Value:
    spec = REGISTRY[name]
    own = {k: v for k, v in params.items() if k not in ENGINE_PARAMS}
    return spec.function(value, context, **own)


DECIMAL: JsonType = "decimal-string"

# Parameters the engine reads itself, not passed to transforms: the selection of list
# items (``where``, ``pick``), the separator that joins several items into one text
# (``join``) and the path of a dynamic value's measurement time (``as_of``).
ENGINE_PARAMS = frozenset({"where", "pick", "join", "as_of"})


# Units the record model allows, as factors to a base unit per dimension.
UNITS: dict[str, tuple[str, Decimal]] = {
    "mAh": ("charge", Decimal("0.001")),
    "Ah": ("charge", Decimal(1)),
    "mV": ("voltage", Decimal("0.001")),
    "V": ("voltage", Decimal(1)),
    "Wh": ("energy", Decimal(1)),
    "kWh": ("energy", Decimal(1000)),
    "MWh": ("energy", Decimal(1_000_000)),
    "g": ("mass", Decimal("0.001")),
    "kg": ("mass", Decimal(1)),
    "t": ("mass", Decimal(1000)),
    "W": ("power", Decimal(1)),
    "kW": ("power", Decimal(1000)),
    "mOhm": ("resistance", Decimal("0.001")),
    "Ohm": ("resistance", Decimal(1)),
    "°C": ("temperature", Decimal(1)),
    "%": ("ratio", Decimal(1)),
    "W/Wh": ("power/energy", Decimal(1)),
}


def decimal_string(value: Decimal | int | str) -> str:
    """Canonical decimal text: no exponent, no trailing zeros (``"350.4"``, ``"150"``).

    Passports carry non-integer quantities as strings typed xsd:decimal (DESIGN §5).
    """
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise TransformError(f"{value!r} is not a decimal number") from exc
    if not number.is_finite():
        raise TransformError(f"{value!r} is not a finite number")
    text = format(number.normalize(), "f")
    return "0" if text in {"-0", "0"} else text


def convert_unit(amount: Decimal | int | str, from_unit: str, to_unit: str) -> Decimal:
    try:
        from_dim, from_factor = UNITS[from_unit]
        to_dim, to_factor = UNITS[to_unit]
    except KeyError as exc:
        raise TransformError(f"unknown unit {exc.args[0]!r}") from None
    if from_dim != to_dim:
        raise TransformError(f"cannot convert {from_unit} ({from_dim}) to {to_unit} ({to_dim})")
    return Decimal(str(amount)) * from_factor / to_factor


@transform("identity")
def identity(value: Value, context: Context) -> Value:
    """The national value as it is."""
    return value


@transform("decimal", outputs=(DECIMAL,))
def decimal_(value: Value, context: Context) -> str:
    """A number as canonical decimal text."""
    return decimal_string(value)


@transform("integer", outputs=("integer",))
def integer(value: Value, context: Context) -> int:
    """A whole number; refuses fractions instead of rounding them away."""
    number = Decimal(str(value))
    if number != number.to_integral_value():
        raise TransformError(f"{value!r} is not a whole number")
    return int(number)


@transform("quantity", params={"unit": str}, unit_param="unit", outputs=(DECIMAL,))
def quantity(value: Value, context: Context, *, unit: str) -> str:
    """A ``{value, unit}`` quantity converted to ``unit``, as decimal text."""
    return decimal_string(convert_unit(value["value"], value["unit"], unit))


@transform("range_bound", params={"bound": str, "unit": str}, unit_param="unit", outputs=(DECIMAL,))
def range_bound(value: Value, context: Context, *, bound: str, unit: str) -> str | None:
    """One end (``min`` or ``max``) of a ``{min, max, unit}`` range, in ``unit``."""
    if bound not in {"min", "max"}:
        raise TransformError(f"range_bound: bound must be 'min' or 'max', not {bound!r}")
    if value.get(bound) is None:
        return None
    return decimal_string(convert_unit(value[bound], value["unit"], unit))


@transform(
    "ratio",
    params={"numerator": str, "denominator": str, "unit": str, "places": int},
    unit_param="unit",
    outputs=(DECIMAL,),
)
def ratio(
    value: Value, context: Context, *, numerator: str, denominator: str, unit: str, places: int
) -> str | None:
    """Ratio of two quantities of an object, e.g. power / energy in W/Wh."""
    top, bottom = value.get(numerator), value.get(denominator)
    if not top or not bottom:
        return None
    top_unit, bottom_unit = unit.split("/")
    low = convert_unit(bottom["value"], bottom["unit"], bottom_unit)
    if low == 0:
        raise TransformError(f"{denominator} is zero")
    result = convert_unit(top["value"], top["unit"], top_unit) / low
    return decimal_string(result.quantize(Decimal(1).scaleb(-places)))


@transform("complement_percent", outputs=(DECIMAL,))
def complement_percent(value: Value, context: Context) -> str:
    """100 minus a percentage (capacity fade from a capacity-based state of health)."""
    return decimal_string(Decimal(100) - Decimal(str(value)))


@transform("year_month", outputs=("year-month",))
def year_month(value: Value, context: Context) -> str:
    """An ISO date cut to its month, ``YYYY-MM``."""
    return str(value)[:7]


@transform("enum", params={"values": dict})
def enum(value: Value, context: Context, *, values: Mapping[str, str]) -> str:
    """A national code translated by the given table; an unlisted code is an error."""
    try:
        return values[str(value)]
    except KeyError:
        raise TransformError(
            f"{value!r} is not in the enumeration map ({', '.join(sorted(values))})"
        ) from None


# The code segment whose letter a decoded value is read from, for the decoder's
# confidence (``ambiguities[].segment``); a segment not listed is its own.
_READ_FROM = {
    "battery_type_name": "battery_type",
    "battery_type_name_zh": "battery_type",
    "battery_chemistry": "battery_type",
    "product_type_name": "product_type",
    "product_type_name_zh": "product_type",
    "production_date": "production_date_code",
    "year": "production_date_code",
    "month": "production_date_code",
    "day": "production_date_code",
}


@transform("code_segment", params={"segment": str})
def code_segment(value: Value, context: Context, *, segment: str) -> Value:
    """A decoded part of a GB/T 34014 code (``battery_type_name``, ``serial_number`` ...).

    A part read from a letter the code tables hold with probable or unverified
    confidence is refused: a regulated field states facts, and the gap report gives the
    decoder's reading and its confidence instead.
    """
    decoded = context.decoded(str(value))
    if segment not in decoded:
        raise TransformError(f"GB/T 34014 decode has no segment {segment!r}")
    read_from = _READ_FROM.get(segment, segment)
    confidence = decoded.get("confidence")
    if isinstance(confidence, Mapping) and confidence.get(read_from, "S") != "S":
        raise Refused(
            f"GB/T 34014 {read_from.replace('_', ' ')} read with confidence "
            f"{confidence[read_from]} (not confirmed); not used for a regulated field"
        )
    for ambiguity in decoded.get("ambiguities") or ():
        if isinstance(ambiguity, Mapping) and ambiguity.get("segment") == read_from:
            raise Refused(
                f"GB/T 34014 {ambiguity.get('reason', read_from)}; a reading that is not "
                "confirmed never fills a regulated field"
            )
    return decoded[segment]


@transform("passport_url", outputs=("uri", "string"))
def passport_url(value: Value, context: Context) -> str:
    """The passport id for a battery code: an HTTPS URL under the gateway's base."""
    return f"{context.base_url.rstrip('/')}/passports/{value}"


@transform("known_passport", outputs=("uri", "string"))
def known_passport(value: Value, context: Context) -> str:
    """The id of a battery's passport, when the issuer knows that passport.

    A passport id is never built for a battery whose passport may not exist or may live
    with another issuer (a predecessor's, Art. 77(7)); the record or its supplement
    names such a passport instead.
    """
    found = context.passport_of(str(value)) if context.passport_of is not None else None
    if found is None:
        raise Refused(
            f"no passport of battery {value} is known to this gateway; name it in "
            "eu_supplement.predecessor_passport_id"
        )
    return found


@transform(
    "join", params={"fields": list, "separator": str}, optional=("separator",), outputs=("string",)
)
def join(value: Value, context: Context, *, fields: list[str], separator: str = ", ") -> str | None:
    """The given fields of an object joined into one text, skipping empty ones."""
    parts = [str(value[f]) for f in fields if value.get(f) not in (None, "")]
    return separator.join(parts) if parts else None


@transform(
    "labelled",
    params={"fields": dict, "separator": str},
    optional=("separator",),
    outputs=("string",),
)
def labelled(
    value: Value, context: Context, *, fields: Mapping[str, str], separator: str = "; "
) -> str | None:
    """Fields of an object as ``label: value`` pairs, skipping empty ones."""
    parts = [
        f"{label}: {value[f]}" for f, label in fields.items() if value.get(f) not in (None, "")
    ]
    return separator.join(parts) if parts else None


@transform("alarm_events", params={"min_level": int}, outputs=("string",))
def alarm_events(value: Value, context: Context, *, min_level: int) -> Value:
    """Alarm counts per type at or above ``min_level``, with the period they cover.

    Reads the aggregate the data policy computes (``gateway.policy.aggregates``):
    ``insulation, level 3: 1 (2025-10 to 2026-04)``, or ``none recorded at level >= 3
    from 2024-07 to 2026-04``.

    Individual alarms never reach a passport: a value that is not the aggregate is
    refused rather than written with its timestamp.
    """
    if not isinstance(value, Mapping) or not isinstance(value.get("counts"), list):
        raise TransformError(
            "alarm_events reads the alarm counts the data policy computes, not individual alarms"
        )
    start, end = value.get("from"), value.get("to")
    if start and end:
        span, within = f"{start} to {end}", f"from {start} to {end}"
    elif start or end:
        span = within = f"from {start}" if start else f"until {end}"
    else:
        span, within = "period not recorded", "(period not recorded)"
    counts = [c for c in value["counts"] if c.get("level", 0) >= min_level]
    if not counts:
        return f"none recorded at level >= {min_level} {within}"
    return "; ".join(f"{c['type']}, level {c['level']}: {c['count']} ({span})" for c in counts)


@transform("multilingual", params={"fields": dict}, outputs=("string",))
def multilingual(value: Value, context: Context, *, fields: Mapping[str, str]) -> Value:
    """Text an object holds in several languages: ``{"en": "name_en", "zh": "name"}``.

    The value is the English text when present, else the first language given; every
    language present is kept with its BCP 47 tag for the passport's language map.
    """
    given = tuple(
        (tag, str(value[name])) for tag, name in fields.items() if value.get(name) not in (None, "")
    )
    if not given:
        return None
    text = next((t for tag, t in given if tag == "en"), given[0][1])
    return Multilingual(text, given) if len(given) > 1 else text


# GB 32100-2015 (unified social credit code, 统一社会信用代码), section 4 and annex:
# 18 characters from a 31-character alphabet (digits and capitals without I, O, Z, S, V);
# character 18 is a check character over the first 17 with weights 3^(i-1) mod 31.
# No maintained Python library implements it, hence this short transcription.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_SCHEME = "GB32100"


def uscc_check_character(first17: str) -> str:
    """The GB 32100-2015 check character of the first 17 characters of a USCC.

    :raises ValueError: a character outside the code's alphabet, or not 17 of them.
    """
    if len(first17) != len(USCC_WEIGHTS):
        raise ValueError("a USCC has 17 characters before its check character")
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


@transform("uscc", outputs=("string",))
def uscc(value: Value, context: Context) -> str:
    """A unified social credit code with its scheme, ``GB32100:<code>``, once its check
    character (GB 32100-2015) is verified; a code that fails the check is refused."""
    code = str(value)
    try:
        expected = uscc_check_character(code[:17])
    except ValueError:
        raise Refused(
            "the unified social credit code is not 18 characters of the GB 32100 alphabet"
        ) from None
    if len(code) != 18 or code[17] != expected:
        raise Refused("the unified social credit code fails its GB 32100-2015 check character")
    return f"{USCC_SCHEME}:{code}"


# Events that record damage or a fault of the battery itself (Annex XIII 4(d)).
NEGATIVE_EVENTS = ("repair", "replacement")


@transform("negative_event", outputs=("string",))
def negative_event(value: Value, context: Context) -> str | None:
    """A repair or replacement event as ``<type> <date>: <reason>``; other events give
    nothing."""
    if not isinstance(value, Mapping) or value.get("type") not in NEGATIVE_EVENTS:
        return None
    reason = value.get("reason")
    return f"{value['type']} {value['date']}" + (f": {reason}" if reason else "")


#: The parts of the record's ``battery.dimensions_mm``, named as the passport's
#: structured ``physicalDimensions`` names them (context v4).
DIMENSION_PARTS = ("length", "width", "height")


@transform("dimensions", outputs=(DECIMAL,))
def dimensions(value: Value, context: Context) -> dict[str, str] | None:
    """The record's length, width and height as one structured value, each part named.

    RDF keeps no order among a property's values, so the three lengths travel as named
    parts, never as a list; the parts the record leaves out are left out.
    """
    if not isinstance(value, Mapping):
        raise TransformError("expects an object of length, width and height")
    parts = {
        name: decimal_string(value[name]) for name in DIMENSION_PARTS if value.get(name) is not None
    }
    return parts or None


@transform("accident_history", params={"min_level": int}, outputs=("string",))
def accident_history(value: Value, context: Context, *, min_level: int) -> str | None:
    """Repairs and replacements with the BMS alarm counts, as one statement.

    Annex XIII 4(d) asks for accidents and negative events; the record holds two kinds:
    repair and replacement events, and the BMS alarms. Both are stated together:
    ``repair 2025-02-10: ...; replacement ... . BMS alarms: insulation, level 3: 1
    (2024-07 to 2025-11)``, or ``no repair or replacement recorded. BMS alarms: none
    recorded at level >= 3 from 2024-07 to 2026-04``.

    The row reads ``usage.alarms``, so the statement leaves only when the data policy
    released the alarm counts (and names the approval that did); otherwise the row is
    withheld and the rows that state the repairs alone answer. Its value is the counts
    the policy computed (:func:`alarm_events`); alarms it did not summarise (timed events)
    are never stated. The row's ``as_of`` lists the usage date and the events' dates, so
    the statement is dated by the later of them.
    """
    if not isinstance(value, Mapping):
        return None
    repairs = [
        text
        for event in context.record.get("events") or ()
        for text in [negative_event(event, context)]
        if text is not None
    ]
    said = "; ".join(repairs).rstrip(".") if repairs else "no repair or replacement recorded"
    return f"{said}. BMS alarms: {alarm_events(value, context, min_level=min_level)}"
