"""Mapping set and row values (no I/O)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

NO_TERM_FOUND = "sssom:NoTermFound"
SUBJECT_PREFIX = "cntrace:"
OBJECT_PREFIX = "eubp:"
SUPPLEMENT = "eu_supplement."

RELATIONS = ("skos:exactMatch", "skos:closeMatch", "skos:broadMatch", "skos:narrowMatch")

# The columns of a table, in the order they are written. The first ones are SSSOM's own
# slots; the ``EXTENSION_COLUMNS`` are declared in the metadata as extension_definitions.
SSSOM_COLUMNS = (
    "subject_id",
    "subject_label",
    "predicate_id",
    "object_id",
    "object_label",
    "mapping_justification",
    "author_id",
    "reviewer_id",
    "comment",
)
EXTENSION_COLUMNS = ("subject_label_zh", "transform", "transform_params")
COLUMNS = SSSOM_COLUMNS + EXTENSION_COLUMNS


@dataclass(frozen=True)
class MappingRow:
    """One row: a national field (or the supplement, or nothing) to one EU attribute.

    :ivar number: 1-based data row number, as people count rows in the TSV.
    :ivar params: the decoded ``transform_params`` JSON object.
    """

    number: int
    subject_id: str
    predicate_id: str
    object_id: str
    subject_label: str = ""
    subject_label_zh: str = ""
    object_label: str = ""
    mapping_justification: str = "semapv:ManualMappingCuration"
    author_id: str = ""
    reviewer_id: str = ""
    comment: str = ""
    transform: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def attribute_term(self) -> str:
        """The EU attribute's JSON-LD term (``object_id`` without its prefix)."""
        return self.object_id.removeprefix(OBJECT_PREFIX)

    @property
    def source_path(self) -> str | None:
        """The record path read by this row, or None for ``sssom:NoTermFound``."""
        if self.subject_id == NO_TERM_FOUND:
            return None
        return self.subject_id.removeprefix(SUBJECT_PREFIX)

    @property
    def from_supplement(self) -> bool:
        return (self.source_path or "").startswith(SUPPLEMENT)

    def cells(self) -> dict[str, str]:
        """The row as TSV cells, keyed by column."""
        return {
            "subject_id": self.subject_id,
            "subject_label": self.subject_label,
            "predicate_id": self.predicate_id,
            "object_id": self.object_id,
            "object_label": self.object_label,
            "mapping_justification": self.mapping_justification,
            "author_id": self.author_id,
            "reviewer_id": self.reviewer_id,
            "comment": self.comment,
            "subject_label_zh": self.subject_label_zh,
            "transform": self.transform,
            "transform_params": canonical_json(self.params) if self.params else "",
        }


@dataclass(frozen=True)
class MappingSet:
    """A versioned mapping table.

    :ivar set_id: short name, e.g. ``cn-trace-to-eu-passport``.
    :ivar metadata: the SSSOM metadata block (curie_map, license, ...), as read.
    """

    set_id: str
    version: str
    rows: tuple[MappingRow, ...]
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return f"{self.set_id}@{self.version}"

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 over the normalised rows: columns in fixed order, cells stripped,
        parameters as canonical JSON. Metadata and labels' layout do not change it,
        row order does (rows for one attribute are tried in order)."""
        digest = hashlib.sha256()
        for row in self.rows:
            cells = row.cells()
            digest.update("\t".join(cells[c].strip() for c in COLUMNS).encode("utf-8"))
            digest.update(b"\n")
        return f"sha256:{digest.hexdigest()}"

    def rows_for(self, term: str) -> list[MappingRow]:
        """The rows of one EU attribute, in table order."""
        return list(self._rows_by_term.get(term, ()))

    @cached_property
    def _rows_by_term(self) -> dict[str, tuple[MappingRow, ...]]:
        # Every conversion asks once per catalog attribute; index the table once.
        index: dict[str, list[MappingRow]] = {}
        for row in self.rows:
            index.setdefault(row.attribute_term, []).append(row)
        return {term: tuple(rows) for term, rows in index.items()}


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
