"""Where a battery stands in its life, as its record tells it.

Art. 77(8) of Regulation (EU) 2023/1542: a battery passport ceases to exist once the
battery has been recycled. The record says so when its latest event is a completed
recycling: the date of that event is when the passport ceased.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def recycled_on(record: Mapping[str, Any]) -> str | None:
    """The date (``YYYY-MM-DD``) the battery was recycled, when that is its last event.

    The latest event by date decides (among events of one day, the later in the list);
    a recycling followed by any other event (an echelon use found later, a correction)
    does not count as the end of the battery's life.
    """
    events = [e for e in record.get("events") or () if isinstance(e, Mapping)]
    if not events:
        return None
    order = sorted(range(len(events)), key=lambda i: (str(events[i].get("date", "")), i))
    last = events[order[-1]]
    if last.get("type") != "recycling":
        return None
    date = last.get("date")
    return date if isinstance(date, str) else None
