"""Checks a mapping table against the vocabulary, the record model and the registry."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from gateway.mapping.model import (
    NO_TERM_FOUND,
    OBJECT_PREFIX,
    RELATIONS,
    SUBJECT_PREFIX,
    SUPPLEMENT,
    MappingSet,
    canonical_json,
)
from gateway.mapping.transforms import REGISTRY, check_params
from gateway.records.supplement import refused_reason
from gateway.vocab.catalog import Catalog

_LIST_MARK = re.compile(r"\[[^\]]*\]")


@dataclass(frozen=True)
class Problem:
    """One problem with a table; ``row`` 0 means the table as a whole."""

    row: int
    column: str | None
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "message": self.message}


def normalise_path(path: str) -> str:
    """``events[].date`` and ``events.date`` name the same field."""
    return _LIST_MARK.sub("", path)


def validate(
    mapping_set: MappingSet, catalog: Catalog, field_paths: Iterable[str]
) -> list[Problem]:
    """Every problem of the table, each with its row number.

    Checked: the target is a catalog attribute; the relation is a SKOS match (or the row
    is ``sssom:NoTermFound``); the source path exists in the record model; the transform
    is registered and gets the parameters it takes; the unit it outputs is the
    attribute's; a dynamic value's ``as_of`` is a record path (or a list of them); no row
    reads a supplement key the record model refuses; no row is repeated; every catalog
    attribute has a row.
    """
    paths = {normalise_path(p) for p in field_paths}
    problems: list[Problem] = []
    seen: dict[tuple[str, str, str, str], int] = {}
    covered: set[str] = set()
    for row in mapping_set.rows:

        def add(column: str | None, message: str, row: int = row.number) -> None:
            problems.append(Problem(row, column, message))

        if not row.object_id.startswith(OBJECT_PREFIX):
            add("object_id", f"target {row.object_id!r} is not an {OBJECT_PREFIX} term")
            continue
        attribute = catalog.by_term.get(row.attribute_term)
        if attribute is None:
            add("object_id", f"target {row.object_id!r} is not in the vocabulary")
            continue
        covered.add(attribute.key)
        key = (row.subject_id, row.object_id, row.transform, canonical_json(row.params))
        if key in seen:
            add("subject_id", f"duplicate of row {seen[key]} ({row.subject_id} -> {row.object_id})")
        seen.setdefault(key, row.number)

        if row.subject_id == NO_TERM_FOUND:
            if row.transform:
                add("transform", "a sssom:NoTermFound row takes no transform")
            if not row.comment:
                add("comment", "a sssom:NoTermFound row must say why in its comment")
            continue
        if row.predicate_id not in RELATIONS:
            add(
                "predicate_id",
                f"relation {row.predicate_id!r} is not one of {', '.join(RELATIONS)}",
            )
        if not row.subject_id.startswith(SUBJECT_PREFIX):
            add("subject_id", f"source {row.subject_id!r} is not a {SUBJECT_PREFIX} path")
            continue
        source = normalise_path(row.source_path or "")
        if source not in paths:
            add("subject_id", f"source path {source!r} is not in the record model")
        if source.startswith(SUPPLEMENT) and source != SUPPLEMENT + attribute.key:
            add("subject_id", f"supplement rows read eu_supplement.{attribute.key}, not {source}")
        if source.startswith(SUPPLEMENT) and refused_reason(attribute.key):
            add("subject_id", f"{source} {refused_reason(attribute.key)}")
        if not isinstance(row.params.get("join", ""), str):
            add("transform_params", "join must be a text (the separator)")
        as_of = row.params.get("as_of")
        whens = [as_of] if isinstance(as_of, str) else as_of
        if as_of is not None and (
            not isinstance(whens, list)
            or not whens
            or any(not isinstance(w, str) or normalise_path(w) not in paths for w in whens)
        ):
            add(
                "transform_params",
                f"as_of {as_of!r} is not a path of the record model, or a list of them",
            )
        name = row.transform or "identity"
        for message in check_params(name, row.params):
            add("transform_params" if name in REGISTRY else "transform", message)
        spec = REGISTRY.get(name)
        if spec and spec.unit_param and isinstance(row.params.get(spec.unit_param), str):
            unit = row.params[spec.unit_param]
            if attribute.unit and unit != attribute.unit:
                add(
                    "transform_params", f"outputs {unit} but {attribute.key} is in {attribute.unit}"
                )
        if spec and spec.outputs is not None and attribute.json_type not in spec.outputs:
            add(
                "transform",
                f"transform {name!r} gives {'/'.join(sorted(spec.outputs))} "
                f"but {attribute.key} is {attribute.json_type}",
            )
    for attribute in catalog.attributes:
        if attribute.key not in covered:
            problems.append(
                Problem(0, None, f"EU attribute {attribute.key} ({attribute.term}) has no row")
            )
    return problems
