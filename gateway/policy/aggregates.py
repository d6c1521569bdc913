"""What leaves from an ``aggregate_only`` path: only aggregates the gateway computed.

A per-event value (one alarm with its timestamp) describes how one battery was driven,
charged and stressed, moment by moment; the policy lets such data out only summarised.
So, at a path whose effective class is ``aggregate_only``:

- a list of per-event values never leaves. A series the gateway knows how to summarise
  (:data:`SERIES`: the BMS alarms at ``usage.alarms``) is replaced by counts per type and
  level with the period covered at month precision; any other list is withheld;
- a scalar leaves as it is: the record model admits only per-battery figures there
  (counters, sums, current states such as the cycle count or the SOH), which are
  aggregates already; but a date or time finer than a month never leaves;
- a usage history that holds no event of a known series says so: the aggregate of the
  empty series ("none recorded in the period") stands in for the absent list.

The period runs from the battery's first use (its first installation, else its
production date; earlier if an event predates it) to the date the usage figures were
measured (``usage.as_of``; later if an event follows it).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_MONTH = re.compile(r"(\d{4}-\d{2})")
#: A date (``2025-10-29``) or a date and time: more precise than a month.
_FINER_THAN_MONTH = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Summary:
    """What an ``aggregate_only`` value becomes.

    :ivar value: the value that may leave (the aggregate, or the scalar itself).
    :ivar reason: why nothing may leave; empty when ``value`` may.
    """

    value: Any = None
    reason: str = ""


def _month(text: object) -> str | None:
    found = _MONTH.match(text) if isinstance(text, str) else None
    return found.group(1) if found else None


def _first_use(record: Mapping[str, Any]) -> str | None:
    installed = [
        month
        for event in record.get("events") or ()
        if isinstance(event, Mapping) and event.get("type") == "installation"
        for month in [_month(event.get("date"))]
        if month
    ]
    if installed:
        return min(installed)
    production = record.get("production")
    return _month(production.get("date")) if isinstance(production, Mapping) else None


def period(record: Mapping[str, Any], months: Sequence[str]) -> tuple[str | None, str | None]:
    """The months a series of events covers, ``(from, to)``; ``None`` where the record
    does not tell (a start after the end is not told either).

    :param months: the months of the events counted.
    """
    usage = record.get("usage")
    start = _first_use(record)
    end = _month(usage.get("as_of")) if isinstance(usage, Mapping) else None
    if months:
        start = min(start or months[0], min(months))
        end = max(end or months[0], max(months))
    if start and end and start > end:
        start = None
    return start, end


def alarm_counts(alarms: Sequence[Any], record: Mapping[str, Any]) -> dict[str, Any]:
    """BMS alarms as counts per type and level over the period:
    ``{"from": "2024-07", "to": "2025-11", "counts": [{"type", "level", "count"}]}``.

    An alarm without a level counts at level 0 (GB/T 32960.3: no fault).
    """
    counts: Counter[tuple[str, int]] = Counter()
    months: list[str] = []
    for alarm in alarms:
        if not isinstance(alarm, Mapping) or not isinstance(alarm.get("type"), str):
            continue
        level = alarm.get("level")
        counts[(alarm["type"], level if isinstance(level, int) else 0)] += 1
        month = _month(alarm.get("time"))
        if month:
            months.append(month)
    start, end = period(record, months)
    return {
        "from": start,
        "to": end,
        "counts": [
            {"type": kind, "level": level, "count": count}
            for (kind, level), count in sorted(counts.items())
        ],
    }


#: Record paths holding a series of per-event values, and how each is summarised.
SERIES: Mapping[str, Callable[[Sequence[Any], Mapping[str, Any]], dict[str, Any]]] = {
    "usage.alarms": alarm_counts,
}


def series_below(prefix: str) -> tuple[str, ...]:
    """The series paths directly under the object at ``prefix``."""
    return tuple(path for path in SERIES if path.rpartition(".")[0] == prefix)


def summarise(path: str, value: Any, record: Mapping[str, Any]) -> Summary:
    """What may leave of ``value`` at an ``aggregate_only`` ``path``.

    :param record: the whole record (the period of a series is read from it).
    """
    if isinstance(value, list):
        aggregate = SERIES.get(path)
        if aggregate is None:
            return Summary(
                reason="a list of individual values is not an aggregate the gateway "
                "computes; only aggregates leave from this path"
            )
        return Summary(aggregate(value, record))
    if isinstance(value, str) and _FINER_THAN_MONTH.match(value):
        return Summary(reason="a date or time finer than a month does not leave from this path")
    return Summary(value)
