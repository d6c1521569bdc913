"""The exporter's disclosure log page: who received point 2, 3 or 4 data of its passports,
under which grant or role, how and when (admins: every tenant's).

The filters are the API's (``GET /disclosures``): a battery code and a period; the page
shows one page of entries and links to the next.
"""

from __future__ import annotations

from flask import Response, request

from gateway import auth, services
from gateway.errors import InvalidInput
from gateway.web.common import bp, instance, page, require

#: Entries shown per page.
PAGE_SIZE = 100
# Digits of the largest id a 64-bit integer column holds.
_MAX_ID_DIGITS = 19


def _after() -> int:
    raw = request.args.get("after", "")
    if not raw:
        return 0
    if not raw.isascii() or not raw.isdigit() or len(raw) > _MAX_ID_DIGITS:
        raise InvalidInput("after must be a whole number", pointer="after")
    return int(raw)


@bp.get("/dashboard/disclosures")
def disclosures_page() -> Response:
    caller = require(auth.may_issue, "read the disclosure log")
    filters = {
        name: request.args.get(name, "").strip() for name in ("batteryCode", "since", "until")
    }
    entries = services.list_disclosures(
        instance(),
        caller,
        battery_code=filters["batteryCode"] or None,
        since=filters["since"] or None,
        until=filters["until"] or None,
        after=_after(),
        limit=PAGE_SIZE,
    )
    after = entries[-1].id if len(entries) == PAGE_SIZE else None
    return page(
        "disclosures.html",
        entries=[e.as_json() for e in entries],
        filters=filters,
        next_after=after,
        every_tenant=auth.may_administer(caller),
    )
