"""When a passport's dynamic values were measured: the record's ``usage.as_of``.

The AAS export and the Battery Pass projection state it beside each dynamic value
(``LastUpdate``, ``lastUpdate``); the JSON-LD passport keeps the record's own figures
and the time it was issued.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

#: Where the national record states when its usage figures were measured.
MEASURED_AT_PATH = "usage.as_of"


def measurement_time(text: str) -> datetime:
    """The time a record's ``usage.as_of`` states: a date is its first instant in UTC
    (as the Battery Pass projection states months), a time keeps its offset.

    :raises ValueError: not an ISO 8601 date or a date-time with an offset.
    """
    moment = datetime.fromisoformat(text)
    if len(text) == 10:
        return moment.replace(tzinfo=UTC)
    if moment.tzinfo is None:
        raise ValueError("a measurement time needs its UTC offset")
    return moment


def measured_at(record: Mapping[str, Any], withheld: Collection[str] = ()) -> datetime | None:
    """When the record's usage figures were measured, if it says so and may say so.

    :param withheld: the record paths the data policy kept in China (a passport's
        ``gaps.policy.withheld``, or a decision's withheld paths): a withheld
        ``usage.as_of`` (or ``usage``) gives no time.
    :returns: ``None`` without a readable ``usage.as_of``.
    """
    if any(
        MEASURED_AT_PATH == path or MEASURED_AT_PATH.startswith(f"{path}.") for path in withheld
    ):
        return None
    usage = record.get("usage")
    text = usage.get("as_of") if isinstance(usage, Mapping) else None
    if not isinstance(text, str) or len(text) > 40:
        return None
    try:
        return measurement_time(text)
    except ValueError:
        return None
