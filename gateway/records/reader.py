"""Read a national traceability record (JSON or XML) into its validated, normalised form.

Both forms end in the same place: a plain JSON structure checked by the ``cn-trace/1``
record schema (:mod:`gateway.records.schema`), decimals as canonical strings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.errors import UnsupportedMediaType
from gateway.records.json_format import parse_json
from gateway.records.platform_fields import PlatformFieldTable
from gateway.records.validation import validate_record
from gateway.records.xml_format import read_xml_record

JSON_MEDIA_TYPES = frozenset({"application/json"})
XML_MEDIA_TYPES = frozenset({"application/xml", "text/xml"})
SUFFIXES = {".json": "application/json", ".xml": "application/xml"}


def _format_of(media_type: str) -> str:
    # RFC 6838 §4.2.8: "+json" / "+xml" structured-syntax suffixes name the same syntax.
    essence = media_type.split(";", 1)[0].strip().lower()
    if essence in JSON_MEDIA_TYPES or essence.endswith("+json"):
        return "json"
    if essence in XML_MEDIA_TYPES or essence.endswith("+xml"):
        return "xml"
    raise UnsupportedMediaType(
        f"media type {media_type!r} is not supported; send application/json or application/xml"
    )


def read_record(
    data: bytes, media_type: str, *, platform_fields: PlatformFieldTable | None = None
) -> dict[str, Any]:
    """Read, validate and normalise one record.

    :param data: the document bytes.
    :param media_type: ``application/json`` or ``application/xml`` (parameters such as
        ``charset`` are ignored; ``+json`` and ``+xml`` suffixes are accepted).
    :param platform_fields: the declared national platform fields the record's
        ``platform_fields`` block is checked against; default: the shipped table.
    :returns: the record as dicts, lists, strings, ints and booleans (decimals as
        canonical strings).
    :raises UnsupportedMediaType: another media type.
    :raises UnsafeInput: an XML document with a DOCTYPE or entity declaration.
    :raises InvalidRecord: every problem found, each with a JSON pointer (JSON input) or
        an XPath and line (XML input).
    """
    if _format_of(media_type) == "json":
        return validate_record(parse_json(data), platform_fields=platform_fields)
    return read_xml_record(data, platform_fields=platform_fields)


def read_record_file(
    path: Path | str, *, platform_fields: PlatformFieldTable | None = None
) -> dict[str, Any]:
    """Read a record file, its format chosen by suffix (``.json`` or ``.xml``).

    :param path: the file.
    :param platform_fields: see :func:`read_record`.
    :returns: the normalised record.
    :raises UnsupportedMediaType: another suffix.
    :raises UnsafeInput: see :func:`read_record`.
    :raises InvalidRecord: see :func:`read_record`.
    """
    path = Path(path)
    media_type = SUFFIXES.get(path.suffix.lower())
    if media_type is None:
        raise UnsupportedMediaType(f"{path.name}: record files end in .json or .xml")
    return read_record(path.read_bytes(), media_type, platform_fields=platform_fields)
