"""Gap reports as the store keeps them: what is specific to the record, joined on read
to parts that many reports share.

A gap report names, for each of some hundred EU attributes, the attribute's label, its
Annex XIII point and obligation, and the mapping row that decided it with that row's
source path and labels: the same text in every report made with the same table, most of
a report's bytes. The stored form keeps, per attribute, its status and mapping row (one
short text) and only the fields that differ from what the template of its table,
catalog and battery category says (a reason that names the record's values, a
measurement time, a conflict). The other parts many reports share are kept the same
way: the mapping named, the policy decision, the data policy's reasons, the texts that
quote a national rule's source and the reference data the findings were judged against.
Each shared part is stored once in ``gap_report_templates`` under the SHA-256 of its
canonical JSON, so it never changes and any number of instances may write the same one.

Reports stored before this form (whole reports), and reports of a shape this module does
not know, are stored and read as they are.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from itertools import compress, count, repeat
from operator import itemgetter, ne
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from gateway.errors import GatewayError
from gateway.mapping import loader
from gateway.mapping.model import NO_TERM_FOUND, SUPPLEMENT, MappingRow, MappingSet
from gateway.mapping.sssom import read_sssom
from gateway.store import tables

#: The marker of the stored form, beside the template's id.
PACKED = "gaps-packed/1"
#: The statuses of the gap report, stored by their place in this tuple (any other is
#: stored as its text).
STATUSES = ("filled", "partial", "missing_data", "unmappable", "withheld", "not_applicable")
#: The fields of one attribute of a gap report, in their order.
FIELDS = (
    "key",
    "term",
    "label",
    "status",
    "point",
    "access_group",
    "mandatory",
    "obligation",
    "source",
    "source_label",
    "source_label_zh",
    "relation",
    "mapping_row",
    "reason",
    "origin",
    "measured_at",
    "conflict",
)
#: The fields a template gives per attribute, and per mapping row.
ATTRIBUTE_FIELDS = ("key", "term", "label", "point", "access_group", "mandatory", "obligation")
ROW_FIELDS = ("source", "source_label", "source_label_zh", "relation", "comment")
#: The fields of a national finding that quote its rule's source, the same text in
#: every finding of the rule.
RULE_TEXTS = ("source", "uncertainty")
#: The fields of a national finding, in their order.
FINDING_FIELDS = (
    "rule",
    "severity",
    "message",
    "fields",
    "source",
    "uncertain",
    "uncertainty",
    "details",
)
#: The summary's counts by status (``by_section`` holds one per section).
COUNTS = ("by_status", "mandatory", "voluntary")

_KEPT = 256
_LOCK = threading.Lock()
#: Templates by id: content-addressed, so the same on every database.
_TEMPLATES: OrderedDict[str, dict[str, Any]] = OrderedDict()
#: Ids of shared parts by orjson's text of them, for parts of at most this many bytes.
_IDS: OrderedDict[bytes, str] = OrderedDict()
_ID_TEXT_KEPT = 16_384
#: Templates of attributes by their fields and mapping table (see _attribute_template),
#: at most _SHARED_KEPT (one per mapping table, catalog and category in use); with their
#: entries and plans, at most some 2 MB each.
_SHARED: OrderedDict[Any, tuple[str, _Defaults]] = OrderedDict()
_SHARED_KEPT = 32
#: Entries a template's defaults hold before they start over.
_DEFAULTS_KEPT = 1024
_ATTRIBUTE_FIELDS = itemgetter(*ATTRIBUTE_FIELDS)
_DECIDING_FIELDS = itemgetter("status", "mapping_row")
_STATUS = itemgetter("status")
_REASON = itemgetter("reason")
#: Differing attributes a template's defaults hold before they start over (each with
#: its stored text, some hundreds of bytes).
_ODD_KEPT = 256
#: Plans a template's defaults hold before they start over.
_PLANS_KEPT = 64
#: Mapping rows as a template gives them, by mapping table hash (content-addressed too).
_ROWS: OrderedDict[str, dict[str, list[Any]]] = OrderedDict()
#: The stored form of recent reports' attributes (see :func:`pack`), by their text,
#: mapping table and battery category: a batch's records mostly share one, or a few.
_PACKED_ATTRIBUTES: OrderedDict[tuple[bytes, str, bool, str | None], _PackedAttributes] = (
    OrderedDict()
)
_PACKED_KEPT = 16
#: Texts of attributes longer than this are packed each time (not kept).
_WHOLE_TEXT_KEPT = 262_144


class TemplateMissing(GatewayError):
    """A stored gap report names a template the database does not hold."""

    status, slug, title = 500, "gap-report-template-missing", "Gap report template missing"


def pack(session: Any, gaps: dict[str, Any]) -> dict[str, Any]:
    """The stored form of a passport's gap report (see the module's description).

    :param session: the store's session; the report's template is written in it when
        the database does not hold it yet.
    :returns: a report of another shape than the gap report's, unchanged.
    """
    attributes = gaps.get("attributes")
    mapping = gaps.get("mapping")
    national = gaps.get("national")
    if (
        PACKED in gaps
        or not isinstance(attributes, list)
        or not isinstance(mapping, dict)
        or (national is not None and not _packable_national(national))
    ):
        return gaps
    category = gaps.get("category")
    try:
        # The attributes as the store writes them (orjson's text): the same text is the
        # same stored value, JSON types included. Records of one batch give the same
        # attributes (a gap report holds no value of the record, only what became of
        # it), so a text packed recently is not packed again.
        whole = orjson.dumps(attributes)
    except TypeError:
        # A value orjson does not write (an integer beyond 64 bits): stored as it is.
        return gaps
    rows = _mapping_rows(session, mapping)
    digest = mapping.get("hash")
    memo_key = (
        (whole, digest, bool(rows), category)
        if type(digest) is str and (category is None or type(category) is str)
        else None
    )
    done = None
    if memo_key is not None:
        with _LOCK:
            done = _PACKED_ATTRIBUTES.get(memo_key)
            if done is not None:
                _PACKED_ATTRIBUTES.move_to_end(memo_key)
    if done is None:
        done = _pack_attributes(attributes, mapping, rows, category)
        if done is None:
            return gaps
        if memo_key is not None and len(whole) <= _WHOLE_TEXT_KEPT:
            with _LOCK:
                _PACKED_ATTRIBUTES[memo_key] = done
                while len(_PACKED_ATTRIBUTES) > _PACKED_KEPT:
                    _PACKED_ATTRIBUTES.popitem(last=False)
    template_id, template, decided, texts, kept, differing = done
    _write(session, template_id, template)
    packed: dict[str, Any] = {
        "template": template_id,
        # Copies: the memo's parts stay as packed whatever is done with this report.
        "differing": {index: dict(fields) for index, fields in differing.items()},
    }
    out = {**gaps, "attributes": decided}
    if kept:
        packed["policy_texts"] = _ensure(session, {"texts": list(kept)})
    # The mapping table named, and which fields the policy kept: the same for many
    # records.
    out["mapping"] = _ensure(session, mapping)
    if isinstance(gaps.get("policy"), dict):
        out["policy"] = _ensure(session, gaps["policy"])
        packed["policy"] = True
    if national is not None:
        national = dict(national)
        if isinstance(national.get("data"), dict):
            # The reference data the findings were judged against (the white-list's
            # batches), the same for every record until it is updated.
            national["data"] = _ensure(session, national["data"])
            packed["data"] = True
        # The texts that quote a rule's source are the same for every record the rule
        # fires on: kept once, with the other reports the same rules fired on.
        quoted: dict[str, int] = {}
        findings = [
            {
                k: quoted.setdefault(v, len(quoted)) if k in RULE_TEXTS and v is not None else v
                for k, v in finding.items()
            }
            for finding in national["findings"]
        ]
        # A finding of the usual fields, in their order, as the list of its values.
        national["findings"] = [
            list(f.values()) if tuple(f) == FINDING_FIELDS else f for f in findings
        ]
        packed["rule_texts"] = _ensure(session, {"texts": list(quoted)})
        out["national"] = national
    summary = gaps.get("summary")
    if isinstance(summary, dict) and _countable(summary):
        # Counts by status as lists in the order of STATUSES.
        out["summary"] = {
            k: (
                [v[s] for s in STATUSES]
                if k in COUNTS
                else {section: [c[s] for s in STATUSES] for section, c in v.items()}
                if k == "by_section"
                else v
            )
            for k, v in summary.items()
        }
        packed["summary"] = True
    packed["texts"] = list(texts)
    out[PACKED] = packed
    return out


def _pack_attributes(
    attributes: list[Any], mapping: dict[str, Any], rows: dict[str, Any], category: Any
) -> _PackedAttributes | None:
    """The stored form of a report's attributes (see :func:`pack`); ``None`` when they
    are not of the gap report's shape."""
    # Each attribute as the store writes it: equal texts are equal stored values.
    stored = list(map(orjson.dumps, attributes))
    try:
        template_id, defaults = _attribute_template(mapping, attributes, rows)
        deciding = tuple(map(_DECIDING_FIELDS, attributes))
    except (TypeError, KeyError):
        return None  # an attribute that is not an object with the gap report's fields
    texts: dict[str, int] = {}
    kept: dict[str, int] = {}
    # Per attribute, its status (its place in STATUSES), deciding row and the number of
    # its reason when the template does not give it, as one short text ("07": filled by
    # row 7; "487~-1": withheld by row 87 for the first policy reason); by attribute,
    # the other fields that differ from the template's.
    differing: dict[str, dict[str, Any]] = {}
    # What the template says of an attribute, kept with the template for a category
    # of the usual type, else for this report only.
    cached = category is None or type(category) is str
    category_key = category if cached else None
    known_by = defaults.known if cached else {}

    def known_of(index: int, status: str, number: int) -> _Known:
        known = known_by.get((index, status, number, category_key))
        if known is None:
            known = defaults.keep(
                known_by,
                (index, status, number, category_key),
                _entry(defaults.template, index, status, number, category),
                f"{STATUSES.index(status)}{number}",
            )
        return known

    # What the template says of every attribute, for the statuses and rows of this
    # report; compared with the report's attributes by their stored texts, so only the
    # attributes that differ are looked at one by one. An attribute whose text is its
    # entry's has the gap report's fields in their order, a known status and a reason
    # text, as every entry has: only a plan's first report and the attributes that
    # differ are checked for them.
    shape = (deciding, category_key)
    try:
        plan = defaults.plans.get(shape) if cached else None
    except TypeError:
        # A deciding row of a type that cannot be a key: planned for this report only.
        cached, plan = False, None
    if plan is None:
        if not _packable_attributes(attributes):
            return None
        plan = _Plan(
            known_of(index, entry["status"], _row_number(entry["mapping_row"]))
            for index, entry in enumerate(attributes)
        )
        if cached:
            if len(defaults.plans) >= _PLANS_KEPT:
                defaults.plans.clear()
            defaults.plans[shape] = plan
    decided = list(plan.codes)
    # Attributes that differ from the template the same way in many reports (the data
    # policy's reasons, the same for every record): what differs is found once.
    odd_by = defaults.odd if cached else {}
    for index in compress(count(), map(ne, stored, plan.texts)):
        odd_key = (index, category_key, stored[index])
        odd = odd_by.get(odd_key)
        if odd is None:
            entry = attributes[index]
            if not _packable_attributes((entry,)):
                return None
            status = entry["status"]
            default, _, code = known_of(index, status, _row_number(entry["mapping_row"]))
            odd = defaults.keep_odd(
                odd_by,
                odd_key,
                code,
                status == "withheld",
                {
                    k: v
                    for k, v in entry.items()
                    if default[k] != v or type(default[k]) is not type(v)
                },
            )
        code, reason, withheld, differs = odd
        if reason is not None:
            # The data policy's reasons are the same for every record under one policy
            # and the same approvals: kept once (negative numbers); the other reasons
            # repeat within a report, and are kept in it.
            if withheld:
                reason_number = -1 - kept.setdefault(reason, len(kept))
            else:
                reason_number = texts.setdefault(reason, len(texts))
            decided[index] = f"{code}~{reason_number}"
        else:
            decided[index] = code
        if differs:
            differing[str(index)] = dict(differs)
    return (template_id, defaults.template, ",".join(decided), list(texts), list(kept), differing)


