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

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from gateway.errors import TransformError
from gateway.jsonvalues import WRITTEN_FORMS, is_safe_integer
from gateway.mapping import transforms
from gateway.mapping.model import NO_TERM_FOUND, MappingRow, MappingSet
from gateway.transform.paths import resolve
from gateway.vocab.catalog import Attribute, Catalog
from gateway.vocab.forms import STRUCTURED_PARTS

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
    kept = withheld or {}
    plans = compiled(mapping_set, catalog, category)
    if type(record) is dict:
        results = tuple(
            plan.fixed
            or (_empty(plan, record, kept) and plan.empty)
            or _lead_fills(plan, record, context, kept)
            or _resolve_attribute(plan, context, kept)
            for plan in plans
        )
    else:
        results = tuple(plan.fixed or _resolve_attribute(plan, context, kept) for plan in plans)
    code = record["battery"]["code"]
    return Conversion(
        passport_id=transforms.passport_url(code, context),
        battery_code=code,
        category=category,
        mapping=mapping_set,
        results=results,
    )


@dataclass(frozen=True)
class _Row:
    """A mapping row with everything that does not depend on the record worked out."""

    row: MappingRow
    path: str
    parts: tuple[str, ...]
    #: The path and every path above it, longest first: the data policy keeps a field
    #: in China when it keeps the field or an object above it.
    above: tuple[str, ...]
    where: Mapping[str, Any] | None
    pick: str
    name: str
    function: Callable[..., Any]
    own_params: Mapping[str, Any]
    #: the identity transform without parameters: a value read is the value given
    #: (most rows: no call for them)
    as_is: bool
    separator: str | None
    #: The paths of its time of measurement; the latest time they hold is the value's.
    as_of: tuple[str, ...]
    looked_for: str
    #: ``looked_for`` with the national field's label, as a reason names a present field.
    named: str
    origin: str


@dataclass(frozen=True)
class _Plan:
    """One catalog attribute for one battery category, with its rows compiled.

    :ivar fixed: the result when it does not depend on the record (the attribute does
        not apply, or no row reads anything).
    :ivar heads: the first two names of every row's path (the second ``None`` for a
        path of one name): when the record holds neither for every row, and the data
        policy keeps none of them, no row reads a value and the result is ``empty``.
    :ivar above: every row's ``above`` paths together.
    :ivar lead: the row whose value fills the attribute unless another row can give
        one too: the first national row when it is an exact match (unless the EU
        supplement gives a value too: a conflict), or the first supplement row when
        there is no national row.
    :ivar rivals: ``heads`` of the rows that must read nothing for ``lead`` to decide
        (the supplement rows beside a national lead).
    :ivar empty: the result when no row reads a value and none is withheld, worked out
        once (most attributes of a record read an EU supplement field it leaves out).
    """

    attribute: Attribute
    obligation: str
    rows: tuple[MappingRow, ...]
    national: tuple[_Row, ...]
    supplement: tuple[_Row, ...]
    fixed: AttributeResult | None
    heads: tuple[tuple[str, str | None], ...] = ()
    above: frozenset[str] = frozenset()
    empty: AttributeResult | None = None
    lead: _Row | None = None
    rivals: tuple[tuple[str, str | None], ...] = ()


#: Compiled tables by (mapping hash, catalog, category); a handful are in use at once.
_PLANS: OrderedDict[tuple[str, int, str], tuple[Catalog, tuple[_Plan, ...]]] = OrderedDict()
_PLANS_KEPT = 32
_PLANS_LOCK = threading.Lock()


def compiled(mapping_set: MappingSet, catalog: Catalog, category: str) -> tuple[_Plan, ...]:
    """The table compiled for one catalog and battery category, one plan per attribute
    in catalog order: everything but reading the record's values is done once per
    table (rows split by source, parameters bound, reasons that name no value)."""
    key = (mapping_set.content_hash, id(catalog), category)
    with _PLANS_LOCK:
        entry = _PLANS.get(key)
        if entry is not None and entry[0] is catalog:
            _PLANS.move_to_end(key)
            return entry[1]
    plans = tuple(_plan(a, mapping_set.rows_for(a.term), category) for a in catalog.attributes)
    with _PLANS_LOCK:
        _PLANS[key] = (catalog, plans)
        while len(_PLANS) > _PLANS_KEPT:
            _PLANS.popitem(last=False)
    return plans


