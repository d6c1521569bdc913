"""The instance's white-list: what conversions check hand-overs against, and audited
imports into it (``gateway whitelist import``, ``POST /whitelist``).

The shipped listings are overlaid with those imported into the database, so every
instance serving one database checks against the same white-list. Each process keeps
the merged white-list and reads only its version before a conversion: an import made
through one instance is used by the next conversion on any other.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from threading import Lock
from typing import Any
from weakref import WeakKeyDictionary

from gateway.compliance.whitelist import (
    ImportResult,
    Listing,
    Whitelist,
    parse_csv,
    plan_import,
)
from gateway.settings import Settings
from gateway.store import AuditLog, init_db
from gateway.store.db import Database
from gateway.store.whitelist import WhitelistListings

_cache: WeakKeyDictionary[Database, tuple[int, Whitelist]] = WeakKeyDictionary()
_cache_lock = Lock()


def _merged(imported: list[dict[str, Any]]) -> Whitelist:
    return Whitelist.load().overlaid(Listing(**row) for row in imported)


def instance_whitelist(db: Database) -> Whitelist:
    """The white-list an instance uses: the shipped listings overlaid with those
    imported into its database, read again only when an import changed them.

    Conversions ask for it again and again; the check costs one small read, where
    reading and merging the listings each time would cost more than the findings.

    :param db: the instance's database.
    :returns: the white-list.
    """
    with db.reading() as session:
        listings = WhitelistListings(session)
        version = listings.version()
        with _cache_lock:
            cached = _cache.get(db)
        if cached is not None and cached[0] == version:
            return cached[1]
        current = _merged(listings.listings())
    with _cache_lock:
        _cache[db] = (version, current)
    return current


def import_whitelist(
    db: Database | None,
    data: bytes,
    *,
    actor: str,
    source: str,
    dry_run: bool = False,
    only_new: bool = False,
) -> ImportResult:
    """Validate a white-list CSV and merge it into the instance's white-list, recording
    the change in the audit log (subject ``whitelist``, action ``whitelist.imported``).

    The event names the source, the SHA-256 of the CSV as received and the licence
    numbers added or changed (with the names of the changed columns); the listings
    themselves are public MIIT announcements and are kept beside it in the database.

    :param db: the instance's database; None for an instance without one, in a dry run
        (against the shipped listings alone).
    :param data: the CSV document.
    :param actor: who imports, for the audit log.
    :param source: where the CSV came from (a file name, ``api``), for messages and the log.
    :param dry_run: compute the result, write nothing.
    :param only_new: leave listings already imported into the database as they are (for
        taking over a file an older instance kept, which must never undo a later import).
    :returns: what was added, changed and left unchanged.
    :raises WhitelistInvalid: a row breaks a rule (``errors`` names line and column).
    """
    listings = parse_csv(data, source=source)
    if db is None:
        if not dry_run:
            raise ValueError("an import is kept in a database; only a dry run needs none")
        return plan_import(listings, Whitelist.load())
    if dry_run:
        with db.reading() as session:
            return plan_import(listings, _merged(WhitelistListings(session).listings()))
    # One transaction: the listings, their version and the event commit together, and
    # the log's lock serialises concurrent imports.
    with db.transaction() as session:
        stored = WhitelistListings(session)
        imported = stored.listings()
        if only_new:
            known = {row["licence_no"] for row in imported}
            listings = [item for item in listings if item.licence_no not in known]
        result = plan_import(listings, _merged(imported))
        if result.added or result.changed:
            AuditLog(session).append(
                actor,
                "whitelist.imported",
                "whitelist",
                {
                    "source": source,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "added": [listing.licence_no for listing in result.added],
                    "changed": [
                        {"licence_no": c.licence_no, "fields": sorted(c.fields)}
                        for c in result.changed
                    ],
                    "unchanged": len(result.unchanged),
                },
            )
            written = {item.licence_no for item in result.added}
            written.update(change.licence_no for change in result.changed)
            stored.put(
                (asdict(item) for item in listings if item.licence_no in written), actor=actor
            )
    return result


def offline_whitelist(settings: Settings) -> Whitelist:
    """The white-list a conversion on this machine checks against (``gateway convert``
    without ``--store``): the instance's, or, without a database, the shipped listings
    overlaid with a white-list file in the instance folder."""
    if not settings.has_store:
        return Whitelist.for_home(settings.home)
    db = init_db(settings)
    try:
        return instance_whitelist(db)
    finally:
        db.dispose()