def _packable_attributes(attributes: Sequence[Any]) -> bool:
    """Whether every attribute has the gap report's fields in their order, a known
    status and a reason text (checked in C, attribute by attribute)."""
    return (
        all(map(isinstance, attributes, repeat(dict)))
        and all(map(FIELDS.__eq__, map(tuple, attributes)))
        and all(map(STATUSES.__contains__, map(_STATUS, attributes)))
        and all(map(isinstance, map(_REASON, attributes), repeat(str)))
    )


def _row_number(row: Any) -> int:
    """The deciding row's number as the stored form gives it (0 for none)."""
    return row if type(row) is int and row > 0 else 0


class _Plan:
    """What a template says of every attribute of a report of some statuses and rows:
    the attributes' stored texts and their codes, in the report's order."""

    __slots__ = ("codes", "texts")

    def __init__(self, known: Iterable[_Known]) -> None:
        entries = list(known)
        self.texts = [k[1] for k in entries]
        self.codes = [k[2] for k in entries]


def _countable(summary: dict[str, Any]) -> bool:
    """Whether the summary's counts are by every status, in order."""

    def by_status(counts: Any) -> bool:
        return (
            isinstance(counts, dict)
            and tuple(counts) == STATUSES
            and all(type(n) is int for n in counts.values())
        )

    sections = summary.get("by_section")
    return (
        all(by_status(summary.get(k)) for k in COUNTS)
        and isinstance(sections, dict)
        and all(by_status(c) for c in sections.values())
    )


