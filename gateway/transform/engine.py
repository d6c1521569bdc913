"""Record + mapping table -> EU passport attributes, with the status of every attribute.

Rows for one attribute are tried in table order; the first that yields a value wins,
with one precedence between the two sources of a value: the national record comes
first, and the EU supplement fills an attribute the national record leaves empty or
fills only approximately (``partial``), unless the data policy withholds the national
field (the supplement does not carry out what the policy keeps in China). When the
national record fills an attribute exactly and the supplement says otherwise, the
national value is published and the result says so (``conflict``).

A dynamic value is published only with the time it was measured (``measured_at``: the
row's ``as_of`` path; by default ``usage.as_of`` for the usage summary and the latest
event's date for anything else); an undated one, or one measured before the battery was
repurposed (its first life), is reported ``missing_data`` with the reason.

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
from dataclasses import dataclass, field
from typing import Any

from gateway.errors import TransformError
from gateway.jsonvalues import WRITTEN_FORMS, is_safe_integer
from gateway.mapping import transforms
from gateway.mapping.model import NO_TERM_FOUND, MappingRow, MappingSet
from gateway.transform.paths import resolve
from gateway.vocab.catalog import Attribute, Catalog

STATUSES = ("filled", "partial", "missing_data", "unmappable", "withheld", "not_applicable")

#: Where a published value comes from: the national record, the exporter's EU
#: supplement (a declaration), or the gateway itself (the passport id it mints).
ORIGINS = ("national", "supplement", "gateway")

#: Transforms whose value the gateway makes rather than reads.
MINTED_BY = frozenset({"passport_url"})

#: Where the usage summary says when it was measured; the default ``as_of`` of rows
#: reading the summary.
USAGE_AS_OF = "usage.as_of"
#: The default ``as_of`` of other rows: the record states its other dynamic facts (the
#: battery's status) as of its latest lifecycle event.
LATEST_EVENT = "events.date"


@dataclass(frozen=True)
class AttributeResult:
    """What became of one EU attribute.

    :ivar source: the record path the value came from (or was looked for).
    :ivar row: the mapping row number that decided the status (0 if none).
    :ivar measured_at: ISO 8601 date or time a dynamic value was measured; a dynamic
        value without one is not published (Battery Pass ``lastUpdate``).
    :ivar languages: ``(BCP 47 tag, text)`` pairs for text the record carries in more
        than one language; ``value`` stays the plain text (English when present).
    :ivar origin: where the value came from (:data:`ORIGINS`); empty without a value.
    :ivar conflict: the EU supplement gives another value than the national record's,
        which is published.
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
    measured_at: str | None = None
    languages: tuple[tuple[str, str], ...] = ()
    origin: str = ""
    conflict: bool = False


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
    passport_of: Callable[[str], str | None] | None = None,
) -> Conversion:
    """Run a validated record through a mapping table.

    :param withheld: record paths the data policy keeps in China -> the reason; a row
        reading one of them (or a field below it) yields ``withheld``.
    :param passport_of: the id of a battery's passport when the issuer knows it (links
        to a predecessor's passport); without it none is known.
    :raises TransformError: a value cannot be transformed (names the row and the path).
    """
    context = transforms.Context(
        record=record, base_url=base_url, decode_code=decode_code, passport_of=passport_of
    )
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


@dataclass(frozen=True)
class _Found:
    row: MappingRow
    value: Any
    languages: tuple[tuple[str, str], ...]
    measured_at: str | None


@dataclass
class _Search:
    """What trying one source's rows found: a value, a withheld row, and the reasons
    rows that had data gave none."""

    found: _Found | None = None
    withheld: tuple[MappingRow, str] | None = None
    notes: list[str] = field(default_factory=list)


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
    national_rows = [r for r in rows if r.subject_id != NO_TERM_FOUND and not r.from_supplement]
    national = _search(national_rows, attribute, context, withheld)
    supplement = _search([r for r in rows if r.from_supplement], attribute, context, withheld)
    found = national.found
    exact = found is not None and found.row.predicate_id == "skos:exactMatch"
    if found is not None and exact:
        other = supplement.found
        conflict = other is not None and other.value != found.value
        reason = (
            f"{other.row.source_path} differs from the national record, whose value is "
            "published (the national record comes first)"
            if conflict and other is not None
            else ""
        )
        return _result(attribute, obligation, found, "filled", reason, conflict=conflict)
    # What the data policy keeps in China stays there: a supplement value does not carry
    # out the fact a withheld national field holds.
    if supplement.found is not None and not (found is None and national.withheld):
        return _result(attribute, obligation, supplement.found, "filled", "")
    if found is not None:
        return _result(
            attribute,
            obligation,
            found,
            "partial",
            f"{found.row.predicate_id}: {found.row.comment}".strip(),
        )
    first_withheld = national.withheld or supplement.withheld
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
    notes = "; ".join(dict.fromkeys(national.notes + supplement.notes))
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
    if not national_rows:
        return AttributeResult(
            attribute,
            "unmappable" if not notes else "missing_data",
            obligation,
            source=first.source_path,
            relation=first.predicate_id,
            row=first.number,
            reason=notes or f"no national counterpart; supply {first.source_path}",
        )
    national_row = national_rows[0]
    # Say which fields are absent and which are present but gave nothing to publish (a
    # record with events, none of them a repair), so the reason is true of the record.
    absent = dict.fromkeys(
        _looked_for(r)
        for r in national_rows
        if not resolve(context.record, r.source_path or "", r.params.get("where"))
    )
    present = dict.fromkeys(
        f"{_looked_for(r)} ({r.subject_label})" if r.subject_label else _looked_for(r)
        for r in national_rows
        if _looked_for(r) not in absent
    )
    parts = ["record has no " + " or ".join(absent)] if absent else []
    if present:
        parts.append(f"{' or '.join(present)}: nothing that fills it")
    return AttributeResult(
        attribute,
        "missing_data",
        obligation,
        source=national_row.source_path,
        relation=national_row.predicate_id,
        row=national_row.number,
        reason=notes or "; ".join(parts),
        source_label=national_row.subject_label,
        source_label_zh=national_row.subject_label_zh,
    )


