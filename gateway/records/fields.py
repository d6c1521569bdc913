"""Marshmallow fields for the ``cn-trace/1`` record model.

Every value leaves these fields as plain JSON data: decimals as canonical decimal
strings, integers within the exactly representable range of an IEEE double, dates as
ISO strings. That is the rule the passports depend on (no JSON floats, see
``docs/record-model.md``), enforced once, at the door.

marshmallow's own ``Decimal``, ``Date`` and ``Integer`` fields are not used: they return
``Decimal``/``date`` objects, accept floats and ``True``, and ``date.fromisoformat``
accepts the ISO basic form ``20240704`` too, so each needs the stricter rule written here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from gateway import invisible_chars
from gateway.jsonvalues import MAX_SAFE_INTEGER
from gateway.records.platform_fields import PlatformFieldTable, load_platform_fields
from gateway.records.supplement import refused_reason

#: Bounds on decimals so that the canonical (exponent-free) form stays short: a JSON
#: number such as ``1e400`` is a valid ``Decimal`` but no battery quantity.
MAX_INTEGER_DIGITS = 24
MAX_FRACTION_DIGITS = 20

_DECIMAL_LEXICAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
#: A decimal string already in canonical form (see canonical_decimal) and within the
#: digit bounds below: no sign but a minus, no leading or trailing zero, no "-0".
_CANONICAL_DECIMAL = re.compile(
    r"(?:0|-?[1-9][0-9]{0,23})(?:\.[0-9]{0,19}[1-9])?|-0\.[0-9]{0,19}[1-9]"
)
_INTEGER_LEXICAL = re.compile(r"[+-]?[0-9]+")
# C0, DEL, C1 controls and lone surrogates (which cannot be written as UTF-8).
_FORBIDDEN_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# Every character Text refuses, in one expression: a string without any needs one search.
_REFUSED_IN_TEXT = re.compile(f"{_FORBIDDEN_CHARS.pattern}|{invisible_chars.INVISIBLE.pattern}")
#: A plain part of the URLs that marshmallow's validate.URL(schemes={"http", "https"})
#: accepts (see Uri).
_PLAIN_URL = re.compile(
    r"https?://(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,6}"
    r"(?::[0-9]{1,5})?(?:/|[/?#][!-~]+)?"
)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
#: GB/T 34014-2017 §4: 24 characters from [A-Z0-9], position 4 the product type.
#: Only the syntax is checked here; decoding (date, battery type) is gateway.codes' job.
_GBT34014 = re.compile(r"[A-Z0-9]{3}[PMC][A-Z0-9]{20}")
#: Echelon-use form as observed in the Catena-X TractionBatteryCode model: 19
#: characters, no traceability segment, suffix ``R`` + product type.
_GBT34014_ECHELON = re.compile(r"[A-Z0-9]{3}[PMC][A-Z0-9]{13}R[PMC]")
PRODUCT_TYPES = {"P": "pack", "M": "module", "C": "cell"}


def canonical_decimal(value: Decimal) -> str:
    """The canonical lexical form of a decimal: no exponent, no redundant zeros.

    ``Decimal("350.40")`` -> ``"350.4"``, ``Decimal("1E+2")`` -> ``"100"``,
    ``Decimal("-0.0")`` -> ``"0"`` (the XSD 1.1 canonical form of ``xsd:decimal``).

    :param value: a finite decimal.
    :returns: the canonical string.
    """
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", "+0", ""):
        return "0"
    return text


class Text(fields.Field[str]):
    """A non-empty JSON string without control characters, bidirectional controls or
    zero-width characters (:mod:`gateway.invisible_chars`: any text field may be mapped
    to a public passport attribute, and those would change how its page reads).

    :param max_length: longest accepted string, in characters.
    """

    default_error_messages = {
        "type": "must be a string",
        "empty": "must not be empty (leave the field out instead)",
        "control": "contains a control character (U+{code:04X}) at offset {offset}",
        "invisible": "contains a {kind} ({code}) at offset {offset}; invisible formatting "
        "characters are not allowed in text",
        "too_long": "is longer than {max_length} characters",
    }

    def __init__(self, *, max_length: int = 500, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        # The common case: every check below passes (a non-empty, short enough string
        # without a refused character); otherwise they run in order to name the first.
        if (
            isinstance(value, str)
            and 0 < len(value) <= self.max_length
            and _REFUSED_IN_TEXT.search(value) is None
        ):
            return value
        if not isinstance(value, str):
            raise self.make_error("type")
        if not value:
            raise self.make_error("empty")
        bad = _FORBIDDEN_CHARS.search(value)
        if bad:
            raise self.make_error("control", code=ord(bad.group()), offset=bad.start())
        invisible = invisible_chars.find(value)
        if invisible is not None:
            offset, code, kind = invisible
            raise self.make_error("invisible", kind=kind, code=code, offset=offset)
        if len(value) > self.max_length:
            raise self.make_error("too_long", max_length=self.max_length)
        return value


class Enum(Text):
    """A string from a fixed set of values.

    :param choices: the allowed values.
    :param error: message for a value not in ``choices`` (``{input}`` is the value).
    """

    def __init__(self, choices: Iterable[str], *, error: str | None = None, **kwargs: Any) -> None:
        self.choices = tuple(choices)
        if error is None:
            error = "{input!r} is not one of: " + ", ".join(self.choices)
        super().__init__(**kwargs)
        self._one_of = validate.OneOf(self.choices, error=error)
        # The choices that pass every text check: a value equal to one passes both checks
        # below unchanged, so it is accepted without running them.
        self._accepted = frozenset(c for c in self.choices if self._is_text(c))

    def _is_text(self, choice: str) -> bool:
        try:
            return super()._deserialize(choice, None, None) == choice
        except ValidationError:
            return False

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, str) and value in self._accepted:
            return value
        text = super()._deserialize(value, attr, data, **kwargs)
        return str(self._one_of(text))


class Uri(Text):
    """An absolute ``https`` or ``http`` URL."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=2000, **kwargs)
        self._url = validate.URL(schemes={"https", "http"}, error="is not an absolute http(s) URL")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        # marshmallow's URL expression spans every Unicode letter and is slow; the plain
        # form below is a part of what it accepts (an http(s) scheme, a dotted ASCII host
        # name with a 2-6 letter top-level label, a port, then nothing, "/", or /?# and
        # printable ASCII) and passes every text check, so a match is accepted as is.
        if isinstance(value, str) and len(value) <= self.max_length and _PLAIN_URL.fullmatch(value):
            return value
        text = super()._deserialize(value, attr, data, **kwargs)
        return str(self._url(text))


