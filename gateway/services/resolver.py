"""What the resolver answers about a battery: its identifier, its passport and the
credentials a caller may read, by the passport's own access rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.auth import Principal
from gateway.errors import NotFound
from gateway.services import access
from gateway.services.instance import Instance
from gateway.services.passports import passport_view
from gateway.store import Passports
from gateway.store.identifiers import Identifiers
from gateway.store.passports import StoredPassport


@dataclass(frozen=True)
class Resolution:
    """What a resolver answers about one battery for one caller.

    :ivar identifier: the battery's unique product identifier (the passport id for a
        passport issued before identifiers).
    :ivar credentials: ``(section, format)`` of each credential the caller may read.
    """

    passport: StoredPassport
    identifier: str
    credentials: tuple[tuple[str, str], ...]


def resolution(instance: Instance, code: str, principal: Principal | None) -> Resolution:
    """A passport's identifier and the credentials the caller may read (by the same
    access rules as the passport itself). Listing them discloses nothing, so it is not
    written to the disclosure log.

    :raises NotFound: no passport for this code.
    """
    with instance.db.reading() as session:
        passport = instance.passport(session, code)
        granted = access.entitlement(session, passport, principal, datetime.now(UTC))
        readable = tuple(
            (c.access_group, c.format)
            for c in Passports(session).credentials(passport.id)
            if granted.may_read(c.access_group)
        )
        found = Identifiers(session).of_battery(passport.battery_code)
    return Resolution(passport, found.uri if found else passport.id, readable)


def passport_credential(
    instance: Instance, code: str, section: str, principal: Principal | None
) -> dict[str, Any] | str:
    """One credential of a passport (a dict for Data Integrity, the compact JWS for
    ``vc+jwt``), read like the passport: a section the caller may not read is not found.

    :raises NotFound: no passport, or no credential of that section for this caller.
    """
    view = passport_view(instance, code, principal)
    if section not in view.credentials:
        raise NotFound(f"no credential {section!r} of this passport for you", pointer="section")
    return view.credentials[section]