def _compile_row(row: MappingRow) -> _Row:
    path = row.source_path or ""
    params = row.params
    name = row.transform or "identity"
    spec = transforms.REGISTRY.get(name)
    own = {k: v for k, v in params.items() if k not in transforms.ENGINE_PARAMS}
    if spec is not None:
        function = spec.function
    else:
        # An unregistered name fails as it always has, when a value reaches it.
        def function(value: Any, context: transforms.Context, **own: Any) -> Any:
            return transforms.apply(name, value, context, own)

    separator = params.get("join")
    parts = path.split(".")
    looked_for = _looked_for(row)
    return _Row(
        row=row,
        path=path,
        parts=tuple(parts),
        above=tuple(".".join(parts[:end]) for end in range(len(parts), 0, -1)) if path else (),
        where=params.get("where"),
        pick=params.get("pick", "all"),
        name=name,
        function=function,
        own_params=own,
        as_is=function is transforms.identity and not own,
        separator=separator if isinstance(separator, str) else None,
        as_of=_as_of(params.get("as_of"), path),
        looked_for=looked_for,
        named=f"{looked_for} ({row.subject_label})" if row.subject_label else looked_for,
        origin=(
            "supplement"
            if row.from_supplement
            else "gateway"
            if row.transform in MINTED_BY
            else "national"
        ),
    )


def _plan(attribute: Attribute, rows: list[MappingRow], category: str) -> _Plan:
    obligation = attribute.obligation(category)
    national = tuple(
        _compile_row(r) for r in rows if r.subject_id != NO_TERM_FOUND and not r.from_supplement
    )
    supplement = tuple(_compile_row(r) for r in rows if r.from_supplement)
    fixed = None
    if obligation == "not_applicable":
        fixed = AttributeResult(
            attribute,
            "not_applicable",
            obligation,
            reason=f"does not apply to {category} batteries",
        )
    elif not rows:
        fixed = AttributeResult(attribute, "unmappable", obligation, reason="no mapping row")
    elif not national and not supplement:
        first = rows[0]
        fixed = AttributeResult(
            attribute,
            "unmappable",
            obligation,
            relation=NO_TERM_FOUND,
            row=first.number,
            reason=first.comment,
        )
    every = national + supplement

    def heads(rows: tuple[_Row, ...]) -> tuple[tuple[str, str | None], ...]:
        return tuple((r.parts[0], r.parts[1] if len(r.parts) > 1 else None) for r in rows)

    plan = _Plan(
        attribute,
        obligation,
        tuple(rows),
        national,
        supplement,
        fixed,
        heads=heads(every),
        above=frozenset(path for r in every for path in r.above),
        lead=(
            national[0]
            if national and national[0].row.predicate_id == "skos:exactMatch"
            else supplement[0]
            if not national and supplement
            else None
        ),
        rivals=heads(supplement) if national else (),
    )
    if fixed is None and every:
        plan = replace(plan, empty=_nothing_read(plan))
    return plan


def _empty(plan: _Plan, record: dict[str, Any], withheld: Mapping[str, str]) -> bool:
    """Whether no row of the plan reads a value of the record and none is withheld."""
    return (
        bool(plan.heads)
        and _none_read(plan.heads, record)
        and not (withheld and not plan.above.isdisjoint(withheld))
    )


def _none_read(heads: tuple[tuple[str, str | None], ...], record: dict[str, Any]) -> bool:
    """Whether the record lacks the first or second name of every path of ``heads`` (so
    :func:`_read` finds nothing, and no transform runs), checked by look-ups alone."""
    for top, second in heads:
        node = record.get(top)
        if node is None:
            continue
        if second is None or type(node) is not dict or node.get(second) is not None:
            return False
    return True


def _lead_fills(
    plan: _Plan,
    record: dict[str, Any],
    context: transforms.Context,
    withheld: Mapping[str, str],
) -> AttributeResult | None:
    """The attribute filled by its ``lead`` row when that row gives a value and no
    other row could change the outcome (:attr:`_Plan.rivals` read nothing); ``None``
    otherwise, and every row is tried (:func:`_resolve_attribute`)."""
    row = plan.lead
    if row is None or (withheld and _kept(row.above, withheld) is not None):
        return None
    if plan.rivals and not _none_read(plan.rivals, record):
        return None
    tried = _try_row(row, plan.attribute, context, withheld)
    if not isinstance(tried, _Found):
        return None
    return _result(plan.attribute, plan.obligation, tried, "filled", "")


def _nothing_read(plan: _Plan) -> AttributeResult:
    """What :func:`_resolve_attribute` gives when no row reads a value and none is
    withheld: no value, no notes, every national field absent."""
    return _unfilled(plan, "", absent=[r.looked_for for r in plan.national], present=())


