"""Read and write SSSOM TSV mapping tables.

Written by hand on purpose: the ``sssom`` package parses the core of these files (the
tests use it as the independent check) but drops extension columns it does not model,
and the transform columns are what the engine runs on.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

import yaml

from gateway.errors import MappingInvalid
from gateway.mapping import names
from gateway.mapping.model import COLUMNS, EXTENSION_COLUMNS, MappingRow, MappingSet

VOCAB = "https://w3id.org/cn-eu-battery/vocab#"
CURIE_MAP = {
    "cntrace": "https://w3id.org/cn-eu-battery/cn-trace/1/",
    "eubp": VOCAB,
    "semapv": "https://w3id.org/semapv/vocab/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "sssom": "https://w3id.org/sssom/",
}
EXTENSION_DEFINITIONS = [
    {
        "slot_name": "subject_label_zh",
        "property": f"{VOCAB}subjectLabelZh",
        "type_hint": "http://www.w3.org/2001/XMLSchema#string",
    },
    {
        "slot_name": "transform",
        "property": f"{VOCAB}transform",
        "type_hint": "http://www.w3.org/2001/XMLSchema#string",
    },
    {
        "slot_name": "transform_params",
        "property": f"{VOCAB}transformParams",
        "type_hint": "http://www.w3.org/2001/XMLSchema#string",
    },
]
MAPPING_SET_BASE = "https://w3id.org/cn-eu-battery/mappings/"


def read_sssom(text: str) -> MappingSet:
    """Parse an SSSOM TSV table with its ``#`` YAML metadata block.

    :raises MappingInvalid: the metadata or a row cannot be read; ``errors`` lists each
        problem with its row number (1-based data rows) and column.
    """
    meta_lines: list[str] = []
    body_lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("#") and not body_lines:
            meta_lines.append(line[1:])
        elif line.strip():
            body_lines.append(line)
    try:
        metadata = yaml.safe_load("\n".join(meta_lines)) or {}
    except yaml.YAMLError as exc:
        raise MappingInvalid(f"metadata block is not YAML: {exc}") from exc
    if not isinstance(metadata, dict):
        raise MappingInvalid("metadata block must be a YAML mapping")
    set_id, version = _identity(metadata)
    if not body_lines:
        raise MappingInvalid("the table has no header row")
    reader = csv.DictReader(
        io.StringIO("\n".join(body_lines)), delimiter="\t", quoting=csv.QUOTE_NONE
    )
    header = reader.fieldnames or []
    errors: list[dict[str, Any]] = []
    for required in ("subject_id", "predicate_id", "object_id", "mapping_justification"):
        if required not in header:
            errors.append({"row": 0, "column": required, "message": "required column missing"})
    declared = {d.get("slot_name") for d in metadata.get("extension_definitions") or []}
    for column in header:
        if column not in COLUMNS:
            errors.append({"row": 0, "column": column, "message": "unknown column"})
        elif column in EXTENSION_COLUMNS and column not in declared:
            errors.append(
                {
                    "row": 0,
                    "column": column,
                    "message": "extension column not declared in extension_definitions",
                }
            )
    if errors:
        raise MappingInvalid(f"{len(errors)} problem(s) in the header", errors=errors)
    rows = []
    for number, cells in enumerate(reader, start=1):
        if None in cells:
            errors.append({"row": number, "column": None, "message": "more cells than columns"})
            continue
        raw_params = (cells.get("transform_params") or "").strip()
        params: Mapping[str, Any] = {}
        if raw_params:
            try:
                params = json.loads(raw_params)
            except json.JSONDecodeError as exc:
                errors.append(
                    {"row": number, "column": "transform_params", "message": f"not JSON: {exc.msg}"}
                )
                continue
            if not isinstance(params, dict):
                errors.append(
                    {
                        "row": number,
                        "column": "transform_params",
                        "message": "must be a JSON object",
                    }
                )
                continue
        rows.append(
            MappingRow(
                number=number,
                subject_id=_cell(cells, "subject_id"),
                predicate_id=_cell(cells, "predicate_id"),
                object_id=_cell(cells, "object_id"),
                subject_label=_cell(cells, "subject_label"),
                subject_label_zh=_cell(cells, "subject_label_zh"),
                object_label=_cell(cells, "object_label"),
                mapping_justification=_cell(cells, "mapping_justification"),
                author_id=_cell(cells, "author_id"),
                reviewer_id=_cell(cells, "reviewer_id"),
                comment=_cell(cells, "comment"),
                transform=_cell(cells, "transform"),
                params=params,
            )
        )
    if errors:
        raise MappingInvalid(f"{len(errors)} row(s) cannot be read", errors=errors)
    return MappingSet(set_id=set_id, version=version, rows=tuple(rows), metadata=metadata)


def write_sssom(mapping_set: MappingSet) -> str:
    """Serialise a table as SSSOM TSV; ``read_sssom`` of the result gives the same rows."""
    metadata = dict(mapping_set.metadata)
    metadata.update(
        {
            "curie_map": {**CURIE_MAP, **(metadata.get("curie_map") or {})},
            "mapping_set_id": f"{MAPPING_SET_BASE}{mapping_set.set_id}/{mapping_set.version}",
            "mapping_set_version": mapping_set.version,
            "extension_definitions": EXTENSION_DEFINITIONS,
        }
    )
    out = io.StringIO()
    header = yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True, width=1000)
    for line in header.splitlines():
        out.write(f"#{line}\n")
    # TSV without quoting (SSSOM cells hold JSON with quotes), so tabs and newlines in a
    # cell are refused rather than escaped.
    out.write("\t".join(COLUMNS) + "\n")
    for row in mapping_set.rows:
        cells = row.cells()
        for column, value in cells.items():
            if "\t" in value or "\n" in value:
                raise MappingInvalid(
                    f"row {row.number} {column}: tabs and newlines are not allowed in a cell",
                    row=row.number,
                    column=column,
                )
        out.write("\t".join(cells[c] for c in COLUMNS) + "\n")
    return out.getvalue()


def _cell(cells: Mapping[str, str | None], column: str) -> str:
    return (cells.get(column) or "").strip()


def _identity(metadata: Mapping[str, Any]) -> tuple[str, str]:
    set_uri = str(metadata.get("mapping_set_id") or "")
    version = str(metadata.get("mapping_set_version") or "")
    if not set_uri.startswith(MAPPING_SET_BASE):
        raise MappingInvalid(
            f"mapping_set_id must start with {MAPPING_SET_BASE}", pointer="mapping_set_id"
        )
    set_id = set_uri.removeprefix(MAPPING_SET_BASE).split("/")[0]
    if not names.SET_NAME.fullmatch(set_id):
        raise MappingInvalid(
            "the mapping set name in mapping_set_id is not a lowercase slug "
            "(letters, digits, single hyphens, at most 64 characters)",
            pointer="mapping_set_id",
        )
    if not names.VERSION.fullmatch(version):
        raise MappingInvalid(
            "mapping_set_version is not MAJOR.MINOR.PATCH (no leading zeros)",
            pointer="mapping_set_version",
        )
    return set_id, version