def _result(
    attribute: Attribute,
    obligation: str,
    found: _Found,
    status: str,
    reason: str,
    *,
    conflict: bool = False,
) -> AttributeResult:
    row = found.row
    origin = (
        "supplement"
        if row.from_supplement
        else "gateway"
        if row.transform in MINTED_BY
        else "national"
    )
    return AttributeResult(
        attribute,
        status,
        obligation,
        value=found.value,
        source=row.source_path,
        relation=row.predicate_id,
        row=row.number,
        reason=reason,
        source_label=row.subject_label,
        source_label_zh=row.subject_label_zh,
        measured_at=found.measured_at,
        languages=found.languages,
        origin=origin,
        conflict=conflict,
    )


def _search(
    rows: list[MappingRow],
    attribute: Attribute,
    context: transforms.Context,
    withheld: Mapping[str, str],
) -> _Search:
    """The first row of ``rows`` that yields a publishable value."""
    search = _Search()
    for row in rows:
        path = row.source_path or ""
        policy_reason = _withheld_reason(path, withheld)
        if policy_reason is not None:
            search.withheld = search.withheld or (row, policy_reason)
            continue
        try:
            value = _row_value(row, path, attribute, context)
        except transforms.Refused as refused:
            search.notes.append(refused.reason)
            continue
        if value is None:
            continue
        languages: tuple[tuple[str, str], ...] = ()
        if isinstance(value, transforms.Multilingual):
            languages = value.languages
            value = value.text
        measured = None
        if not attribute.static:
            measured, note = _measurement(row, path, context.record, withheld)
            if note:
                search.notes.append(note)
                continue
        search.found = _Found(row, value, languages, measured)
        return search
    return search


def _measurement(
    row: MappingRow, path: str, record: Mapping[str, Any], withheld: Mapping[str, str]
) -> tuple[str | None, str]:
    """When a dynamic value was measured, or why it cannot be published.

    :returns: ``(time, "")``, or ``(None, reason)``: undated (or its date kept in China
        by the data policy), or measured before the battery was repurposed (a first-life
        value).
    """
    as_of = row.params.get("as_of") or (USAGE_AS_OF if path.startswith("usage.") else LATEST_EVENT)
    times = [str(t) for t in resolve(record, as_of)]
    if not times:
        kept = _withheld_reason(as_of, withheld)
        if kept is not None:
            return None, f"{path} is a dynamic value whose time of measurement ({as_of}) is {kept}"
        return None, f"{path} is a dynamic value with no time of measurement ({as_of})"
    measured = max(times)
    repurposed = [str(d) for d in resolve(record, "events.date", {"type": "echelon_use"})]
    if repurposed and measured[:10] < max(repurposed):
        return None, (
            f"{path} was measured on {measured[:10]}, before the battery was repurposed on "
            f"{max(repurposed)}: a first-life value, not the current one"
        )
    return measured, ""


def _looked_for(row: MappingRow) -> str:
    """The path a row reads, with the list items it keeps: ``events.date (type installation)``."""
    where = row.params.get("where") or {}
    kept = ", ".join(f"{k} {v}" for k, v in where.items())
    return f"{row.source_path} ({kept})" if kept else row.source_path or ""


def _withheld_reason(path: str, withheld: Mapping[str, str]) -> str | None:
    """Why the data policy keeps ``path`` in China (it or a field above it is kept).

    Walks up the path's own segments (a few dictionary look-ups) rather than over every
    kept path: it runs for every row of every attribute of every record."""
    while path:
        reason = withheld.get(path)
        if reason is not None:
            return reason
        path = path.rpartition(".")[0]
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
    out: list[Any] = []
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
        if isinstance(value, list):
            out.extend(_checked(v, attribute, row, path) for v in value)
        elif isinstance(value, transforms.Multilingual):
            _checked(value.text, attribute, row, path)
            out.append(value)
        elif value is not None:
            out.append(_checked(value, attribute, row, path))
    if not out:
        return None
    separator = row.params.get("join")
    if isinstance(separator, str) and len(out) > 1:
        # Several items of a list as one statement (the repairs of a battery), where the
        # catalog holds one text.
        return separator.join(str(v) for v in out)
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
