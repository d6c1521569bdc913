"""The XML form of a record: safe parsing, XSD validation, and conversion to and from
the JSON form.

The XML form mirrors the JSON one (``record.xsd``): elements named like JSON members, a
list as a container of item elements, an event's ``type`` and the record's
``model_version`` as attributes. After XSD validation the document is converted to the
JSON form, guided by the marshmallow schemas, and checked by the same record schema;
problems found there are reported with the XPath and line of the XML element.

Hostile input is refused: no DTD is loaded, no entity is resolved, nothing is fetched
from the network, and any document type declaration (the carrier of billion-laughs and
external-entity attacks) is refused outright.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lxml import etree  # type: ignore[import-untyped]  # no stubs shipped
from marshmallow import Schema, fields

from gateway import jsonpointer
from gateway.errors import InvalidRecord, UnsafeInput
from gateway.records import redaction
from gateway.records.fields import (
    CatalogValues,
    DecimalString,
    IsoDate,
    PlatformValues,
    SafeInteger,
    StrictBoolean,
    TaggedUnion,
    Timestamp,
    YearMonth,
)
from gateway.records.platform_fields import NAME_PATTERN, PlatformFieldTable
from gateway.records.schema import RECORD_SCHEMA, EventSchema, RecordSchema, record_schema
from gateway.records.validation import Problem, invalid, validate_record

NAMESPACE = "https://w3id.org/cn-eu-battery/ns/record/1"
XSD_PATH = Path(__file__).with_name("record.xsd")
ROOT_NAME = "record"
#: Members carried as XML attributes: the record's model version, an event's type.
ROOT_ATTRIBUTES = ("model_version",)
EVENT_ATTRIBUTES = ("type",)
#: One national platform field: ``<platform_fields><field name="...">value</field>``.
#: A generic element keeps the XSD fixed while the field table grows.
PLATFORM_FIELD = "field"
PLATFORM_FIELD_NAME = "name"

_NS_PREFIX = "{" + NAMESPACE + "}"
_INTEGER = re.compile(r"[+-]?[0-9]{1,64}")
# Types whose XSD whitespace facet is "collapse": surrounding blanks are not data.
_COLLAPSED = (DecimalString, SafeInteger, IsoDate, Timestamp, YearMonth, StrictBoolean)
_COLLAPSED_JSON_TYPES = frozenset(
    {"integer", "decimal-string", "date", "year-month", "uri", "boolean"}
)
# xs:boolean lexical space (XSD 1.1 Part 2 §3.3.2).
_XML_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def _parser() -> etree.XMLParser:
    # A new parser per document: lxml parsers keep state and are not shared across threads.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        dtd_validation=False,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


_local = threading.local()


def xml_schema() -> etree.XMLSchema:
    """The record XSD (``record.xsd``), compiled once per thread.

    A validator keeps its error log on itself, so threads do not share one.
    """
    schema = getattr(_local, "schema", None)
    if schema is None:
        schema = _local.schema = etree.XMLSchema(etree.parse(str(XSD_PATH), _parser()))
    return schema


def _walk_items(schema: Schema, out: set[str]) -> set[str]:
    for field in schema.fields.values():
        _walk_field_items(field, out)
    return out


def _walk_field_items(field: fields.Field[Any], out: set[str]) -> None:
    if isinstance(field, fields.Nested):
        _walk_items(field.schema, out)
    elif isinstance(field, fields.List):
        out.add(field.metadata["xml_item"])
        _walk_field_items(field.inner, out)
    elif isinstance(field, TaggedUnion):
        for kind in field.schemas:
            _walk_items(field.schema_for(kind), out)


#: Element names of list entries; their XPath steps carry a position.
ITEM_NAMES = frozenset(_walk_items(RECORD_SCHEMA, set()))


def xpath_of(element: etree._Element) -> str:
    """A readable XPath of an element: local names, positions on list entries
    (``/record/events/event[2]/date``), names on platform fields
    (``/record/platform_fields/field[@name='digital_id']``).
    """
    steps: list[str] = []
    node: etree._Element | None = element
    while node is not None:
        name = etree.QName(node).localname
        field_name = node.get(PLATFORM_FIELD_NAME, "")
        if name == PLATFORM_FIELD and NAME_PATTERN.fullmatch(field_name):
            name = f"{name}[@{PLATFORM_FIELD_NAME}='{field_name}']"
        elif name in ITEM_NAMES or name == PLATFORM_FIELD:
            position = sum(1 for _ in node.itersiblings(node.tag, preceding=True)) + 1
            name = f"{name}[{position}]"
        steps.append(name)
        node = node.getparent()
    return "/" + "/".join(reversed(steps))


def _refuse_unsafe(data: bytes, tree: etree._ElementTree | None = None) -> None:
    if tree is None:
        # Checked before parsing, so that no declaration is ever read.
        for marker, what in ((b"<!DOCTYPE", "DOCTYPE"), (b"<!ENTITY", "ENTITY")):
            offset = data.find(marker)
            if offset >= 0:
                raise _unsafe(
                    f"byte {offset}: {what} declarations are refused (no DTDs, no entities)"
                )
        return
    # The same check after parsing catches declarations in other encodings (UTF-16...).
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise _unsafe("DOCTYPE declarations are refused (no DTDs, no entities)")


def _unsafe(message: str) -> UnsafeInput:
    return UnsafeInput(message, pointer="/", errors=[{"pointer": "/", "message": message}])


def _clean(message: str) -> str:
    return message.replace(_NS_PREFIX, "")


def parse_xml(data: bytes) -> etree._Element:
    """Parse and XSD-validate an XML record.

    :param data: the document bytes.
    :returns: the root element.
    :raises UnsafeInput: the document has a document type or entity declaration.
    :raises InvalidRecord: the document is not well-formed or breaks ``record.xsd``;
        every XSD problem is listed with its XPath and line.
    """
    _refuse_unsafe(data)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as e:
        line = e.lineno or 0
        message = f"line {line}: not well-formed XML ({e.msg})"
        raise InvalidRecord(
            message, pointer="/", errors=[{"pointer": "/", "message": message, "line": line}]
        ) from None
    tree = root.getroottree()
    _refuse_unsafe(data, tree)
    schema = xml_schema()
    if not schema.validate(root):
        problems: list[Problem] = []
        for error in schema.error_log:
            found = tree.xpath(error.path) if error.path else []
            where = xpath_of(found[0]) if found else "/"
            message = _clean(error.message)
            if found and redaction.is_withheld(redaction.xpath_path(where)):
                # libxml2 quotes the refused value; a withheld field's must not leave.
                message = redaction.redact(message, found[0].text or "")
            problems.append({"pointer": where, "message": message, "line": error.line})
        raise invalid(problems)
    return root


class _Reader:
    """Converts a valid XML record to the JSON form, remembering where each member was."""

    def __init__(self, schema: RecordSchema) -> None:
        self.schema = schema
        self.where: dict[str, tuple[etree._Element, str | None]] = {}
        self.problems: list[Problem] = []

    def record(self, root: etree._Element) -> dict[str, Any]:
        return self.object(root, self.schema, "")

    def object(self, element: etree._Element, schema: Schema, pointer: str) -> dict[str, Any]:
        self.where[pointer] = (element, None)
        out: dict[str, Any] = {}
        for name, value in element.attrib.items():
            out[name] = value
            self.where[f"{pointer}/{name}"] = (element, name)
        for child in element:
            name = etree.QName(child).localname
            out[name] = self.value(child, schema.fields.get(name), f"{pointer}/{name}")
        return out

    def value(self, element: etree._Element, field: fields.Field[Any] | None, pointer: str) -> Any:
        self.where[pointer] = (element, None)
        if isinstance(field, fields.Nested):
            return self.object(element, field.schema, pointer)
        if isinstance(field, fields.List):
            return [
                self.value(item, field.inner, f"{pointer}/{i}") for i, item in enumerate(element)
            ]
        if isinstance(field, TaggedUnion):
            kind = element.get("type")
            schema = field.schema_for(kind) if kind in field.schemas else EventSchema()
            return self.object(element, schema, pointer)
        if isinstance(field, CatalogValues):
            return self.catalog_values(element, pointer, field)
        if isinstance(field, PlatformValues):
            return self.platform_values(element, pointer, field.table)
        return self.leaf(element, pointer, isinstance(field, _COLLAPSED), field)

    def catalog_values(
        self, element: etree._Element, pointer: str, field: CatalogValues
    ) -> dict[str, Any]:
        from gateway.vocab.catalog import load_catalog

        by_key = load_catalog().by_key
        out: dict[str, Any] = {}
        for child in element:
            key = etree.QName(child).localname
            child_pointer = f"{pointer}/{key}"
            if key in out:
                self.problems.append(self.problem(child, "appears twice"))
                continue
            self.where[child_pointer] = (child, None)
            if child.attrib:
                self.problems.append(self.problem(child, "attributes are not allowed here"))
            if key in field.details:
                # The XSD skips the supplement's content, so the parts' shape is checked
                # here: a list of item elements (the record schema checks their members).
                detail = field.details[key]
                item = detail.metadata.get("xml_item")
                if (child.text or "").strip() or any(
                    etree.QName(c).localname != item for c in child
                ):
                    self.problems.append(self.problem(child, f"must hold <{item}> elements"))
                    continue
                out[key] = self.value(child, detail, child_pointer)
                continue
            attribute = by_key.get(key)
            json_type = attribute.json_type if attribute is not None else "string"
            out[key] = self.leaf(
                child,
                child_pointer,
                json_type in _COLLAPSED_JSON_TYPES,
                integer=json_type == "integer",
            )
        return out

    def platform_values(
        self, element: etree._Element, pointer: str, table: PlatformFieldTable
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for child in element:
            # The XSD guarantees <field name="..."> children.
            name = child.get(PLATFORM_FIELD_NAME, "")
            if name in out:
                self.problems.append(self.problem(child, f"field {name!r} appears twice"))
                continue
            child_pointer = jsonpointer.child(pointer, name)
            self.where[child_pointer] = (child, None)
            declared = table.by_name.get(name)
            kind = declared.kind if declared is not None else "string"
            value = self.leaf(
                child, child_pointer, kind in _COLLAPSED_JSON_TYPES, integer=kind == "integer"
            )
            if kind == "boolean" and isinstance(value, str):
                value = _XML_BOOLEANS.get(value, value)
            out[name] = value
        return out

    def leaf(
        self,
        element: etree._Element,
        pointer: str,
        collapse: bool,
        field: fields.Field[Any] | None = None,
        *,
        integer: bool = False,
    ) -> Any:
        if len(element):
            self.problems.append(self.problem(element, "must hold text, not elements"))
            return None
        text = element.text or ""
        if collapse:
            text = text.strip()
        if (integer or isinstance(field, SafeInteger)) and _INTEGER.fullmatch(text):
            return int(text)
        if isinstance(field, StrictBoolean):
            return _XML_BOOLEANS.get(text, text)
        return text

    @staticmethod
    def problem(element: etree._Element, message: str) -> Problem:
        return {"pointer": xpath_of(element), "message": message, "line": element.sourceline}

    def locate(self, pointer: str) -> Mapping[str, Any]:
        tokens = jsonpointer.split(pointer)
        for cut in range(len(tokens), -1, -1):
            prefix = jsonpointer.join(tokens[:cut])
            hit = self.where.get(prefix)
            if hit is not None:
                element, attribute = hit
                path = xpath_of(element) + (f"/@{attribute}" if attribute else "")
                path += jsonpointer.join(tokens[cut:])
                return {"pointer": path, "line": element.sourceline}
        return {}


def read_xml_record(
    data: bytes, *, platform_fields: PlatformFieldTable | None = None
) -> dict[str, Any]:
    """Read, validate and normalise an XML record.

    :param data: the document bytes.
    :param platform_fields: the declared national platform fields; default: the shipped
        table.
    :returns: the record in its normalised JSON form.
    :raises UnsafeInput: the document declares a document type or entities.
    :raises InvalidRecord: every problem, with its XPath (``pointer``) and ``line``.
    """
    root = parse_xml(data)
    reader = _Reader(record_schema(platform_fields))
    record = reader.record(root)
    return validate_record(
        record, locate=reader.locate, extra=reader.problems, platform_fields=platform_fields
    )


def _q(name: str) -> str:
    return _NS_PREFIX + name


def _write_object(element: etree._Element, data: Mapping[str, Any], schema: Schema) -> None:
    for key, value in data.items():
        _write_value(etree.SubElement(element, _q(key)), value, schema.fields[key])


def _write_value(element: etree._Element, value: Any, field: fields.Field[Any]) -> None:
    if isinstance(field, fields.Nested):
        _write_object(element, value, field.schema)
    elif isinstance(field, fields.List):
        for item in value:
            _write_value(
                etree.SubElement(element, _q(field.metadata["xml_item"])), item, field.inner
            )
    elif isinstance(field, TaggedUnion):
        element.set("type", value["type"])
        rest = {k: v for k, v in value.items() if k not in EVENT_ATTRIBUTES}
        _write_object(element, rest, field.schema_for(value["type"]))
    elif isinstance(field, CatalogValues):
        for key, item in value.items():
            if key in field.details:
                _write_value(etree.SubElement(element, _q(key)), item, field.details[key])
            else:
                etree.SubElement(element, _q(key)).text = _text(item)
    elif isinstance(field, PlatformValues):
        for name, item in value.items():
            child = etree.SubElement(element, _q(PLATFORM_FIELD), {PLATFORM_FIELD_NAME: name})
            child.text = _text(item)
    else:
        element.text = _text(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_xml_record(record: Mapping[str, Any]) -> bytes:
    """Write a normalised record (as returned by the readers) in the XML form.

    :param record: a record that passed validation.
    :returns: UTF-8 XML with declaration, indented.
    """
    root = etree.Element(_q(ROOT_NAME), nsmap={None: NAMESPACE})
    root.set("model_version", record["model_version"])
    rest = {k: v for k, v in record.items() if k not in ROOT_ATTRIBUTES}
    _write_object(root, rest, RECORD_SCHEMA)
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data
