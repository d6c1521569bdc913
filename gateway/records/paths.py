"""Source paths of the record model, derived from the marshmallow schemas.

A mapping table names the record fields it reads by these paths: dotted member names,
``[]`` for the entries of a list (``battery.modules[].code``), the members of every event
type under ``events[]`` (``events[].recipient.licence_no``), one
``eu_supplement.<key>`` per EU attribute catalog key and one ``platform_fields.<name>``
per declared national platform field. Walking the schemas and the field table keeps the
list in step with the model.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from types import MappingProxyType
from typing import Any

from marshmallow import Schema, fields

from gateway.records.fields import (
    BatteryCode,
    CatalogValues,
    DecimalString,
    Enum,
    IsoDate,
    PlatformValues,
    SafeInteger,
    TaggedUnion,
    Timestamp,
    Uri,
)
from gateway.records.platform_fields import PlatformFieldTable, load_platform_fields
from gateway.records.schema import RECORD_SCHEMA

PLATFORM_FIELDS = "platform_fields"
# Path kind of each platform field value kind (see field_kinds).
_VALUE_KIND_PATH_KIND = {
    "string": "string",
    "integer": "integer",
    "decimal-string": "decimal",
    "date": "date",
    "year-month": "string",
    "uri": "uri",
    "boolean": "boolean",
}


def _kind(field: fields.Field[Any]) -> str:
    if isinstance(field, fields.Nested):
        return "quantity" if "quantity" in field.metadata else "object"
    if isinstance(field, fields.List):
        return "list"
    for cls, kind in (
        (TaggedUnion, "object"),
        (CatalogValues, "object"),
        (PlatformValues, "object"),
        (DecimalString, "decimal"),
        (SafeInteger, "integer"),
        (IsoDate, "date"),
        (Timestamp, "datetime"),
        (BatteryCode, "code"),
        (Enum, "enum"),
        (Uri, "uri"),
    ):
        if isinstance(field, cls):
            return kind
    return "string"


def _walk_schema(
    schema: Schema, prefix: str, sensitivity: str | None
) -> Iterator[tuple[str, fields.Field[Any], str | None]]:
    for name, field in schema.fields.items():
        yield from _walk_field(f"{prefix}{name}", field, sensitivity)


def _walk_field(
    path: str, field: fields.Field[Any], sensitivity: str | None
) -> Iterator[tuple[str, fields.Field[Any], str | None]]:
    sensitivity = field.metadata.get("sensitivity", sensitivity)
    yield path, field, sensitivity
    if isinstance(field, fields.Nested):
        yield from _walk_schema(field.schema, f"{path}.", sensitivity)
    elif isinstance(field, fields.List):
        yield from _walk_field(f"{path}[]", field.inner, sensitivity)
    elif isinstance(field, TaggedUnion):
        for kind in field.schemas:
            yield from _walk_schema(field.schema_for(kind), f"{path}.", sensitivity)


def _fields() -> Iterator[tuple[str, fields.Field[Any], str | None]]:
    yield from _walk_schema(RECORD_SCHEMA, "", None)


def _platform_kinds(platform_fields: PlatformFieldTable | None) -> dict[str, str]:
    table = platform_fields if platform_fields is not None else load_platform_fields()
    return {f"{PLATFORM_FIELDS}.{f.name}": _VALUE_KIND_PATH_KIND[f.kind] for f in table.fields}


@cache
def field_paths(platform_fields: PlatformFieldTable | None = None) -> frozenset[str]:
    """Every source path of the record model.

    Includes objects and lists as well as their members (``specs.rated_capacity``,
    ``specs.rated_capacity.value``, ``battery.modules``, ``battery.modules[]``),
    ``eu_supplement.<key>`` for every key of the EU attribute catalog (and the paths of
    the supplement's parts, ``eu_supplement.battery_materials[].cas`` ...) and
    ``platform_fields.<name>`` for every declared national platform field.

    :param platform_fields: the declared national platform fields; default: the shipped
        table.
    :returns: the paths.
    :raises CatalogInvalid: the shipped EU attribute catalog is broken.
    :raises ConfigError: the shipped platform field table is broken.
    """
    from gateway.vocab.catalog import load_catalog

    paths = {path for path, _, _ in _fields()}
    paths.update(f"eu_supplement.{a.key}" for a in load_catalog())
    # Beside the catalog keys, the supplement's parts of one-line attributes.
    supplement = RECORD_SCHEMA.fields["eu_supplement"]
    if isinstance(supplement, CatalogValues):
        for name, detail in supplement.details.items():
            paths.update(path for path, _, _ in _walk_field(f"eu_supplement.{name}", detail, None))
    paths.update(_platform_kinds(platform_fields))
    return frozenset(paths)


@cache
def field_kinds(platform_fields: PlatformFieldTable | None = None) -> Mapping[str, str]:
    """The kind of value at each path (without the ``eu_supplement`` keys):
    ``object``, ``list``, ``quantity``, ``string``, ``enum``, ``code``, ``uri``,
    ``decimal`` (a canonical decimal string), ``integer``, ``boolean``, ``date`` or
    ``datetime``.

    :param platform_fields: the declared national platform fields; default: the shipped
        table.
    """
    kinds = {path: _kind(field) for path, field, _ in _fields()}
    kinds.update(_platform_kinds(platform_fields))
    return MappingProxyType(kinds)


@cache
def quantity_units() -> Mapping[str, tuple[str, ...]]:
    """The allowed units of every quantity path, preferred unit first."""
    return MappingProxyType(
        {
            path: field.metadata["units"]
            for path, field, _ in _fields()
            if "quantity" in field.metadata
        }
    )


#: Paths that identify a vehicle or a person, with their class: ``vehicle_identifier``
#: (a VIN, wherever it appears), ``personal`` (the owner) or ``location`` (where the
#: vehicle was). Members of a sensitive object are listed too. Such data stays in China
#: under the cross-border data policy.
SENSITIVE_PATHS: Mapping[str, str] = MappingProxyType(
    {path: sensitivity for path, _, sensitivity in _fields() if sensitivity is not None}
)