def _unfilled(
    plan: _Plan, notes: str, *, absent: Iterable[str], present: Iterable[str]
) -> AttributeResult:
    """The result of an attribute no row filled and none withheld: unmappable without a
    national row, else missing, with a reason that is true of the record (``notes``:
    why rows that had data gave none; ``absent``: the national fields the record lacks;
    ``present``: those it has that gave nothing to publish)."""
    attribute, obligation = plan.attribute, plan.obligation
    first = plan.rows[0]
    if first.subject_id == NO_TERM_FOUND:
        return AttributeResult(
            attribute,
            "unmappable",
            obligation,
            relation=NO_TERM_FOUND,
            row=first.number,
            reason=first.comment,
        )
    if not plan.national:
        return AttributeResult(
            attribute,
            "unmappable" if not notes else "missing_data",
            obligation,
            source=first.source_path,
            relation=first.predicate_id,
            row=first.number,
            reason=notes or f"no national counterpart; supply {first.source_path}",
        )
    national_row = plan.national[0].row
    absent, present = dict.fromkeys(absent), dict.fromkeys(present)
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


class _Found(NamedTuple):
    row: _Row
    value: Any
    languages: tuple[tuple[str, str], ...]
    measured_at: str | None


class _Search:
    """What trying one source's rows found: a value, a withheld row, and the reasons
    rows that had data gave none. (A plain class: one or two are made per attribute of
    every record.)"""

    __slots__ = ("found", "notes", "withheld")

    def __init__(self) -> None:
        self.found: _Found | None = None
        self.withheld: tuple[MappingRow, str] | None = None
        self.notes: list[str] = []


#: What searching no rows finds (never changed).
_NOTHING = _Search()