def _packable_national(national: Any) -> bool:
    """Whether the national findings have the shape whose rule texts are stored once."""
    return (
        isinstance(national, dict)
        and isinstance(national.get("findings"), list)
        and all(
            isinstance(f, dict) and all(isinstance(f.get(k), str | None) for k in RULE_TEXTS)
            for f in national["findings"]
        )
    )


def unpack(session: Any, stored: dict[str, Any]) -> dict[str, Any]:
    """A passport's gap report from its stored form.

    :raises TemplateMissing: a template the report names is neither known to this
        process nor in the database.
    """
    if not isinstance(stored, dict) or PACKED not in stored:
        return stored
    packed = stored[PACKED]
    template = _template(session, packed["template"])
    texts = packed["texts"]
    kept = _template(session, packed["policy_texts"])["texts"] if "policy_texts" in packed else []
    category = stored.get("category")
    differing = packed["differing"]
    attributes = []
    for index, decided in enumerate(stored["attributes"].split(",")):
        status_row, _, reason = decided.partition("~")
        entry = _entry(template, index, STATUSES[int(status_row[0])], int(status_row[1:]), category)
        if reason:
            number = int(reason)
            entry["reason"] = texts[number] if number >= 0 else kept[-1 - number]
        differs = differing.get(str(index))
        if differs:
            entry.update(differs)
        attributes.append(entry)
    report = {k: v for k, v in stored.items() if k != PACKED}
    report["attributes"] = attributes
    report["mapping"] = copy.deepcopy(_template(session, stored["mapping"]))
    if packed.get("policy"):
        # A copy: the shared part stays as stored whatever a reader does with its report.
        report["policy"] = copy.deepcopy(_template(session, stored["policy"]))
    national = stored.get("national")
    if national is not None:
        national = dict(national)
        if packed.get("data"):
            national["data"] = copy.deepcopy(_template(session, national["data"]))
        quoted = _template(session, packed["rule_texts"])["texts"]
        national["findings"] = [
            {k: quoted[v] if k in RULE_TEXTS and v is not None else v for k, v in finding.items()}
            for finding in (
                dict(zip(FINDING_FIELDS, f, strict=True)) if isinstance(f, list) else f
                for f in national["findings"]
            )
        ]
        report["national"] = national
    if packed.get("summary"):
        report["summary"] = {
            k: (
                dict(zip(STATUSES, v, strict=True))
                if k in COUNTS
                else {section: dict(zip(STATUSES, c, strict=True)) for section, c in v.items()}
                if k == "by_section"
                else v
            )
            for k, v in stored["summary"].items()
        }
    return report


