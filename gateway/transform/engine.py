"""Record + mapping table -> EU passport attributes, with the status of every attribute.

Rows for one attribute are tried in table order; the first that yields a value wins.
What the status of an attribute means (DESIGN §5, gap categories):

- ``filled``: an exact match gave a value;
- ``partial``: a close, broad or narrow match gave a value that needs review;
- ``missing_data``: the mapping reads a national field that the record lacks;
- ``unmappable``: no national counterpart (a supplement row found nothing, or the
  table says ``sssom:NoTermFound``);
- ``withheld``: the cross-border data policy kept the source field in China;
- ``not_applicable``: the attribute does not apply to the battery's category.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.errors import TransformError
from gateway.jsonvalues import WRITTEN_FORMS, is_safe_integer
from gateway.mapping import transforms
from gateway.mapping.model import NO_TERM_FOUND, MappingRow, MappingSet
from gateway.transform.paths import resolve
from gateway.vocab.catalog import Attribute, Catalog

STATUSES = ("filled", "partial", "missing_data", "unmappable", "withheld", "not_applicable")


@dataclass(frozen=True)
class AttributeResult:
    """What became of one EU attribute.

    :ivar source: the record path the value came from (or was looked for).
    :ivar row: the mapping row number that decided the status (0 if none).
    """

    attribute: Attribute
    status: str
    obligation: str
    value: Any = None
    source: str | None = None
    relation: str | None = None
    row: int = 0
    reason: str = ""
    source_label: str = ""
    source_label_zh: str = ""


@dataclass(frozen=True)
class Conversion:
    passport_id: str
    battery_code: str
    category: str
    mapping: MappingSet
    results: tuple[AttributeResult, ...]

    @property
    def attributes(self) -> dict[str, Any]:
        """Values by catalog key, for the attributes that have one."""
        return {r.attribute.key: r.value for r in self.results if r.value is not None}


def convert(
    record: Mapping[str, Any],
    mapping_set: MappingSet,
    catalog: Catalog,
    *,
    base_url: str,
    decode_code: Callable[[str], Mapping[str, Any]],
    withheld: Mapping[str, str] | None = None,
) -> Conversion:
    """Run a validated record through a mapping table.

    :param withheld: record paths the data policy keeps in China -> the reason; a row
        reading one of them (or a field below it) yields ``withheld``.
    :raises TransformError: a value cannot be transformed (names the row and the path).
    """
    context = transforms.Context(record=record, base_url=base_url, decode_code=decode_code)
    category = record["battery"]["category"]
    results = tuple(
        _resolve_attribute(
            attribute, mapping_set.rows_for(attribute.term), category, context, withheld or {}
        )
        for attribute in catalog.attributes
    )
    code = record["battery"]["code"]
    return Conversion(
        passport_id=transforms.passport_url(code, context),
        battery_code=code,
        category=category,
        mapping=mapping_set,
        results=results,
    )


def _resolve_attribute(
    attribute: Attribute,
    rows: list[MappingRow],
    category: str,
    context: transforms.Context,
    withheld: Mapping[str, str],
) -> AttributeResult:
    obligation = attribute.obligation(category)
    if obligation == "not_applicable":
        return AttributeResult(
            attribute,
            "not_applicable",
            obligation,
            reason=f"does not apply to {category} batteries",
        )
    first_withheld: tuple[MappingRow, str] | None = None
    for row in rows:
        if row.subject_id == NO_TERM_FOUND:
            continue
        path = row.source_path or ""
        policy_reason = _withheld_reason(path, withheld)
        if policy_reason is not None:
            first_withheld = first_withheld or (row, policy_reason)
            continue
        value = _row_value(row, path, attribute, context)
        if value is None:
            continue
        exact = row.predicate_id == "skos:exactMatch"
        return AttributeResult(
            attribute,
            "filled" if exact else "partial",
            obligation,
            value=value,
            source=path,
            relation=row.predicate_id,
            row=row.number,
            reason="" if exact else f"{row.predicate_id}: {row.comment}".strip(),
            source_label=row.subject_label,
            source_label_zh=row.subject_label_zh,
        )
    if first_withheld:
        row, policy_reason = first_withheld
        return AttributeResult(
            attribute,
            "withheld",
            obligation,
            source=row.source_path,
            relation=row.predicate_id,
            row=row.number,
            reason=policy_reason,
            source_label=row.subject_label,
            source_label_zh=row.subject_label_zh,
        )
    if not rows:
        return AttributeResult(attribute, "unmappable", obligation, reason="no mapping row")
    first = rows[0]
    if first.subject_id == NO_TERM_FOUND:
        return AttributeResult(
            attribute,
            "unmappable",
            obligation,
            relation=NO_TERM_FOUND,
            row=first.number,
            reason=first.comment,
        )
    national = [r.source_path for r in rows if r.source_path and not r.from_supplement]
    if not national:
        return AttributeResult(
            attribute,
            "unmappable",
            obligation,
            source=first.source_path,
            relation=first.predicate_id,
            row=first.number,
            reason=f"no national counterpart; supply {first.source_path}",
        )
    national_row = next(r for r in rows if r.source_path and not r.from_supplement)
    return AttributeResult(
        attribute,
        "missing_data",
        obligation,
        source=national[0],
        relation=national_row.predicate_id,
        row=national_row.number,
        reason="record has no " + " or ".join(dict.fromkeys(national)),
        source_label=national_row.subject_label,
        source_label_zh=national_row.subject_label_zh,
    )


def _withheld_reason(path: str, withheld: Mapping[str, str]) -> str | None:
    for field, reason in withheld.items():
        if path == field or path.startswith(field + "."):
            return reason
    return None


def _row_value(
    row: MappingRow, path: str, attribute: Attribute, context: transforms.Context
) -> Any:
    found = resolve(context.record, path, row.params.get("where"))
    pick = row.params.get("pick", "all")
    if found and pick == "first":
        found = found[:1]
    elif found and pick == "last":
        found = found[-1:]
    name = row.transform or "identity"
    out = []
    for item in found:
        try:
            value = transforms.apply(name, item, context, row.params)
        except (TransformError, KeyError, TypeError, ArithmeticError) as exc:
            detail = exc.detail if isinstance(exc, TransformError) else repr(exc)
            raise TransformError(
                f"mapping row {row.number} ({name}) cannot turn {path} into "
                f"{attribute.key}: {detail}",
                pointer="/" + path.replace(".", "/"),
                row=row.number,
            ) from exc
        if value is not None:
            out.append(_checked(value, attribute, row, path))
    if not out:
        return None
    return out[0] if len(out) == 1 else out


def _checked(value: Any, attribute: Attribute, row: MappingRow, path: str) -> Any:
    """Refuse a value whose JSON type breaks the attribute's (DESIGN §5: no floats)."""
    kind = attribute.json_type
    if kind == "integer":
        ok = is_safe_integer(value)
    else:
        ok = isinstance(value, str) and bool(WRITTEN_FORMS[kind].match(value))
    if not ok:
        raise TransformError(
            f"mapping row {row.number} gives {value!r} for {attribute.key}, which must be {kind}",
            pointer="/" + path.replace(".", "/"),
            row=row.number,
        )
    return value