def _resolve_attribute(
    plan: _Plan,
    context: transforms.Context,
    withheld: Mapping[str, str],
) -> AttributeResult:
    attribute = plan.attribute
    obligation = plan.obligation
    national = _search(plan.national, attribute, context, withheld)
    supplement = _search(plan.supplement, attribute, context, withheld)
    found = national.found
    exact = found is not None and found.row.row.predicate_id == "skos:exactMatch"
    if found is not None and exact:
        other = supplement.found
        conflict = other is not None and other.value != found.value
        reason = (
            f"{other.row.path} differs from the national record, whose value is "
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
            f"{found.row.row.predicate_id}: {found.row.row.comment}".strip(),
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
    # Say which fields are absent and which are present but gave nothing to publish (a
    # record with events, none of them a repair), so the reason is true of the record.
    absent = dict.fromkeys(r.looked_for for r in plan.national if not _read(context.record, r))
    present = [r.named for r in plan.national if r.looked_for not in absent]
    return _unfilled(plan, notes, absent=absent, present=present)


#: A result made without its generated ``__init__``: a frozen dataclass sets each of its
#: fourteen fields through ``object.__setattr__``, which costs three times filling its
#: ``__dict__`` at once, and one result is made for most attributes of every record.
_new_result = object.__new__


def _result(
    attribute: Attribute,
    obligation: str,
    found: _Found,
    status: str,
    reason: str,
    *,
    conflict: bool = False,
) -> AttributeResult:
    compiled_row = found.row
    row = compiled_row.row
    result: AttributeResult = _new_result(AttributeResult)
    # Every field, in the order the dataclass declares them (as its __init__ sets them).
    result.__dict__.update(
        {
            "attribute": attribute,
            "status": status,
            "obligation": obligation,
            "value": found.value,
            "source": compiled_row.path,
            "relation": row.predicate_id,
            "row": row.number,
            "reason": reason,
            "source_label": row.subject_label,
            "source_label_zh": row.subject_label_zh,
            "measured_at": found.measured_at,
            "languages": found.languages,
            "origin": compiled_row.origin,
            "conflict": conflict,
        }
    )
    return result


def _search(
    rows: tuple[_Row, ...],
    attribute: Attribute,
    context: transforms.Context,
    withheld: Mapping[str, str],
) -> _Search:
    """The first row of ``rows`` that yields a publishable value."""
    if not rows:
        return _NOTHING
    search = _Search()
    for compiled_row in rows:
        policy_reason = _kept(compiled_row.above, withheld) if withheld else None
        if policy_reason is not None:
            search.withheld = search.withheld or (compiled_row.row, policy_reason)
            continue
        tried = _try_row(compiled_row, attribute, context, withheld)
        if isinstance(tried, _Found):
            search.found = tried
            return search
        if tried is not None:
            search.notes.append(tried)
    return search


def _try_row(
    compiled_row: _Row,
    attribute: Attribute,
    context: transforms.Context,
    withheld: Mapping[str, str],
) -> _Found | str | None:
    """What one row gives: its value as found, the reason it gives none (a refused
    value, an undated or first-life dynamic value), or ``None`` when it reads nothing."""
    try:
        value = _row_value(compiled_row, attribute, context)
    except transforms.Refused as refused:
        return refused.reason
    if value is None:
        return None
    languages: tuple[tuple[str, str], ...] = ()
    if isinstance(value, transforms.Multilingual):
        languages = value.languages
        value = value.text
    measured = None
    if not attribute.static:
        measured, note = _measurement(compiled_row, context.record, withheld)
        if note:
            return note
    return _Found(compiled_row, value, languages, measured)


def _kept(above: tuple[str, ...], withheld: Mapping[str, str]) -> str | None:
    """Why the data policy keeps a path in China: the reason of the path or of the
    nearest object above it that it keeps (``above``: the path, then its parents)."""
    for path in above:
        reason = withheld.get(path)
        if reason is not None:
            return reason
    return None


def _measurement(
    row: _Row, record: Mapping[str, Any], withheld: Mapping[str, str]
) -> tuple[str | None, str]:
    """When a dynamic value was measured, or why it cannot be published.

    :returns: ``(time, "")``, or ``(None, reason)``: undated (or its date kept in China
        by the data policy), or measured before the battery was repurposed (a first-life
        value).
    """
    path, as_of = row.path, ", ".join(row.as_of)
    times = [str(t) for when in row.as_of for t in resolve(record, when)]
    if not times:
        kept = next(filter(None, (_withheld_reason(when, withheld) for when in row.as_of)), None)
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


def _as_of(given: Any, path: str) -> tuple[str, ...]:
    """A row's ``as_of``: one path or a list of them (a value stated from several
    sources is as recent as the latest); by default the usage summary's date for a usage
    member and the latest event's for the rest."""
    if isinstance(given, str):
        return (given,)
    if isinstance(given, list) and given:
        return tuple(str(p) for p in given)
    return (USAGE_AS_OF if path.startswith("usage.") else LATEST_EVENT,)


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


def _row_value(row: _Row, attribute: Attribute, context: transforms.Context) -> Any:
    path = row.path
    found = _read(context.record, row)
    if not found:
        return None
    if len(found) > 1:
        if row.pick == "first":
            found = found[:1]
        elif row.pick == "last":
            found = found[-1:]
    out: list[Any] = []
    for item in found:
        value = item if row.as_is else _transformed(row, attribute, context, item)
        if isinstance(value, list):
            out.extend(_checked(v, attribute, row.row, path) for v in value)
        elif isinstance(value, transforms.Multilingual):
            _checked(value.text, attribute, row.row, path)
            out.append(value)
        elif value is not None:
            if len(found) == 1:
                # One value read (most rows of most records): the value itself.
                return _checked(value, attribute, row.row, path)
            out.append(_checked(value, attribute, row.row, path))
    if not out:
        return None
    separator = row.separator
    if separator is not None and len(out) > 1:
        # Several items of a list as one statement (the repairs of a battery), where the
        # catalog holds one text.
        return separator.join(str(v) for v in out)
    return out[0] if len(out) == 1 else out


def _transformed(row: _Row, attribute: Attribute, context: transforms.Context, item: Any) -> Any:
    """The row's transform of one value read, its failure named by row and path."""
    try:
        return row.function(item, context, **row.own_params)
    except (TransformError, KeyError, TypeError, ArithmeticError) as exc:
        detail = exc.detail if isinstance(exc, TransformError) else repr(exc)
        raise TransformError(
            f"mapping row {row.row.number} ({row.name}) cannot turn {row.path} into "
            f"{attribute.key}: {detail}",
            pointer="/" + row.path.replace(".", "/"),
            row=row.row.number,
        ) from exc


def _read(record: Mapping[str, Any], row: _Row) -> list[Any]:
    """The values a row reads: :func:`~gateway.transform.paths.resolve`, with the
    common case (objects all the way down, no list on the way) read by direct look-ups,
    since every row of every record reads one."""
    node: Any = record
    for name in row.parts:
        if type(node) is not dict:
            return resolve(record, row.path, row.where)
        node = node.get(name)
        if node is None:
            return []
    if isinstance(node, list):
        return [v for v in node if v not in (None, "")]
    return [] if node == "" else [node]


def _checked(value: Any, attribute: Attribute, row: MappingRow, path: str) -> Any:
    """Refuse a value whose JSON type breaks the attribute's (DESIGN §5: no floats)."""
    # Most values are text, never a structured value: no look-up for them.
    parts = () if type(value) is str else STRUCTURED_PARTS.get(attribute.term, ())
    if parts and isinstance(value, Mapping) and value and all(name in parts for name in value):
        # a structured value (a battery's length, width and height): each part is one
        # value of the attribute's type and unit
        for part in value.values():
            _checked(part, attribute, row, path)
        return value
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
