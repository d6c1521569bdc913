"""What the pages need besides the API's services: a signed-in key by id, upload files
split into records, and batches (the passports one upload created).

A batch needs no table of its own: every passport an upload creates carries the
idempotency key ``web-batch:<batch id>#<item>``, so a batch is the caller's passports
whose key has that prefix, and uploading the same file again under the same batch id
returns the same passports instead of refusing them as duplicates.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gateway.auth import Principal
from gateway.errors import GatewayError, InvalidRecord, UnsupportedMediaType
from gateway.records.json_format import parse_json
from gateway.records.paths import field_kinds
from gateway.records.reader import read_record
from gateway.records.validation import validate_record
from gateway.services.instance import Instance
from gateway.services.passports import list_passports
from gateway.store.passports import StoredPassport
from gateway.vocab.catalog import load_catalog

BATCH_PREFIX = "web-batch:"
#: Upload formats by file suffix.
UPLOAD_FORMATS = {
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".xml": "xml",
    ".csv": "csv",
}
_PAGE = 1000


def new_batch_id() -> str:
    """A fresh batch id: 64 random bits, URL-safe."""
    return secrets.token_urlsafe(8)


def batch_item_key(batch_id: str, item: int) -> str:
    """The idempotency key of the ``item``-th record of a batch."""
    return f"{BATCH_PREFIX}{batch_id}#{item}"


def batch_of(passport: StoredPassport) -> str | None:
    """The batch a passport was uploaded in, if an upload made it."""
    key = passport.idempotency_key or ""
    if not key.startswith(BATCH_PREFIX) or "#" not in key:
        return None
    return key[len(BATCH_PREFIX) :].partition("#")[0]


def _own_passports(instance: Instance, principal: Principal | None) -> Iterator[StoredPassport]:
    after = None
    while True:
        page = list_passports(instance, principal, after=after, limit=_PAGE)
        yield from page
        if len(page) < _PAGE:
            return
        after = page[-1].battery_code


@dataclass(frozen=True)
class Batch:
    """The passports of one upload, in upload order."""

    id: str
    passports: tuple[StoredPassport, ...]

    @property
    def created_at(self) -> Any:
        return min(p.created_at for p in self.passports)


def _item(passport: StoredPassport) -> int:
    # An exporter may send any Idempotency-Key through the API, "web-batch:b1#x"
    # included: a key the upload page did not write sorts first instead of failing.
    item = (passport.idempotency_key or "#0").rpartition("#")[2]
    return int(item) if item.isascii() and item.isdigit() and len(item) <= 9 else 0


def batches(instance: Instance, principal: Principal | None) -> list[Batch]:
    """The caller's batches, newest first.

    :raises Unauthorized: no caller.
    """
    found: dict[str, list[StoredPassport]] = {}
    for passport in _own_passports(instance, principal):
        batch_id = batch_of(passport)
        if batch_id is not None:
            found.setdefault(batch_id, []).append(passport)
    out = [Batch(b, tuple(sorted(ps, key=_item))) for b, ps in found.items()]
    return sorted(out, key=lambda b: b.created_at, reverse=True)


def batch(instance: Instance, principal: Principal | None, batch_id: str) -> Batch:
    """One of the caller's batches.

    :raises Unauthorized: no caller. :raises NotFound: the caller has no such batch.
    """
    from gateway.errors import NotFound

    passports = [p for p in _own_passports(instance, principal) if batch_of(p) == batch_id]
    if not passports:
        raise NotFound(f"no batch {batch_id!r} among this key's passports", pointer="batch")
    return Batch(batch_id, tuple(sorted(passports, key=_item)))


# -- upload files ---------------------------------------------------------------------


def upload_format(filename: str) -> str:
    """The upload format of a file name (by suffix).

    :raises UnsupportedMediaType: a suffix other than .json, .ndjson/.jsonl, .xml, .csv.
    """
    name = filename.lower()
    for suffix, fmt in UPLOAD_FORMATS.items():
        if name.endswith(suffix):
            return fmt
    raise UnsupportedMediaType(
        f"{filename or '(no name)'}: upload a .json, .ndjson, .xml or .csv file",
        pointer="file",
    )


Item = tuple[int, dict[str, Any] | GatewayError]


def read_upload(data: bytes, fmt: str) -> Iterator[Item]:
    """The records of an uploaded file, each validated on its own.

    ``json`` holds one record or an array of records, ``ndjson`` one per line, ``xml`` one
    record, ``csv`` one per row (see :func:`read_csv_records`). Item numbers are the
    array index + 1, the line, or the CSV data row; a bad item is reported, not fatal.

    :param fmt: a value of :data:`UPLOAD_FORMATS`.
    :returns: ``(item number, record or the error that refused it)`` pairs.
    :raises InvalidRecord: the file as a whole is unreadable (not JSON, not UTF-8).
    """
    if fmt == "xml":
        yield _one(1, lambda: read_record(data, "application/xml"))
    elif fmt == "json":
        parsed = parse_json(data)
        items = parsed if isinstance(parsed, list) else [parsed]
        for number, item in enumerate(items, start=1):
            yield _one(number, lambda item=item: validate_record(item))
    elif fmt == "ndjson":
        for number, line in enumerate(data.splitlines(), start=1):
            if line.strip():
                yield _one(number, lambda line=line: read_record(line, "application/json"))
    elif fmt == "csv":
        yield from read_csv_records(data)
    else:
        raise UnsupportedMediaType(f"unknown upload format {fmt!r}", pointer="file")


def _one(number: int, read: Any) -> Item:
    try:
        return number, read()
    except GatewayError as exc:
        return number, exc


def _csv_value(column: str, kind: str | None, cell: str) -> Any:
    if kind == "integer":
        try:
            return int(cell)
        except ValueError:
            return cell  # the record schema names the column and the rule
    return cell


def _csv_kinds() -> dict[str, str]:
    kinds = {
        p: k
        for p, k in field_kinds().items()
        if "[]" not in p and k not in ("object", "list", "quantity")
    }
    for attribute in load_catalog():
        kinds[f"eu_supplement.{attribute.key}"] = (
            "integer" if attribute.json_type == "integer" else "string"
        )
    return kinds


def read_csv_records(data: bytes) -> Iterator[Item]:
    """Records from a platform-export style CSV (layout in ``docs/web.md``).

    UTF-8 (a byte order mark is ignored), comma-separated, RFC 4180 quoting; the header
    row names record paths (``battery.code``, ``specs.rated_capacity.value``,
    ``eu_supplement.carbon_footprint_per_fu``); each further row is one record. An empty
    cell is an absent field. Lists (modules, events) have no CSV form: use JSON or XML.
    Every row then goes through the same record schema as a JSON record.

    :returns: ``(data row number, record or error)`` pairs; row 1 is the first after
        the header.
    :raises InvalidRecord: not UTF-8, or a header naming a path that is not a CSV column.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidRecord(
            f"byte {exc.start}: the CSV file is not UTF-8", pointer="file"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        raise InvalidRecord("the CSV file has no header row", pointer="row 0")
    kinds = _csv_kinds()
    columns = [h.strip() for h in header]
    for index, column in enumerate(columns, start=1):
        if column not in kinds:
            raise InvalidRecord(
                f"header column {index} {column!r} is not a record path with a CSV form "
                "(dotted path to a single value, see docs/web.md)",
                pointer=f"row 0, column {index}",
            )
    if len(set(columns)) != len(columns):
        raise InvalidRecord("the CSV header repeats a column", pointer="row 0")
    for number, cells in enumerate(reader, start=1):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(columns):
            yield (
                number,
                InvalidRecord(
                    f"row {number} has {len(cells)} cells; the header has {len(columns)}",
                    pointer=f"row {number}",
                ),
            )
            continue
        record: dict[str, Any] = {}
        for column, cell in zip(columns, cells, strict=True):
            if cell.strip() == "":
                continue
            *parents, leaf = column.split(".")
            node = record
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = _csv_value(column, kinds[column], cell.strip())
        item = _one(number, lambda record=record: validate_record(record))
        if isinstance(item[1], GatewayError):
            # Name the CSV row first; the record pointer follows it.
            item[1].detail = f"row {number}, {item[1]}"
            item[1].pointer = f"row {number}"
        yield item


def gap_rows(
    passports: tuple[StoredPassport, ...] | list[StoredPassport],
) -> Iterator[dict[str, Any]]:
    """The gap reports of passports as flat rows (one per passport and EU attribute),
    for the CSV download."""
    for passport in passports:
        for attribute in passport.gaps.get("attributes", ()):
            yield {
                "battery_code": passport.battery_code,
                "key": attribute["key"],
                "label": attribute["label"],
                "access_group": attribute["access_group"],
                "obligation": attribute["obligation"],
                "status": attribute["status"],
                "reason": attribute.get("reason", ""),
            }