def _entry(
    template: dict[str, Any], index: int, status_text: str, row: int, category: Any
) -> dict[str, Any]:
    """What the template says of one attribute with a status and a deciding row; the
    stored form keeps what differs from it."""
    key, term, label, point, access_group, mandatory, obligation = template["attributes"][index]
    source, source_label, source_label_zh, relation, comment = template["rows"].get(
        str(row), (None, None, None, None, "")
    )
    if status_text == "unmappable":
        # The engine names no field of the record for an attribute it cannot map.
        source_label = source_label_zh = None
    if status_text in ("filled", "partial"):
        origin = "supplement" if (source or "").startswith(SUPPLEMENT) else "national"
        reason = f"{relation}: {comment}".strip() if status_text == "partial" else ""
    else:
        origin = None
        reason = _reason(status_text, source, relation, comment, category)
    return {
        "key": key,
        "term": term,
        "label": label,
        "status": status_text,
        "point": point,
        "access_group": access_group,
        "mandatory": mandatory,
        "obligation": obligation,
        "source": source,
        "source_label": source_label,
        "source_label_zh": source_label_zh,
        "relation": relation,
        "mapping_row": row or None,
        "reason": reason,
        "origin": origin,
        "measured_at": None,
        "conflict": False,
    }


def _reason(status: str, source: Any, relation: Any, comment: str, category: Any) -> str:
    """The usual reason of a status that names nothing of the record."""
    if status == "not_applicable":
        return f"does not apply to {category} batteries"
    if status == "unmappable":
        if relation == NO_TERM_FOUND:
            return comment
        return f"no national counterpart; supply {source}" if source else "no mapping row"
    return ""


