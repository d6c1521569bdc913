"""The white-list of comprehensive-utilisation enterprises (规范条件 "白名单").

MIIT publishes, in batches, the enterprises that meet the 《新能源汽车废旧动力蓄电池综合
利用行业规范条件》 standard conditions, each for echelon use (梯次利用), recycling
(再生利用) or both; enterprises can later be removed. The lists are PDF or Word annexes to
MIIT announcements with no machine-readable form, so the gateway keeps a dated table:

* ``data/whitelist.csv``: the listings shipped with the gateway (only what public
  sources confirm; see ``data/SOURCES.md``);
* ``data/whitelist-batches.csv``: what is known of each batch (date, firm counts), so
  a lookup can say when the table is known to be incomplete;
* listings added by ``gateway whitelist import``, overlaid on the shipped ones by
  ``licence_no``: kept in the instance's database (``gateway.services.whitelist``);
  older instances kept them in ``GATEWAY_HOME/whitelist.csv``, which this module still
  reads and writes for a gateway without a database and for taking the file over.

``licence_no`` is the gateway's stable id of one listing, ``MIIT-<year>-<announcement
no.>-<nn>`` (MIIT assigns none).

The module stays whole although it is over 500 lines: it is the white-list's one
reader and writer. The table's columns, :class:`Listing`, the rules a row must meet and
the lookups over listings share the same fields and dates, and the import merges and
rewrites the same table; split, every caller would import one table from two places.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn

from gateway.csv_cells import FORMULA_START
from gateway.errors import ConfigError, WhitelistInvalid

DATA_DIR = Path(__file__).resolve().parent / "data"
WHITELIST_PATH = DATA_DIR / "whitelist.csv"
BATCHES_PATH = DATA_DIR / "whitelist-batches.csv"
INSTANCE_FILE = "whitelist.csv"

COLUMNS = [
    "batch",
    "announcement_no",
    "announced_on",
    "province",
    "name",
    "name_en",
    "type",
    "status",
    "removed_on",
    "licence_no",
]
ACTIVITIES = ("echelon_use", "recycling")
TYPES = ("echelon_use", "recycling", "both", "unknown")
STATUSES = ("listed", "removed")
_LICENCE = re.compile(r"[A-Z0-9][A-Z0-9-]{2,63}")
_MAX_BYTES = 5 * 1024 * 1024
_MAX_ROWS = 20_000
_MAX_CELL = 200
# A cell a spreadsheet would run as a formula (CSV injection) is refused outright, so
# the instance's white-list file this module writes never holds one.
_FORMULA_START = FORMULA_START


@dataclass(frozen=True)
class Listing:
    """One enterprise on the white-list, as announced.

    ``type`` is ``unknown`` when the announcement's qualification column is not in the
    shipped sources; ``removed_on`` is set when ``status`` is ``removed``.
    """

    batch: int
    announcement_no: str
    announced_on: dt.date
    province: str
    name: str
    name_en: str
    type: str
    status: str
    removed_on: dt.date | None
    licence_no: str

    def listed_on(self, day: dt.date) -> bool:
        """Whether the listing is in force on ``day``."""
        if day < self.announced_on:
            return False
        return self.removed_on is None or day < self.removed_on

    def covers(self, activity: str) -> bool | None:
        """Whether the listing is for ``activity``; None when its type is unknown."""
        if self.type == "unknown":
            return None
        return self.type in (activity, "both")

    def as_dict(self) -> dict[str, Any]:
        """The listing as JSON-ready data."""
        data = asdict(self)
        data["announced_on"] = self.announced_on.isoformat()
        data["removed_on"] = self.removed_on.isoformat() if self.removed_on else None
        return data

    def as_row(self) -> dict[str, str]:
        """The listing as a CSV row."""
        data = self.as_dict()
        return {c: "" if data[c] is None else str(data[c]) for c in COLUMNS}


@dataclass(frozen=True)
class Batch:
    """What the sources say of one white-list batch (counts may be unknown: None)."""

    batch: int
    announcement_no: str
    announced_on: dt.date | None
    firms: int | None
    cumulative: int | None
    confidence: str
    note: str
    #: where the batch's facts were read (a page address, or empty when none was found)
    source: str = ""


@dataclass(frozen=True)
class Check:
    """The outcome of checking one party against the white-list on one date.

    ``status`` is one of ``listed``, ``activity_unknown`` (listed, type not recorded),
    ``other_activity``, ``not_yet_listed``, ``removed``, ``not_listed``. ``listing`` is
    the listing the verdict rests on (None for ``not_listed``); ``matched_by`` says
    whether it was found by ``licence_no`` or ``name``.
    """

    status: str
    listing: Listing | None = None
    matched_by: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "listed"


@dataclass(frozen=True)
class Change:
    """One listing an import changed: the fields that differ, old -> new."""

    licence_no: str
    fields: Mapping[str, tuple[str, str]]


@dataclass(frozen=True)
class ImportResult:
    """What an import did to the instance's white-list."""

    added: tuple[Listing, ...] = ()
    changed: tuple[Change, ...] = ()
    unchanged: tuple[str, ...] = ()
    path: Path | None = None

    def as_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data (for the CLI, the API and the audit trail)."""
        return {
            "added": [listing.as_dict() for listing in self.added],
            "changed": [
                {
                    "licence_no": c.licence_no,
                    "fields": {k: {"old": old, "new": new} for k, (old, new) in c.fields.items()},
                }
                for c in self.changed
            ],
            "unchanged": list(self.unchanged),
        }


def normalise_name(name: str) -> str:
    """A company name in the form names are compared in: NFKC (full-width brackets and
    letters folded), no whitespace, case-folded."""
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


@dataclass(frozen=True)
class Whitelist:
    """The dated white-list.

    :param listings: every listing, in file order.
    :param batches: what is known of each batch, by batch number.
    """

    listings: tuple[Listing, ...]
    batches: Mapping[int, Batch] = field(default_factory=dict)

    @classmethod
    def load(
        cls, path: Path | str | None = None, batches: Mapping[int, Batch] | None = None
    ) -> Whitelist:
        """Read a white-list table (default: the one shipped with the gateway, with the
        shipped batch metadata).

        :param path: a CSV file with the columns of :data:`COLUMNS`.
        :param batches: what is known of each batch, for :meth:`completeness`; default:
            nothing for a given file.
        :returns: the white-list.
        :raises WhitelistInvalid: a row breaks a rule (``errors`` names line and column).
        :raises ConfigError: the file cannot be read.
        """
        if path is None:
            return _shipped()
        return cls(tuple(import_csv(path)), batches or {})

    @classmethod
    def for_home(cls, home: Path | str) -> Whitelist:
        """The white-list an instance uses: the shipped listings overlaid with those in
        ``home/whitelist.csv`` (same ``licence_no`` replaces), if that file exists.

        :param home: the instance folder (``Settings.home``).
        :raises WhitelistInvalid: the instance file breaks a rule.
        """
        local = Path(home) / INSTANCE_FILE
        shipped = _shipped()
        if not local.is_file():
            return shipped
        return shipped.overlaid(import_csv(local))

    def overlaid(self, listings: Iterable[Listing]) -> Whitelist:
        """This white-list with ``listings`` added or replacing same-``licence_no`` ones."""
        merged = {listing.licence_no: listing for listing in self.listings}
        for listing in listings:
            merged[listing.licence_no] = listing
        return replace(self, listings=tuple(merged.values()))

    def find(self, key: str) -> list[Listing]:
        """Listings whose ``licence_no`` is ``key``, else those whose name matches it."""
        by_licence = [item for item in self.listings if item.licence_no == key]
        if by_licence:
            return by_licence
        wanted = normalise_name(key)
        return [item for item in self.listings if normalise_name(item.name) == wanted]

    def check(self, key: str, on: dt.date, activity: str | None) -> Check:
        """Check a party against the list on a date.

        :param key: the party's ``licence_no`` or company name.
        :param on: the date of the hand-over.
        :param activity: ``echelon_use``, ``recycling``, or None for either.
        :returns: the verdict; when several listings match, the most favourable one.
        """
        if activity is not None and activity not in ACTIVITIES:
            raise ValueError(f"activity must be one of {', '.join(ACTIVITIES)}")
        candidates = self.find(key)
        if not candidates:
            return Check("not_listed")
        matched_by = "licence_no" if candidates[0].licence_no == key else "name"
        # Best verdict first: a firm may have several listings (re-listed, new batch).
        order = ("listed", "activity_unknown", "other_activity", "removed", "not_yet_listed")
        verdicts = []
        for listing in candidates:
            if listing.listed_on(on):
                covers = True if activity is None else listing.covers(activity)
                status = {True: "listed", None: "activity_unknown", False: "other_activity"}[covers]
            elif on < listing.announced_on:
                status = "not_yet_listed"
            else:
                status = "removed"
            verdicts.append((order.index(status), Check(status, listing, matched_by)))
        return min(verdicts, key=lambda pair: pair[0])[1]

    def lookup(self, key: str, on: dt.date, activity: str | None) -> Listing | None:
        """The listing that puts a party on the list for ``activity`` on ``on``.

        :param key: the party's ``licence_no`` or company name.
        :param on: the date.
        :param activity: ``echelon_use``, ``recycling``, or None for either.
        :returns: the listing, or None when the party is not listed for that activity on
            that date (a listing whose type is ``unknown`` does not count).
        """
        verdict = self.check(key, on, activity)
        return verdict.listing if verdict.ok else None

    def completeness(self) -> dict[str, Any]:
        """How much of the announced white-list the table holds.

        :returns: ``{"complete": bool, "listed": n, "announced": n or None,
            "batches": [{batch, announced, present, confidence, source}]}``. ``complete``
            is false when the batch metadata shows listings missing: a batch of unknown
            size, or one with fewer listings than announced. ``announced`` is the latest
            cumulative count the sources give, None when none is known.
        """
        present: dict[int, int] = {}
        for listing in self.listings:
            present[listing.batch] = present.get(listing.batch, 0) + 1
        rows = [
            {
                "batch": n,
                "announced": batch.firms,
                "present": present.get(n, 0),
                "confidence": batch.confidence,
                "source": batch.source,
            }
            for n, batch in sorted(self.batches.items())
        ]
        complete = all(
            batch.firms is not None and present.get(n, 0) >= batch.firms
            for n, batch in self.batches.items()
        )
        cumulative = [b.cumulative for b in self.batches.values() if b.cumulative is not None]
        return {
            "complete": complete,
            "listed": len(self.listings),
            "announced": max(cumulative) if cumulative else None,
            "batches": rows,
        }


@lru_cache(maxsize=1)
def _shipped() -> Whitelist:
    return Whitelist(tuple(import_csv(WHITELIST_PATH)), _batches())


@lru_cache(maxsize=1)
def _batches() -> Mapping[int, Batch]:
    out: dict[int, Batch] = {}
    try:
        with BATCHES_PATH.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                out[int(row["batch"])] = Batch(
                    batch=int(row["batch"]),
                    announcement_no=row["announcement_no"],
                    announced_on=(
                        dt.date.fromisoformat(row["announced_on"]) if row["announced_on"] else None
                    ),
                    firms=int(row["firms"]) if row["firms"] else None,
                    cumulative=int(row["cumulative"]) if row["cumulative"] else None,
                    confidence=row["confidence"],
                    note=row["note"],
                    source=row.get("source") or "",
                )
    except (OSError, KeyError, ValueError) as exc:
        raise ConfigError(f"{BATCHES_PATH.name}: {exc}") from exc
    return out


# -- reading and validating a table ---------------------------------------------------


def import_csv(path: Path | str) -> list[Listing]:
    """Read and validate a white-list CSV file.

    :param path: the file (UTF-8, optionally with a byte-order mark).
    :returns: its listings, in file order.
    :raises WhitelistInvalid: any row breaks a rule; ``errors`` lists every problem as
        ``{line, column, message}`` and the message names the first.
    :raises ConfigError: the file cannot be read.
    """
    path = Path(path)
    try:
        data = path.read_bytes() if path.stat().st_size <= _MAX_BYTES else None
    except OSError as exc:
        raise ConfigError(f"{path.name}: cannot read white-list: {exc.strerror}") from exc
    if data is None:
        raise WhitelistInvalid(f"{path.name}: larger than {_MAX_BYTES} bytes; refused", errors=[])
    return parse_csv(data, source=path.name)


def parse_csv(data: bytes, *, source: str = "white-list") -> list[Listing]:
    """Parse and validate white-list CSV bytes.

    :param data: the CSV document.
    :param source: the name used in messages.
    :returns: its listings.
    :raises WhitelistInvalid: see :func:`import_csv`.
    """
    problems: list[dict[str, Any]] = []

    def problem(line: int, column: str, message: str) -> None:
        problems.append({"line": line, "column": column, "message": message})

    if len(data) > _MAX_BYTES:
        raise WhitelistInvalid(f"{source}: larger than {_MAX_BYTES} bytes; refused", errors=[])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise WhitelistInvalid(
            f"{source}: byte {exc.start}: not UTF-8",
            errors=[{"line": 0, "column": "*", "message": "not UTF-8"}],
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        problem(1, "*", f"not valid CSV: {exc}")
        _raise(source, problems)
    missing = [c for c in COLUMNS if c not in header]
    extra = [c for c in header if c not in COLUMNS]
    if missing or extra:
        words = []
        if missing:
            words.append("missing " + ", ".join(missing))
        if extra:
            words.append("unknown " + ", ".join(map(str, extra)))
        problem(1, "*", "; ".join(words) + f" (columns are {','.join(COLUMNS)})")
        _raise(source, problems)

    listings: list[Listing] = []
    seen: dict[str, int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if len(listings) + len(problems) >= _MAX_ROWS:
                problem(line, "*", f"more than {_MAX_ROWS} rows; refused")
                break
            listing = _row(row, line, problem)
            if listing is None:
                continue
            if listing.licence_no in seen:
                problem(
                    line,
                    "licence_no",
                    f"{listing.licence_no} already used on line {seen[listing.licence_no]}",
                )
                continue
            seen[listing.licence_no] = line
            listings.append(listing)
    except csv.Error as exc:
        problem(reader.line_num, "*", f"not valid CSV: {exc}")
    if problems:
        _raise(source, problems)
    return listings


def _raise(source: str, problems: Sequence[Mapping[str, Any]]) -> NoReturn:
    first = problems[0]
    detail = f"{source} line {first['line']}, column {first['column']}: {first['message']}"
    if len(problems) > 1:
        detail += f" (and {len(problems) - 1} more problem(s), see errors)"
    raise WhitelistInvalid(detail, errors=list(problems))


def _row(row: Mapping[str | None, Any], line: int, problem: Any) -> Listing | None:
    if None in row or any(value is None for value in row.values()):
        problem(line, "*", f"expected {len(COLUMNS)} columns")
        return None
    failures = 0

    def bad(column: str, message: str) -> None:
        nonlocal failures
        failures += 1
        problem(line, column, message)

    values: dict[str, str] = {}
    for column in COLUMNS:
        value = row[column].strip()
        if len(value) > _MAX_CELL:
            bad(column, f"longer than {_MAX_CELL} characters")
        elif any(unicodedata.category(ch) == "Cc" for ch in value):
            bad(column, "contains a control character")
        elif value.startswith(_FORMULA_START):
            bad(column, f"starts with {value[0]!r} (a spreadsheet formula); refused")
        values[column] = value

    batch = None
    text = values["batch"]
    if text.isascii() and text.isdigit() and int(text) >= 1:
        batch = int(text)
    else:
        bad("batch", f"{text!r} is not a batch number (1, 2, ...)")
    for column in ("announcement_no", "name"):
        if not values[column]:
            bad(column, "is required")
    announced = _date(values["announced_on"], "announced_on", bad, required=True)
    removed = _date(values["removed_on"], "removed_on", bad, required=False)
    if values["type"] not in TYPES:
        bad("type", f"{values['type']!r} is not one of {', '.join(TYPES)}")
    if values["status"] not in STATUSES:
        bad("status", f"{values['status']!r} is not one of {', '.join(STATUSES)}")
    elif values["status"] == "removed" and not values["removed_on"]:
        bad("removed_on", "is required when status is removed")
    elif values["status"] == "listed" and values["removed_on"]:
        bad("removed_on", "must be empty when status is listed")
    if announced and removed and removed < announced:
        bad("removed_on", f"{removed} is before announced_on {announced}")
    if not _LICENCE.fullmatch(values["licence_no"]):
        bad(
            "licence_no",
            f"{values['licence_no']!r} is not an id like MIIT-2018-40-01 "
            "(3-64 characters A-Z, 0-9, '-')",
        )
    if failures or batch is None or announced is None:
        return None
    return Listing(
        batch=batch,
        announcement_no=values["announcement_no"],
        announced_on=announced,
        province=values["province"],
        name=values["name"],
        name_en=values["name_en"],
        type=values["type"],
        status=values["status"],
        removed_on=removed,
        licence_no=values["licence_no"],
    )


def _date(value: str, column: str, bad: Any, *, required: bool) -> dt.date | None:
    if not value:
        if required:
            bad(column, "is required")
        return None
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        bad(column, f"{value!r} is not a date YYYY-MM-DD")
        return None


# -- importing into an instance -------------------------------------------------------


def plan_import(listings: Iterable[Listing], current: Whitelist) -> ImportResult:
    """What merging ``listings`` into the white-list ``current`` adds and changes.

    A listing whose ``licence_no`` is new is added; one that exists (shipped or imported
    before) with other values replaces it; listings not given stay as they are.

    :param listings: validated listings (from :func:`import_csv` or :func:`parse_csv`).
    :param current: the white-list in force (shipped listings overlaid with imported ones).
    :returns: what would be added, changed and left unchanged.
    """
    effective = {item.licence_no: item for item in current.listings}
    added: list[Listing] = []
    changed: list[Change] = []
    unchanged: list[str] = []
    for listing in listings:
        old = effective.get(listing.licence_no)
        if old is None:
            added.append(listing)
        elif old != listing:
            before, after = old.as_row(), listing.as_row()
            diff = {
                f.name: (before[f.name], after[f.name])
                for f in fields(Listing)
                if before[f.name] != after[f.name]
            }
            changed.append(Change(listing.licence_no, diff))
        else:
            unchanged.append(listing.licence_no)
            continue
        effective[listing.licence_no] = listing
    return ImportResult(tuple(added), tuple(changed), tuple(unchanged))


def import_rows(
    listings: Iterable[Listing], home: Path | str, *, dry_run: bool = False
) -> ImportResult:
    """Merge listings into a white-list file in an instance folder (``home/whitelist.csv``).

    Instances keep their imported listings in the database; this file is what older
    instances kept, taken over when such an instance is next opened, and what a
    gateway without a database can still use. The file is replaced atomically (written
    beside it, then renamed).

    :param listings: validated listings (from :func:`import_csv` or :func:`parse_csv`).
    :param home: the instance folder (``Settings.home``).
    :param dry_run: compute the result without writing.
    :returns: what was added, changed and left unchanged (see :func:`plan_import`).
    :raises WhitelistInvalid: the existing instance file is invalid.
    """
    home = Path(home)
    local_path = home / INSTANCE_FILE
    local = {
        item.licence_no: item for item in (import_csv(local_path) if local_path.is_file() else [])
    }
    listings = list(listings)
    result = plan_import(listings, Whitelist.for_home(home))
    written = {item.licence_no for item in result.added}
    written.update(change.licence_no for change in result.changed)
    for listing in listings:
        if listing.licence_no in written:
            local[listing.licence_no] = listing
    if (result.added or result.changed) and not dry_run:
        _write_atomically(local_path, local.values())
    return replace(result, path=local_path)


def _write_atomically(path: Path, listings: Iterable[Listing]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(
        "w",
        encoding="utf-8",
        newline="",
        dir=path.parent,
        prefix=".whitelist-",
        suffix=".csv",
        delete=False,
    )
    try:
        with handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
            writer.writeheader()
            for listing in listings:
                writer.writerow(listing.as_row())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
