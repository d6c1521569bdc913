"""The white-list listings imported into the instance, kept in the database.

The shipped listings stay in the package (:mod:`gateway.compliance.whitelist`); what an
operator imports is kept here, one row per ``licence_no``, so every instance serving the
database overlays the same listings. Every write raises the white-list's version
(:mod:`gateway.store.instance_state`) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.store import tables
from gateway.store.instance_state import WHITELIST, raise_version, state_version
from gateway.store.tables import utcnow

#: The columns of one listing, as :class:`gateway.compliance.whitelist.Listing` names its
#: fields (the store holds values the white-list's rules already accepted).
COLUMNS = (
    "licence_no",
    "batch",
    "announcement_no",
    "announced_on",
    "province",
    "name",
    "name_en",
    "type",
    "status",
    "removed_on",
)


class WhitelistListings:
    """The imported listings, within one unit of work.

    :param session: the unit of work's session.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def version(self) -> int:
        """The white-list's version, raised by every import that changed it."""
        return state_version(self.session, WHITELIST)

    def listings(self) -> list[dict[str, Any]]:
        """Every imported listing (the values of :data:`COLUMNS`), by ``licence_no``."""
        rows = self.session.scalars(
            select(tables.WhitelistListing).order_by(tables.WhitelistListing.licence_no)
        ).all()
        return [{c: getattr(row, c) for c in COLUMNS} for row in rows]

    def put(self, listings: Iterable[Mapping[str, Any]], *, actor: str) -> int:
        """Add listings, replacing imported ones of the same ``licence_no``.

        :param listings: validated listings, the values of :data:`COLUMNS` each.
        :param actor: who imports.
        :returns: how many were written.
        """
        written = 0
        now = utcnow()
        for listing in listings:
            row = self.session.get(tables.WhitelistListing, listing["licence_no"])
            if row is None:
                row = tables.WhitelistListing(licence_no=listing["licence_no"])
                self.session.add(row)
            for column in COLUMNS[1:]:
                setattr(row, column, listing[column])
            row.imported_by, row.imported_at = actor, now
            written += 1
        if written:
            self.session.flush()
            raise_version(self.session, WHITELIST)
        return written
