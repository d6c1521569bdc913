"""The values of a national record that identify a vehicle or a person, and the check
that an export carries none of them.

DESIGN §5 (Cross-border policy): the VIN, owner data, the vehicle's location and the
end-of-life vehicle certificate number never leave. The policy table already keeps
their paths out of every passport; this check is the second line, run on the bytes of
an export just before it is written, so that no later change to a face (a new export
format, a copied field) can carry them out unnoticed. It searches for each value in the
forms an export could hold it: as written, JSON-escaped, as a plain JSON number, and
(for coordinates) as GB/T 32960 carries them in millionths of a degree.

Only these identifiers are searched, not every withheld value: a withheld date or city
also appears, legitimately, in released fields (a repair date, the maker's city), and
refusing those would refuse good exports.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from gateway.errors import GatewayError

#: Record paths (list indexes dropped) whose values identify a vehicle or a person.
IDENTIFYING_PATHS = (
    "vehicle.vin",
    "vehicle.owner.name",
    "vehicle.owner.phone",
    "vehicle.owner.id_number",
    "vehicle.owner.address.street",
    "vehicle.last_location.lat",
    "vehicle.last_location.lon",
    "events.vin",
    "events.certificate_no",
)
_COORDINATES = ("vehicle.last_location.lat", "vehicle.last_location.lon")


class ExportRefused(GatewayError):
    """An export was about to carry an identifying value of a record; nothing was
    written. The message names the export and the record path, never the value."""

    status, slug, title = 500, "export-refused", "Export refused: identifying data"


class IdentifyingData(GatewayError):
    """A released field of a record holds one of its identifying values (a VIN typed
    into a repair reason): the passport would carry it, so nothing is drafted or signed.
    The message names the field and the kind of value, never the value."""

    status, slug, title = 422, "identifying-data", "Record refused: identifying data"


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item, path)
    else:
        yield path, value


def identifying_values(record: Mapping[str, Any]) -> dict[str, str]:
    """Every form of every identifying value of a record.

    :returns: ``{searched text: record path}``.
    """
    found: dict[str, str] = {}
    for path, value in _leaves(record):
        if path not in IDENTIFYING_PATHS or value is None or isinstance(value, bool):
            continue
        text = str(value).strip()
        if not text:
            continue
        forms = {text, json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1]}
        if path in _COORDINATES:
            try:
                number = float(text)
            except ValueError:
                pass
            else:
                forms |= {repr(number), str(round(number * 1_000_000))}
        for form in forms:
            found.setdefault(form, path)
    return found


def check_export(name: str, content: str | bytes, values: Mapping[str, str]) -> None:
    """Refuse an export that holds any of ``values``.

    :param name: what the export is, for the message (``evidence package passport.json``).
    :param content: its text or bytes, as it would be written.
    :param values: from :func:`identifying_values`.
    :raises ExportRefused: naming the export and the record path.
    """
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    for value, path in values.items():
        if value in text:
            raise ExportRefused(
                f"{name} would carry the record's {path}, which never leaves; nothing was written"
            )


def _holding(value: Any, text: str, pointer: str = "") -> str | None:
    """The JSON pointer of the first string under ``value`` that contains ``text``."""
    if isinstance(value, Mapping):
        items: Iterable[tuple[str, Any]] = value.items()
    elif isinstance(value, list):
        items = ((str(i), item) for i, item in enumerate(value))
    else:
        return pointer if isinstance(value, str) and text in value else None
    for key, item in items:
        found = _holding(item, text, f"{pointer}/{key}")
        if found is not None:
            return found
    return None


def check_released(
    released: Mapping[str, Any],
    values: Mapping[str, str],
    pointer_of: Mapping[str, str],
    source: Mapping[str, Any] | None = None,
) -> None:
    """Refuse released passport values that hold an identifying value of their record.

    The first line of the check, before anything is signed or written; the export check
    (:func:`check_export`) is the second, on the bytes of each export.

    :param released: passport values by term.
    :param values: from :func:`identifying_values`.
    :param pointer_of: the record field each term came from, as a JSON pointer.
    :param source: the exportable record the values were mapped from: the refusal then
        points at the field of it that holds the identifier (a value stated from several
        fields, such as a list of events, names the one to mend), else at ``pointer_of``.
    :raises IdentifyingData: naming the field and the identifier's record path.
    """
    if not values:
        return
    # Each value's text is part of the text of them all (one encoder, one way to write a
    # value): what is in none of them is not there, which one encoding tells; the values
    # are written one by one only to name the one that holds it.
    whole = json.dumps(released, ensure_ascii=False)
    if not any(found in whole for found in values):
        return
    for term, value in released.items():
        text = json.dumps(value, ensure_ascii=False)
        for found, path in values.items():
            if found in text:
                holder = _holding(source, found) if source is not None else None
                raise IdentifyingData(
                    f"{term} would carry the record's {path}, which never leaves China "
                    "(DESIGN §5 Cross-border policy); remove it from this field",
                    pointer=holder or pointer_of.get(term),
                )