def _row_fields(row: MappingRow) -> list[Any]:
    if row.subject_id == NO_TERM_FOUND:
        return [None, None, None, NO_TERM_FOUND, row.comment]
    return [
        row.source_path,
        row.subject_label or None,
        row.subject_label_zh or None,
        row.predicate_id,
        row.comment,
    ]


def _mapping_rows(session: Any, mapping: dict[str, Any]) -> dict[str, list[Any]]:
    """The rows of the report's mapping table as the template gives them: from the
    shipped table or the published one in the store whose hash the report names; none
    when neither is found (each attribute then keeps its row's fields itself)."""
    digest = mapping.get("hash")
    if not isinstance(digest, str):
        return {}
    with _LOCK:
        rows = _ROWS.get(digest)
    if rows is not None:
        return rows
    mapping_set = _mapping_set(session, mapping, digest)
    if mapping_set is None:
        return {}
    rows = {str(row.number): _row_fields(row) for row in mapping_set.rows}
    with _LOCK:
        _ROWS[digest] = rows
        while len(_ROWS) > _KEPT:
            _ROWS.popitem(last=False)
    return rows


def _mapping_set(session: Any, mapping: dict[str, Any], digest: str) -> MappingSet | None:
    ref = f"{mapping.get('set')}@{mapping.get('version')}"
    try:
        shipped = loader.load(ref)
    except GatewayError:
        shipped = None
    if shipped is not None and shipped.content_hash == digest:
        return shipped
    text = session.scalar(
        select(tables.MappingVersion.table).where(
            tables.MappingVersion.mapping_set == str(mapping.get("set")),
            tables.MappingVersion.version == str(mapping.get("version")),
            tables.MappingVersion.content_hash == digest,
        )
    )
    if text is None:
        return None
    try:
        published = read_sssom(text)
    except GatewayError:
        return None
    return published if published.content_hash == digest else None


def _attribute_template(
    mapping: dict[str, Any], attributes: list[dict[str, Any]], rows: dict[str, Any]
) -> tuple[str, _Defaults]:
    """The id of the template of a report's attributes and rows, with what it says of
    each attribute (the caller writes it, once the report is found packable).

    The template is the same for every report of one mapping table, catalog and battery
    category: it is looked up by its attributes' fields and its table's hash (the rows
    are those of the table of that hash, or none when it was not found), which costs a
    tuple of the fields instead of its canonical JSON and digest per report.
    """
    fields = tuple(map(_ATTRIBUTE_FIELDS, attributes))
    digest = mapping.get("hash")
    key: Any = (digest if isinstance(digest, str) else None, bool(rows), fields)
    try:
        with _LOCK:
            shared = _SHARED.get(key)
    except TypeError:
        # A field of a type that cannot be a key: identified by its canonical JSON.
        key, shared = None, None
    if shared is not None:
        return shared
    template = {"attributes": [list(f) for f in fields], "rows": rows}
    shared = (_identify(template), _Defaults(template))
    if key is not None:
        with _LOCK:
            _SHARED[key] = shared
            while len(_SHARED) > _SHARED_KEPT:
                _SHARED.popitem(last=False)
    return shared


#: A template's entry of one attribute, with its stored text and its code.
_Known = tuple[dict[str, Any], bytes, str]
#: What differs in a report's attribute from the template's entry: its code, its reason
#: (``None`` when the template gives it), whether the data policy gave that reason (the
#: attribute is withheld), and its other differing fields.
_Odd = tuple[str, str | None, bool, dict[str, Any]]
#: A report's attributes as stored: the template's id and body, the attributes' codes
#: (one text), the reasons kept in the report, the data policy's reasons kept apart, and
#: the fields that differ from the template's entries, by attribute.
_PackedAttributes = tuple[str, dict[str, Any], str, list[str], list[str], dict[str, dict[str, Any]]]


