"""Unique product identifiers: each tenant's scheme, and the identifier each battery was
given at its first issue (kept for every later one).

A battery's identifier and its resolver path are unique across the instance: the
resolver is one namespace, so a second battery can never take a path that already
answers for another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.errors import Conflict
from gateway.store import tables
from gateway.store.tables import utcnow


@dataclass(frozen=True)
class SchemeSetting:
    """A tenant's identifier scheme and the domain identifiers are minted under."""

    tenant_id: int
    scheme: str
    domain: str
    updated_by: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Identifier:
    """A battery's unique product identifier.

    :ivar created_at: when it was stored; ``None`` for one minted and not stored yet.
    """

    battery_code: str
    tenant_id: int
    scheme: str
    uri: str
    path: str
    created_at: datetime | None = None


_SCHEMES = cast(Table, tables.UpiScheme.__table__)
_UPIS = cast(Table, tables.UniqueProductIdentifier.__table__)
_UPI_COLUMNS = (
    _UPIS.c.battery_code,
    _UPIS.c.tenant_id,
    _UPIS.c.scheme,
    _UPIS.c.uri,
    _UPIS.c.path,
    _UPIS.c.created_at,
)
# Built once, run with bound values: issuance reads and writes once per passport, and
# building a statement costs more than SQLite takes to run it.
_SCHEME = select(
    _SCHEMES.c.tenant_id,
    _SCHEMES.c.scheme,
    _SCHEMES.c.domain,
    _SCHEMES.c.updated_by,
    _SCHEMES.c.updated_at,
).where(_SCHEMES.c.tenant_id == bindparam("tenant_id"))
# A tenant's scheme and a battery's identifier in one statement: two outer joins on a
# one-row select.
_FOR_ISSUE = (
    select(_SCHEMES.c.scheme, _SCHEMES.c.domain, *_UPI_COLUMNS)
    .select_from(select(literal(1).label("one")).subquery())
    .outerjoin(_SCHEMES, _SCHEMES.c.tenant_id == bindparam("tenant_id"))
    .outerjoin(_UPIS, _UPIS.c.battery_code == bindparam("battery_code"))
)
_BY_CODE = select(*_UPI_COLUMNS).where(_UPIS.c.battery_code == bindparam("value"))
_BY_PATH = select(*_UPI_COLUMNS).where(_UPIS.c.path == bindparam("value"))
_SCHEME_AND_CODES = select(_SCHEMES.c.scheme, _SCHEMES.c.domain).where(
    _SCHEMES.c.tenant_id == bindparam("tenant_id")
)
_BY_CODES = select(*_UPI_COLUMNS).where(
    _UPIS.c.battery_code.in_(bindparam("codes", expanding=True))
)
_INSERT = insert(_UPIS)


def _row(identifier: Identifier) -> dict[str, Any]:
    """An identifier's row: its fields, all scalars (``dataclasses.asdict`` would deep-copy
    each, some 13 µs per identifier for nothing)."""
    return dict(vars(identifier))


class Identifiers:
    """Schemes and identifiers, within one unit of work.

    :param session: the unit of work's session.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def scheme(self, tenant_id: int) -> SchemeSetting | None:
        """A tenant's scheme, ``None`` when it never set one."""
        row = self.session.execute(_SCHEME, {"tenant_id": tenant_id}).first()
        return SchemeSetting(*row) if row is not None else None

    def set_scheme(self, setting: SchemeSetting, actor: str) -> SchemeSetting:
        """Replace a tenant's scheme (the caller audits it in the same unit of work)."""
        row = self.session.get(tables.UpiScheme, setting.tenant_id)
        if row is None:
            row = tables.UpiScheme(tenant_id=setting.tenant_id, updated_by=actor)
            self.session.add(row)
        row.scheme = setting.scheme
        row.domain = setting.domain
        row.updated_by = actor
        row.updated_at = utcnow()
        self.session.flush()
        stored = self.scheme(setting.tenant_id)
        assert stored is not None  # just written
        return stored

    def for_issue(
        self, tenant_id: int, battery_code: str
    ) -> tuple[SchemeSetting | None, Identifier | None]:
        """A tenant's scheme and a battery's identifier, read in one statement."""
        row = self.session.execute(
            _FOR_ISSUE, {"tenant_id": tenant_id, "battery_code": battery_code}
        ).one()
        setting = SchemeSetting(tenant_id, row[0], row[1]) if row[0] is not None else None
        return setting, Identifier(*row[2:]) if row[2] is not None else None

    def for_issue_many(
        self, tenant_id: int, battery_codes: Sequence[str]
    ) -> tuple[SchemeSetting | None, dict[str, Identifier]]:
        """A tenant's scheme and the identifiers some batteries were given, by battery
        code: two statements for any number of batteries."""
        row = self.session.execute(_SCHEME_AND_CODES, {"tenant_id": tenant_id}).first()
        setting = SchemeSetting(tenant_id, row[0], row[1]) if row is not None else None
        found: dict[str, Identifier] = {}
        if battery_codes:
            rows = self.session.execute(_BY_CODES, {"codes": sorted(set(battery_codes))})
            found = {r[0]: Identifier(*r) for r in rows}
        return setting, found

    def of_battery(self, battery_code: str) -> Identifier | None:
        """The identifier a battery was given, if any."""
        row = self.session.execute(_BY_CODE, {"value": battery_code}).first()
        return Identifier(*row) if row is not None else None

    def by_path(self, path: str) -> Identifier | None:
        """The identifier whose resolver path is ``path``, if any."""
        row = self.session.execute(_BY_PATH, {"value": path}).first()
        return Identifier(*row) if row is not None else None

    def keep(self, identifier: Identifier) -> Identifier:
        """Store a battery's identifier at its first issue; one read back from the store
        (``created_at`` set) is kept as it is.

        One insert and no look-up: the primary key and the unique URI and path refuse a
        clash, which ends the unit of work (on PostgreSQL a failed statement aborts the
        transaction), so nothing of the issue is written.

        :raises Conflict: the battery has another identifier, or another battery holds
            this URI or path.
        """
        if identifier.created_at is not None:
            return identifier
        stored = replace(identifier, created_at=utcnow())
        try:
            self.session.execute(_INSERT, _row(stored))
        except IntegrityError:
            raise Conflict(
                f"the unique product identifier {identifier.uri} is already another "
                "battery's, or this battery has another one",
                pointer="/battery/gtin",
            ) from None
        return stored

    def keep_many(self, identifiers: Sequence[Identifier]) -> list[Identifier]:
        """:meth:`keep` for many identifiers in one multi-row insert; those read back from
        the store are kept as they are.

        :raises Conflict: one clashes (which one is not told: the caller, which writes
            them with their passports, falls back to one unit of work per passport).
        """
        now = utcnow()
        stored = [
            i if i.created_at is not None else replace(i, created_at=now) for i in identifiers
        ]
        new = [
            _row(i)
            for i, given in zip(stored, identifiers, strict=True)
            if given.created_at is None
        ]
        if new:
            try:
                self.session.execute(_INSERT, new)
            except IntegrityError:
                raise Conflict(
                    "a unique product identifier is already another battery's",
                    pointer="/battery/gtin",
                ) from None
        return stored
