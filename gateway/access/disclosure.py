"""Which reads of a passport are disclosures, and what the disclosure log records of them.

A response discloses when it hands a party other than the passport's issuing tenant data
of Annex XIII point 2, 3 or 4: served from China, such a read is itself an export of the
data (the 2026 automotive-data guidelines count data stored in China but queried from
abroad), and the exporter answers for it. Point 1 is public and its reads are not
logged; nor are the issuing tenant's own reads, nor the operator's at the instance's
console, who holds the database itself.
"""

from __future__ import annotations

from collections.abc import Collection

from gateway import annex_xiii
from gateway.auth import CONSOLE_KEY_ID, Principal

#: How the data left: the API (``GET /passports/{code}``), a page, an evidence package,
#: a dashboard download.
API, PAGE, EVIDENCE, DOWNLOAD = "api", "page", "evidence", "download"
CHANNELS: tuple[str, ...] = (API, PAGE, EVIDENCE, DOWNLOAD)


def disclosed_points(
    principal: Principal | None, issuer_tenant_id: int, sections: Collection[str]
) -> frozenset[annex_xiii.Point]:
    """The restricted points (2, 3, 4) a response serving ``sections`` discloses to
    ``principal``; empty when it is no disclosure.

    :param sections: the sections (credentials' ``accessGroup``) served.
    """
    if principal is None or principal.key_id == CONSOLE_KEY_ID:
        return frozenset()
    if principal.tenant_id == issuer_tenant_id:
        return frozenset()
    points = frozenset(p for s in sections for p in annex_xiii.points_of(s))
    return points - {annex_xiii.PUBLIC_POINT}
