"""A validity bound as the API and the CLI take it: grants, export approvals and the
filters of the disclosure log read their dates the same way.

An RFC 3339 date-time names its offset and is taken as given. A date (``YYYY-MM-DD``)
means that whole day in China Standard Time (UTC+08:00), the time of the exporters who
grant access and of the authorities who issue approvals: as a start, the day's first
instant; as an end, the first instant of the next day, so "until 2027-12-31" includes
that day.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone

from gateway.errors import InvalidInput

#: China Standard Time, the zone a bare date is read in.
CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# RFC 3339 date-time with a UTC offset (fractions of a second allowed).
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})")
#: Longest bound read; the longest valid form has 32 characters.
_MAX_TEXT = 40


def parse_bound(value: object, pointer: str, *, end: bool = False) -> datetime:
    """A validity bound, as a UTC instant.

    :param end: the bound is an end (exclusive): a date means the end of that day.
    :raises InvalidInput: neither form, not a real date or time, or outside the years
        1-9999 in UTC; the message and pointer name the field.
    """
    text = value if isinstance(value, str) and len(value) <= _MAX_TEXT else ""
    try:
        if _DATE.fullmatch(text):
            day = date.fromisoformat(text) + timedelta(days=1 if end else 0)
            return datetime.combine(day, time(), CHINA_STANDARD_TIME).astimezone(UTC)
        if _DATETIME.fullmatch(text):
            moment = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
            return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        # OverflowError: a bound that falls outside the years 1-9999 in UTC.
        pass
    raise InvalidInput(
        f"{pointer}: must be a date (YYYY-MM-DD, a whole day in China Standard Time) or an "
        "RFC 3339 date-time with its offset",
        pointer=pointer,
    )
