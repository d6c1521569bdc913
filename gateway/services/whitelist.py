"""The instance's white-list: what conversions check hand-overs against, and audited
imports into it (``gateway whitelist import``, ``POST /whitelist``)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from threading import Lock

from gateway.compliance.whitelist import (
    INSTANCE_FILE,
    ImportResult,
    Whitelist,
    import_rows,
    parse_csv,
)
from gateway.store import AuditLog
from gateway.store.db import Database

_cache: dict[Path, tuple[tuple[int, int], Whitelist]] = {}
_cache_lock = Lock()


def instance_whitelist(home: Path) -> Whitelist:
    """The white-list an instance uses (shipped listings overlaid with
    ``home/whitelist.csv``), read again only when that file changes.

    Bulk conversion asks for it once per record; re-parsing the file each time would
    cost more than the findings themselves.

    :param home: the instance folder.
    :returns: the white-list.
    :raises WhitelistInvalid: the instance file breaks a rule.
    """
    path = (Path(home) / INSTANCE_FILE).resolve()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return Whitelist.for_home(home)
    stamp = (stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        cached = _cache.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    current = Whitelist.for_home(home)
    with _cache_lock:
        _cache[path] = (stamp, current)
    return current


def import_whitelist(
    home: Path,
    data: bytes,
    *,
    db: Database | None,
    actor: str,
    source: str,
    dry_run: bool = False,
) -> ImportResult:
    """Validate a white-list CSV and merge it into the instance's white-list, recording
    the change in the audit log (subject ``whitelist``, action ``whitelist.imported``).

    The event names the source, the SHA-256 of the CSV as received and the licence
    numbers added or changed (with the names of the changed columns); the listings
    themselves are public MIIT announcements and stay in the file.

    :param home: the instance folder (``Settings.home``).
    :param data: the CSV document.
    :param db: the instance's database; ``None`` for an instance without a store (the
        import is then not audited).
    :param actor: who imports, for the audit log.
    :param source: where the CSV came from (a file name, ``api``), for messages and the log.
    :param dry_run: compute the result, write nothing.
    :returns: what was added, changed and left unchanged.
    :raises WhitelistInvalid: a row breaks a rule (``errors`` names line and column).
    """
    listings = parse_csv(data, source=source)
    if dry_run or db is None:
        return import_rows(listings, home, dry_run=dry_run)
    # The event is appended first: a refused event leaves the file as it was, a failed
    # write rolls the event back, and the log's lock serialises concurrent imports.
    with db.transaction() as session:
        planned = import_rows(listings, home, dry_run=True)
        if planned.added or planned.changed:
            AuditLog(session).append(
                actor,
                "whitelist.imported",
                "whitelist",
                {
                    "source": source,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "added": [listing.licence_no for listing in planned.added],
                    "changed": [
                        {"licence_no": c.licence_no, "fields": sorted(c.fields)}
                        for c in planned.changed
                    ],
                    "unchanged": len(planned.unchanged),
                },
            )
        result = import_rows(listings, home)
    return result
