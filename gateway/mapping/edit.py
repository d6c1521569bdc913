"""Editing a draft table: rows are added, changed and removed by row number."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, replace
from typing import Any

from gateway.errors import MappingInvalid
from gateway.mapping.model import MappingRow, MappingSet

EDITABLE = tuple(f.name for f in fields(MappingRow) if f.name != "number")


def _renumber(mapping_set: MappingSet, rows: list[MappingRow]) -> MappingSet:
    return replace(
        mapping_set, rows=tuple(replace(row, number=i) for i, row in enumerate(rows, start=1))
    )


def _cells(values: Mapping[str, Any], *, row: int) -> dict[str, Any]:
    unknown = sorted(set(values) - set(EDITABLE))
    if unknown:
        raise MappingInvalid(
            f"row {row}: unknown column(s) {', '.join(unknown)} (editable: {', '.join(EDITABLE)})",
            row=row,
        )
    if "params" in values and not isinstance(values["params"], Mapping):
        raise MappingInvalid(f"row {row}: params must be an object", row=row)
    return dict(values)


def add_row(
    mapping_set: MappingSet, values: Mapping[str, Any], after: int | None = None
) -> MappingSet:
    """A table with a new row, at the end or after row ``after``."""
    rows = list(mapping_set.rows)
    position = len(rows) if after is None else _index(mapping_set, after) + 1
    cells = _cells(values, row=position + 1)
    for required in ("subject_id", "predicate_id", "object_id"):
        if not cells.get(required):
            raise MappingInvalid(f"new row: {required} is required", row=position + 1)
    rows.insert(position, MappingRow(number=0, **cells))
    return _renumber(mapping_set, rows)


def change_row(mapping_set: MappingSet, number: int, values: Mapping[str, Any]) -> MappingSet:
    """A table with row ``number`` changed in the given columns."""
    rows = list(mapping_set.rows)
    index = _index(mapping_set, number)
    rows[index] = replace(rows[index], **_cells(values, row=number))
    return _renumber(mapping_set, rows)


def remove_row(mapping_set: MappingSet, number: int) -> MappingSet:
    """A table without row ``number``; later rows move up."""
    rows = list(mapping_set.rows)
    del rows[_index(mapping_set, number)]
    return _renumber(mapping_set, rows)


def _index(mapping_set: MappingSet, number: int) -> int:
    if not 1 <= number <= len(mapping_set.rows):
        raise MappingInvalid(
            f"no row {number}; the table has rows 1-{len(mapping_set.rows)}", row=number
        )
    return number - 1
