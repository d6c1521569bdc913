"""The Battery Pass projection table: which catalog attribute fills which property of
which Battery Pass 1.2 aspect, and how its value is converted.

``vocab/batterypass/projection.json`` is read once and checked against the attribute
catalog and the aspect schemas (Draft 4, ``vocab/batterypass/``); the export itself is
:mod:`gateway.transform.batterypass`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from gateway.errors import ConfigError
from gateway.paths import VOCAB_DIR
from gateway.vocab.catalog import load_catalog

BATTERYPASS_DIR = VOCAB_DIR / "batterypass"
PROJECTION_PATH = BATTERYPASS_DIR / "projection.json"

#: The aspects in the order of the Battery Pass data model's folders.
ASPECTS = (
    "GeneralProductInformation",
    "Labels",
    "CarbonFootprint",
    "SupplyChainDueDiligence",
    "MaterialComposition",
    "Circularity",
    "Performance",
)
CONVERSIONS = frozenset(
    {
        "text",
        "text-list",
        "language-text",
        "number",
        "integer",
        "share-of",
        "date-time",
        "enum",
        "chemistry-name",
        "urn-alias",
        "address-part",
        "boolean",
        "objects",
    }
)
EACH = frozenset({"value", "element", "position", "all"})
#: The parts of a record's structured address (record model) an ``address-part`` rule
#: may take.
ADDRESS_PARTS = frozenset({"street", "postal_code", "city", "province", "country"})


@dataclass(frozen=True)
class Rule:
    """One catalog attribute feeding one Battery Pass property.

    :ivar path: dotted property path in the aspect payload; ``a[].b`` is property ``b``
        of the elements of array ``a``.
    :ivar each: ``value`` (plain property), ``element`` (the array element whose
        ``constants`` match), ``position`` (one element per value, joined by position with
        the other ``position`` rules of the array) or ``all`` (every element present).
    :ivar part: for ``address-part``: which part of the structured address (a member of
        :data:`ADDRESS_PARTS`).
    :ivar stamp: for a dynamic value: the path of the ``lastUpdate`` that goes with it
        (in the same array element), set to the time the value was measured.
    :ivar detail: where the value comes from when the catalog holds the attribute as one
        text and the record's EU supplement gives its parts: ``<member>.<field>`` (a
        dotted path inside each item of the supplement's list ``member``); the attribute
        ``key`` must be exported for the parts to be (its Annex XIII point, and the
        passport stating it). One array element per item.
    """

    key: str
    aspect: str
    path: str
    convert: str
    each: str = "value"
    constants: Mapping[str, Any] = field(default_factory=dict, hash=False)
    values: Mapping[str, str] = field(default_factory=dict, hash=False)
    scale: Decimal = Decimal(1)
    total: str | None = None
    language: str | None = None
    part: str | None = None
    stamp: str | None = None
    detail: str | None = None

    @property
    def member(self) -> str | None:
        """The EU supplement member a ``detail`` rule reads."""
        return self.detail.split(".", 1)[0] if self.detail else None


@dataclass(frozen=True)
class Unprojectable:
    """Battery Pass properties that no catalog attribute can fill, and why."""

    key: str | None
    aspect: str
    paths: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class Projection:
    """The projection table and the aspect schemas it targets."""

    rules: tuple[Rule, ...]
    unprojectable: tuple[Unprojectable, ...]
    schemas: Mapping[str, Mapping[str, Any]] = field(hash=False)
    models: Mapping[str, str] = field(hash=False)


def resolve(schema: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    """The schema node that holds the type of ``node`` (its ``$ref`` and ``allOf`` followed)."""
    # The generated schemas reference only "#/components/schemas/<Name>" and wrap
    # entities in a one-item allOf; following both gives the node that holds the type.
    while True:
        if "$ref" in node:
            node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
        elif "allOf" in node and "properties" not in node:
            node = node["allOf"][0]
        else:
            return node


def node_at(schema: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    """The schema node of a Battery Pass path (``a[].b`` steps into array items).

    :raises KeyError: the path names a property the schema does not have.
    """
    node = resolve(schema, schema)
    for step in path.split("."):
        name, is_array = (step[:-2], True) if step.endswith("[]") else (step, False)
        node = resolve(schema, node["properties"][name])
        if is_array:
            if node.get("type") != "array":
                raise KeyError(f"{step} is not an array")
            node = resolve(schema, node["items"])
    return node


def load_projection(path: Path = PROJECTION_PATH) -> Projection:
    """Read and check a projection table (the schemas it names sit beside it).

    :raises ConfigError: the table names an unknown attribute, aspect, conversion or path.
    """
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ConfigError(f"{path.name}: {e}") from e
    catalog = load_catalog()
    schemas: dict[str, Mapping[str, Any]] = {}
    models: dict[str, str] = {}
    for aspect in ASPECTS:
        entry = table["aspects"][aspect]
        schema_path = BATTERYPASS_DIR / entry["schema"]
        schemas[aspect] = json.loads(schema_path.read_text(encoding="utf-8"))
        models[aspect] = entry["model"]

    def bad(where: str, rule: str) -> ConfigError:
        return ConfigError(f"{path.name}, {where}: {rule}")

    rules = []
    for n, raw in enumerate(table["rules"]):
        where = f"/rules/{n}"
        try:
            rule = Rule(
                key=raw["key"],
                aspect=raw["aspect"],
                path=raw["path"],
                convert=raw["convert"],
                each=raw.get("each", "value"),
                constants=MappingProxyType(dict(raw.get("constants", {}))),
                values=MappingProxyType(dict(raw.get("values", {}))),
                scale=Decimal(raw.get("scale", "1")),
                total=raw.get("total"),
                language=raw.get("language"),
                part=raw.get("part"),
                stamp=raw.get("stamp"),
                detail=raw.get("detail"),
            )
        except KeyError as e:
            raise bad(where, f"member {e} is missing") from e
        except InvalidOperation as e:
            raise bad(where, f"scale {raw.get('scale')!r} is not a decimal") from e
        if rule.key not in catalog.by_key:
            raise bad(where, f"key {rule.key!r} is not in the attribute catalog")
        if rule.aspect not in schemas:
            raise bad(where, f"aspect {rule.aspect!r} is not a Battery Pass aspect")
        if rule.convert not in CONVERSIONS:
            raise bad(where, f"conversion {rule.convert!r} is not one of {sorted(CONVERSIONS)}")
        if rule.each not in EACH:
            raise bad(where, f"each {rule.each!r} is not one of {sorted(EACH)}")
        if (rule.each == "value") == ("[]." in rule.path):
            raise bad(where, "an array path needs 'each', a plain path must not have it")
        if rule.convert == "share-of" and rule.total not in catalog.by_key:
            raise bad(where, "a share-of conversion names its total's catalog key")
        if (rule.convert == "address-part") != (rule.part is not None):
            raise bad(where, "an address-part conversion, and only it, names its part")
        if rule.part is not None and rule.part not in ADDRESS_PARTS:
            raise bad(where, f"part {rule.part!r} is not one of {sorted(ADDRESS_PARTS)}")
        if rule.detail is not None and ("." not in rule.detail or rule.each != "position"):
            raise bad(where, "a detail names '<member>.<field>' and fills one element per item")
        if rule.convert == "objects" and not rule.values:
            raise bad(where, "an objects conversion names its fields in 'values'")
        if rule.stamp is not None and (
            rule.stamp.rsplit("[].", 1)[0] != rule.path.rsplit("[].", 1)[0]
            if "[]." in rule.path
            else "[]." in rule.stamp
        ):
            raise bad(where, "a stamp sits beside its value (in the same array element)")
        try:
            if rule.stamp is not None:
                node_at(schemas[rule.aspect], rule.stamp)
            node_at(schemas[rule.aspect], rule.path)
            for constant in rule.constants:
                node_at(schemas[rule.aspect], f"{rule.path.rsplit('[].', 1)[0]}[].{constant}")
        except KeyError as e:
            raise bad(where, f"path {rule.path!r} is not in the {rule.aspect} schema ({e})") from e
        rules.append(rule)
    unprojectable = tuple(
        Unprojectable(raw.get("key"), raw["aspect"], tuple(raw["paths"]), raw["reason"])
        for raw in table["unprojectable"]
    )
    # Rules that fill every element run last, once the other rules have made the elements.
    rules.sort(key=lambda r: r.each == "all")
    return Projection(
        tuple(rules), unprojectable, MappingProxyType(schemas), MappingProxyType(models)
    )


@cache
def projection() -> Projection:
    """The shipped projection table, read and checked once.

    :raises ConfigError: the table names an unknown attribute, aspect, conversion or path.
    """
    return load_projection()