class Email(Text):
    """An e-mail address."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            max_length=254, validate=validate.Email(error="is not an e-mail address"), **kwargs
        )


class Pattern(Text):
    """A string matching a regular expression.

    :param pattern: the expression, matched against the whole string.
    :param rule: what the pattern means, for the error message.
    """

    def __init__(self, pattern: str, rule: str, **kwargs: Any) -> None:
        super().__init__(
            validate=validate.Regexp(f"(?:{pattern})\\Z", error=f"{{input!r}} is not {rule}"),
            **kwargs,
        )
        self.pattern = pattern


class BatteryCode(Text):
    """A GB/T 34014 battery code, checked for syntax only.

    :param product_type: ``"P"``, ``"M"`` or ``"C"`` when the code must name a pack,
        module or cell (GB/T 34014 §4, position 4); ``None`` for any.
    """

    default_error_messages = {
        "syntax": (
            "{input!r} is not a GB/T 34014 code: expected 24 characters A-Z/0-9 with P, M "
            "or C in position 4, or the 19-character echelon-use form ending R+P/M/C"
        ),
        "product_type": (
            "{input!r} is a {actual} code (position 4 {letter!r}); a {expected} code is required"
        ),
    }

    def __init__(self, *, product_type: str | None = None, **kwargs: Any) -> None:
        super().__init__(max_length=24, **kwargs)
        self.product_type = product_type
        # Both code forms with the required product type: a match passes every check
        # below (24 or 19 characters, all A-Z/0-9, so Text's too).
        letter = product_type or "PMC"
        self._valid = re.compile(f"[A-Z0-9]{{3}}[{letter}](?:[A-Z0-9]{{20}}|[A-Z0-9]{{13}}R[PMC])")
        #: A string this pattern matches whole loads as it is (the compiled record schema
        #: checks a list of codes with it in one pass: the cells of a pack).
        self.loads_as_is = self._valid

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, str) and self._valid.fullmatch(value):
            return value
        if isinstance(value, str) and len(value) > 24:
            raise self.make_error("syntax", input=value[:40])
        code = super()._deserialize(value, attr, data, **kwargs)
        if not (_GBT34014.fullmatch(code) or _GBT34014_ECHELON.fullmatch(code)):
            raise self.make_error("syntax", input=code)
        letter = code[3]
        if self.product_type is not None and letter != self.product_type:
            raise self.make_error(
                "product_type",
                input=code,
                letter=letter,
                actual=PRODUCT_TYPES[letter],
                expected=PRODUCT_TYPES[self.product_type],
            )
        return code


class DecimalString(fields.Field[str]):
    """A decimal number, given as a JSON number or a decimal string; loads as a
    canonical decimal string.

    JSON must be parsed with ``parse_float=decimal.Decimal`` (see
    :mod:`gateway.records.reader`); a Python ``float`` is refused because its value
    already lost the digits the sender wrote.

    :param minimum: smallest accepted value, if any.
    :param maximum: largest accepted value, if any.
    """

    default_error_messages = {
        "type": "must be a decimal number or a decimal string",
        "float": "is a binary float; decimals must be parsed exactly (as a string or Decimal)",
        "lexical": "{input!r} is not a decimal number (digits, optional sign and point)",
        "finite": "must be a finite number (NaN and Infinity are not allowed)",
        "range": (
            "is out of range: at most {max_int} integer digits and {max_frac} fraction digits"
        ),
        "minimum": "must be at least {minimum}",
        "maximum": "must be at most {maximum}",
    }

    def __init__(
        self,
        *,
        minimum: Decimal | int | None = None,
        maximum: Decimal | int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.minimum = None if minimum is None else Decimal(minimum)
        self.maximum = None if maximum is None else Decimal(maximum)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, str) and _CANONICAL_DECIMAL.fullmatch(value):
            # Already canonical and within the digit bounds, so only the value bounds
            # remain; out of them, the checks below name the problem.
            number = Decimal(value)
            if (self.minimum is None or number >= self.minimum) and (
                self.maximum is None or number <= self.maximum
            ):
                return value
        if isinstance(value, bool):
            raise self.make_error("type")
        if isinstance(value, float):
            raise self.make_error("float")
        if isinstance(value, str):
            if not _DECIMAL_LEXICAL.fullmatch(value):
                raise self.make_error("lexical", input=value[:40])
            number = Decimal(value)
        elif isinstance(value, int):
            number = Decimal(value)
        elif isinstance(value, Decimal):
            number = value
        else:
            raise self.make_error("type")
        if not number.is_finite():
            raise self.make_error("finite")
        return self._check(number)

    def _check(self, number: Decimal) -> str:
        sign, digits, exponent = number.as_tuple()
        assert isinstance(exponent, int)
        # Trailing zeros of the coefficient do not count as fraction digits.
        while exponent < 0 and len(digits) > 1 and digits[-1] == 0:
            digits, exponent = digits[:-1], exponent + 1
        integer_digits = len(digits) + exponent
        if integer_digits > MAX_INTEGER_DIGITS or -exponent > MAX_FRACTION_DIGITS:
            if any(digits):
                raise self.make_error(
                    "range", max_int=MAX_INTEGER_DIGITS, max_frac=MAX_FRACTION_DIGITS
                )
        if self.minimum is not None and number < self.minimum:
            raise self.make_error("minimum", minimum=self.minimum)
        if self.maximum is not None and number > self.maximum:
            raise self.make_error("maximum", maximum=self.maximum)
        return canonical_decimal(number)


class SafeInteger(fields.Field[int]):
    """A JSON integer within ±(2^53 - 1), the limit the verifier applies.

    :param minimum: smallest accepted value, if any.
    :param maximum: largest accepted value, if any.
    """

    default_error_messages = {
        "type": "must be an integer (a JSON number without fraction or exponent)",
        "range": f"is outside ±(2^53 - 1) ({MAX_SAFE_INTEGER})",
        "minimum": "must be at least {minimum}",
        "maximum": "must be at most {maximum}",
    }

    def __init__(
        self, *, minimum: int | None = None, maximum: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.minimum = minimum
        self.maximum = maximum

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("type")
        if abs(value) > MAX_SAFE_INTEGER:
            raise self.make_error("range")
        if self.minimum is not None and value < self.minimum:
            raise self.make_error("minimum", minimum=self.minimum)
        if self.maximum is not None and value > self.maximum:
            raise self.make_error("maximum", maximum=self.maximum)
        return value


class IsoDate(fields.Field[str]):
    """A calendar date written ``YYYY-MM-DD`` (ISO 8601 extended form); loads as that string."""

    default_error_messages = {
        "type": "must be a date string YYYY-MM-DD",
        "invalid": "{input!r} is not a date in the form YYYY-MM-DD",
        "calendar": "{input!r} is not a calendar date ({reason})",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise self.make_error("type")
        if not _ISO_DATE.fullmatch(value):
            raise self.make_error("invalid", input=value[:40])
        try:
            date.fromisoformat(value)
        except ValueError as e:
            raise self.make_error("calendar", input=value, reason=str(e)) from None
        return value


class YearMonth(fields.Field[str]):
    """A month written ``YYYY-MM`` (``xsd:gYearMonth`` without time zone)."""

    default_error_messages = {"invalid": "{input!r} is not a month in the form YYYY-MM"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-(?:0[1-9]|1[0-2])", value):
            raise self.make_error("invalid", input=str(value)[:40])
        return value


class Timestamp(fields.Field[str]):
    """An RFC 3339 date-time with an explicit offset (``Z`` or ``±hh:mm``)."""

    default_error_messages = {
        "invalid": "{input!r} is not an RFC 3339 date-time with offset, e.g. 2025-02-08T10:12:00Z",
        "calendar": "{input!r} is not a real date-time ({reason})",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str) or not _RFC3339.fullmatch(value):
            raise self.make_error("invalid", input=str(value)[:40])
        try:
            datetime.fromisoformat(value)
        except ValueError as e:
            raise self.make_error("calendar", input=value, reason=str(e)) from None
        return value


class TaggedUnion(fields.Field[Any]):
    """An object whose schema is chosen by its ``type`` member (a discriminated union).

    :param schemas: schema class per ``type`` value.
    """

    default_error_messages = {
        "type": "must be an object",
        "discriminator": "{input!r} is not one of: {choices}",
    }

    def __init__(self, schemas: Mapping[str, type[Schema]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.schemas = dict(schemas)
        self._instances: dict[str, Schema] = {}

    def schema_for(self, kind: str) -> Schema:
        """The (shared) schema instance for one ``type`` value."""
        if kind not in self._instances:
            self._instances[kind] = self.schemas[kind]()
        return self._instances[kind]

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict):
            raise self.make_error("type")
        kind = value.get("type")
        if kind is None:
            raise ValidationError({"type": ["required field is missing"]})
        if not isinstance(kind, str) or kind not in self.schemas:
            message = str(self.error_messages["discriminator"])
            choices = ", ".join(self.schemas)
            raise ValidationError({"type": [message.format(input=kind, choices=choices)]})
        return self.schema_for(kind).load(value)


class StrictBoolean(fields.Field[bool]):
    """A JSON ``true`` or ``false``.

    marshmallow's ``Boolean`` also accepts ``1``, ``"yes"``, ``"on"`` and more; a record
    field either is a boolean or is refused.
    """

    default_error_messages = {"type": "must be true or false"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("type")
        return value


@cache
def value_field(kind: str) -> fields.Field[Any]:
    """The field that checks values of one kind.

    :param kind: one of :data:`gateway.jsonvalues.VALUE_KINDS`.
    :returns: a shared field instance.
    :raises KeyError: an unknown kind.
    """
    by_kind: dict[str, fields.Field[Any]] = {
        "string": Text(max_length=2000),
        "integer": SafeInteger(),
        "decimal-string": DecimalString(),
        "date": IsoDate(),
        "year-month": YearMonth(),
        "uri": Uri(),
        "boolean": StrictBoolean(),
    }
    return by_kind[kind]


def _check_values(
    value: dict[str, Any], kinds: Mapping[str, str], unknown: str, what: str
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key, item in value.items():
        kind = kinds.get(key)
        if kind is None:
            errors[key] = [unknown]
            continue
        if item is None:
            continue
        field = value_field(kind)
        try:
            # Field.deserialize of a value that is neither missing nor null, without
            # marshmallow's wrapper: these fields have no pre- or post-load functions.
            loaded = field._deserialize(item, None, None)
            if field.validators:  # none of the kinds' fields has one today
                field._validate(loaded)
            out[key] = loaded
        except ValidationError as e:
            messages = e.messages if isinstance(e.messages, list) else [str(e.messages)]
            errors[key] = [f"{m} ({what} {kind})" for m in messages]
    if errors:
        raise ValidationError(errors)
    return out


class CatalogValues(fields.Field[dict[str, Any]]):
    """An object keyed by EU attribute catalog keys, each value checked against the
    attribute's JSON type (``gateway.vocab.catalog``).

    :param details: members beyond the catalog, each with its own field: the structure
        behind an attribute the catalog holds as one text (per-material CAS numbers and
        masses, spare-part suppliers), which EU data models ask for in parts.
    """

    default_error_messages = {
        "type": "must be an object keyed by EU attribute catalog keys",
        "unknown": "is not a key of the EU battery passport attribute catalog",
    }

    def __init__(self, details: Mapping[str, fields.Field[Any]] | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.details: Mapping[str, fields.Field[Any]] = dict(details or {})

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict):
            raise self.make_error("type")
        return self.load_parts(value, {k: f.deserialize for k, f in self.details.items()})

    def load_parts(
        self, value: dict[str, Any], details: Mapping[str, Callable[[Any], Any]]
    ) -> dict[str, Any]:
        """Check the catalog members of ``value`` and load its details with ``details``.

        The compiled record schema (:mod:`gateway.records.compiled`) passes its own
        loaders of the detail members; everything else is this one code.

        :param value: the object.
        :param details: a loader per detail member (a key of ``self.details``).
        :returns: the catalog members, then the details in declaration order.
        :raises ValidationError: every refused member, by key.
        """
        plain = {k: v for k, v in value.items() if k not in self.details}
        errors: dict[str, Any] = {}
        for key in list(plain):
            refused = refused_reason(key)
            if refused is not None:
                errors[key] = [refused]
                del plain[key]
        try:
            out = _check_values(
                plain, _catalog_kinds(), str(self.error_messages["unknown"]), "catalog type"
            )
        except ValidationError as e:
            errors.update(e.messages_dict)  # _check_values gives messages by key
            out = {}
        for key in self.details:
            if value.get(key) is None:
                continue
            try:
                out[key] = details[key](value[key])
            except ValidationError as e:
                errors[key] = e.messages
        if errors:
            raise ValidationError(errors)
        return out


@cache
def _catalog_kinds() -> dict[str, str]:
    # The shipped catalog is read once (gateway.vocab.catalog), so its kinds are too.
    from gateway.vocab.catalog import load_catalog

    return {a.key: a.json_type for a in load_catalog()}


class PlatformValues(fields.Field[dict[str, Any]]):
    """An object keyed by the national platform fields of a declared table
    (:mod:`gateway.records.platform_fields`), each value checked against its kind.

    :param table: the declared fields; ``None`` for the table shipped with the gateway.
    """

    default_error_messages = {
        "type": "must be an object keyed by declared national platform fields",
        "unknown": "is not a national platform field declared in platform-fields {version}",
    }

    def __init__(self, table: PlatformFieldTable | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._table = table

    @property
    def table(self) -> PlatformFieldTable:
        """The declared fields this block is checked against."""
        return self._table if self._table is not None else load_platform_fields()

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict):
            raise self.make_error("type")
        table = self.table
        unknown = str(self.error_messages["unknown"]).format(version=table.version)
        return _check_values(value, table.kinds, unknown, "platform field kind")