class _Defaults:
    """What a template says of its attributes, by attribute, status, deciding row and
    battery category: the entry with its stored text, so that a report's attribute is
    compared with it in one step; and what differs from it in the attributes of recent
    reports that did not match. Bounded: the entries of one template are at most its
    attributes times the statuses and rows that occur, and at most
    :data:`_DEFAULTS_KEPT`, :data:`_ODD_KEPT` and :data:`_PLANS_KEPT` of each kind."""

    __slots__ = ("known", "odd", "plans", "template")

    def __init__(self, template: dict[str, Any]) -> None:
        self.template = template
        self.known: dict[tuple[Any, ...], _Known] = {}
        self.odd: dict[tuple[int, Any, bytes], _Odd] = {}
        self.plans: dict[Any, _Plan] = {}

    def keep(
        self,
        known_by: dict[tuple[Any, ...], _Known],
        key: tuple[Any, ...],
        entry: dict[str, Any],
        code: str,
    ) -> _Known:
        """Remember an attribute's entry in ``known_by`` (this template's or a
        report's own), with its stored text and its stored code."""
        known = (entry, orjson.dumps(entry), code)
        if len(known_by) >= _DEFAULTS_KEPT:
            known_by.clear()
        known_by[key] = known
        return known

    @staticmethod
    def keep_odd(
        odd_by: dict[tuple[int, Any, bytes], _Odd],
        key: tuple[int, Any, bytes],
        code: str,
        withheld: bool,
        differs: dict[str, Any],
    ) -> _Odd:
        """Remember what differs in an attribute from the template's entry in ``odd_by``
        (this template's or a report's own): its reason apart, with whether the data
        policy gave it."""
        reason = differs.pop("reason", None)
        odd = (code, reason, withheld, differs)
        if len(odd_by) >= _ODD_KEPT:
            odd_by.clear()
        odd_by[key] = odd
        return odd


def _ensure(session: Any, template: dict[str, Any]) -> str:
    """Store a template (or another part many reports share) once; its id is the
    SHA-256 of its canonical JSON."""
    template_id = _identify(template)
    _write(session, template_id, template)
    return template_id


def _identify(template: dict[str, Any]) -> str:
    """A shared part's id: the SHA-256 of its canonical JSON (``json``'s text, which
    the stored ids were made with), remembered by orjson's text of it, which is several
    times cheaper to make and names one value as exactly."""
    try:
        key: bytes | None = orjson.dumps(template, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        key = None
    if key is not None:
        with _LOCK:
            known = _IDS.get(key)
        if known is not None:
            return known
    body = json.dumps(template, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256(body.encode("utf-8")).digest()
    template_id = base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
    if key is not None and len(key) <= _ID_TEXT_KEPT:
        with _LOCK:
            _IDS[key] = template_id
            while len(_IDS) > _KEPT:
                _IDS.popitem(last=False)
    return template_id


def _write(session: Any, template_id: str, template: dict[str, Any]) -> None:
    """Insert a shared part unless this transaction already did (or another writer:
    insert-or-ignore)."""
    # Written once per transaction (or savepoint): one rolled back takes its rows along.
    transaction = session.get_nested_transaction() or session.get_transaction()
    seen = session.info.get("gap_report_templates")
    if seen is None or seen[0] is not transaction:
        seen = session.info["gap_report_templates"] = (transaction, set())
    written: set[str] = seen[1]
    if template_id in written:
        return
    table = tables.GapReportTemplate
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(table)
        session.execute(
            insert.values(id=template_id, body=template).on_conflict_do_nothing(
                index_elements=["id"]
            )
        )
    elif session.get(tables.GapReportTemplate, template_id) is None:
        session.add(tables.GapReportTemplate(id=template_id, body=template))
        session.flush()
    written.add(template_id)
    _remember(template_id, template)


def _template(session: Any, template_id: str) -> dict[str, Any]:
    with _LOCK:
        template = _TEMPLATES.get(template_id)
    if template is not None:
        return template
    row = session.get(tables.GapReportTemplate, template_id) if session is not None else None
    if row is None:
        raise TemplateMissing(f"gap report template {template_id} is not in the database")
    body: dict[str, Any] = row.body
    _remember(template_id, body)
    return body


def _remember(template_id: str, template: dict[str, Any]) -> None:
    with _LOCK:
        _TEMPLATES[template_id] = template
        _TEMPLATES.move_to_end(template_id)
        while len(_TEMPLATES) > _KEPT:
            _TEMPLATES.popitem(last=False)
