"""Unique product identifiers (EN 18219): per tenant a scheme, per battery one identifier,
minted at its first issue and kept for every later one.

- ``gs1-digital-link``: a battery whose record has a GTIN gets
  ``https://<domain>/01/{GTIN-14}/21/{serial}`` (:mod:`gateway.codes.gs1`); the serial is
  the GB/T 34014 code, less its manufacturer code and product type letter when the code
  is longer than the 20 characters AI (21) allows (the GTIN already names the maker's
  product). A battery without a GTIN gets an identification link as below.
- ``iec-61406``: ``https://<domain>/id/<GB/T 34014 code>`` (:mod:`gateway.codes.iec61406`).
- A tenant that set no scheme: the identification link under the gateway's own base URL.

EN 18219 caps an identifier at 70 characters: a domain that could make a longer one is
refused when it is configured (422 naming ``/domain``), and so is issuance under a base
URL too long for the default. The identifier and its resolver path are unique across the
instance; a battery keeps its identifier even when its tenant changes scheme or domain.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gateway import auth
from gateway.auth import Principal
from gateway.codes import gs1, iec61406
from gateway.errors import InvalidInput, NotFound
from gateway.services.tenant_policy import managed_tenant
from gateway.store import AuditLog, Database, Tenants
from gateway.store.identifiers import Identifier, Identifiers, SchemeSetting

#: EN 18219: the longest unique product identifier.
MAX_LENGTH = 70
GS1 = "gs1-digital-link"
IEC_61406 = "iec-61406"
SCHEMES = (GS1, IEC_61406)
_HTTPS = len("https://")
#: The longest path each scheme can give (a GS1 serial of 20 characters; a 24-character
#: GB/T 34014 code), which with ``https://`` and the domain must stay within 70.
LONGEST_PATH = {
    GS1: len(f"/01/{'0' * 14}/21/{'X' * gs1.SERIAL_MAX}"),
    IEC_61406: len(iec61406.path("X" * 24)),
}
#: A DNS host name: lower-case LDH labels of at most 63 characters, at least two labels.
_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]")
_TIMESTAMP = "%Y-%m-%dT%H:%M:%SZ"


def max_domain(scheme: str) -> int:
    """The longest domain a scheme's identifiers fit 70 characters under (a GS1 tenant's
    batteries without a GTIN get identification links under the same domain)."""
    longest = max(LONGEST_PATH[IEC_61406], LONGEST_PATH[scheme])
    return MAX_LENGTH - _HTTPS - longest


def check_setting(body: object) -> tuple[str, str]:
    """A scheme configuration ``{"scheme": ..., "domain": ...}``, checked.

    :raises InvalidInput: not an object, an unknown scheme, or a domain that is not a
        lower-case DNS name or too long for 70-character identifiers (each naming its
        member).
    """
    if not isinstance(body, Mapping):
        raise InvalidInput("the body must be an object {scheme, domain}", pointer="")
    scheme, domain = body.get("scheme"), body.get("domain")
    if scheme not in SCHEMES:
        raise InvalidInput(f"scheme must be one of {', '.join(SCHEMES)}", pointer="/scheme")
    assert isinstance(scheme, str)
    if not isinstance(domain, str) or len(domain) > 253 or not _DOMAIN.fullmatch(domain):
        raise InvalidInput(
            "domain must be a lower-case DNS host name (no scheme, port or path)",
            pointer="/domain",
        )
    limit = max_domain(scheme)
    if len(domain) > limit:
        raise InvalidInput(
            f"domain is {len(domain)} characters; with {scheme} identifiers it may have at "
            f"most {limit}, since EN 18219 caps a unique product identifier at "
            f"{MAX_LENGTH} characters",
            pointer="/domain",
        )
    return scheme, domain


def serial_of(code: str) -> str:
    """The GS1 serial (AI 21) of a battery: its GB/T 34014 code, less the manufacturer
    code and the product type letter when longer than 20 characters."""
    return code if len(code) <= gs1.SERIAL_MAX else code[4:]


def mint(
    setting: SchemeSetting | None, base_url: str, tenant_id: int, record: Mapping[str, Any]
) -> Identifier:
    """A new identifier for a record's battery under a tenant's scheme (``None``: the
    identification link under ``base_url``).

    :raises InvalidInput: the identifier would be longer than 70 characters (only under
        the gateway's own base URL: configured domains are checked when set).
    """
    battery = record["battery"]
    code = str(battery["code"])
    gtin = battery.get("gtin")
    if setting is None:
        uri = f"{base_url.rstrip('/')}{iec61406.path(code)}"
        if len(uri) > MAX_LENGTH:
            raise InvalidInput(
                f"the identifier {uri} under this gateway's base URL is longer than "
                f"{MAX_LENGTH} characters (EN 18219): set the tenant's identifier domain",
                pointer="/domain",
            )
        return Identifier(code, tenant_id, IEC_61406, uri, iec61406.path(code))
    if setting.scheme == GS1 and isinstance(gtin, str):
        link = gs1.digital_link(gtin, serial_of(code))
        return Identifier(code, tenant_id, GS1, link.uri(setting.domain), link.path)
    return Identifier(
        code, tenant_id, IEC_61406, iec61406.link(setting.domain, code), iec61406.path(code)
    )


def planned(session: Any, tenant_id: int, record: Mapping[str, Any], base_url: str) -> Identifier:
    """The identifier a record's battery has (given at an earlier issue) or gets now.

    Read in the issuance pipeline's unit of work; stored by :func:`keep` with the
    passport.
    """
    setting, earlier = Identifiers(session).for_issue(tenant_id, str(record["battery"]["code"]))
    if earlier is not None:
        return earlier
    return mint(setting, base_url, tenant_id, record)


def keep(session: Any, identifier: Identifier) -> None:
    """Store a battery's identifier with its first passport (in the same unit of work).

    :raises Conflict: another battery holds it (pointer ``/battery/gtin``).
    """
    Identifiers(session).keep(identifier)


def identifier_of(db: Database, battery_code: str) -> str | None:
    """A battery's identifier URI, ``None`` for a passport issued before identifiers."""
    with db.reading() as session:
        found = Identifiers(session).of_battery(battery_code)
    return found.uri if found is not None else None


def resolve(db: Database, path: str) -> str:
    """The battery code a resolver path (``/01/…/21/…`` or ``/id/…``) answers for; a
    Digital Link is read in its canonical form (a GTIN of fewer digits padded to 14).

    :raises InvalidInput: a Digital Link that does not parse.
    :raises NotFound: no battery has that identifier.
    """
    if path.startswith("/01/"):
        try:
            path = gs1.parse_path(path).path
        except ValueError as exc:
            raise InvalidInput(str(exc), pointer="identifier") from None
    with db.reading() as session:
        found = Identifiers(session).by_path(path)
    if found is None:
        raise NotFound("no battery has this unique product identifier")
    return found.battery_code


def _view(tenant: str, setting: SchemeSetting | None, base_url: str) -> dict[str, Any]:
    example = "Z9ZPBA10000001F3F0000123"
    record = {"battery": {"code": example, "gtin": "09506000134352"}}
    minted = mint(setting, base_url, 0, record) if setting else None
    return {
        "tenant": tenant,
        "scheme": setting.scheme if setting else None,
        "domain": setting.domain if setting else None,
        "maxLength": MAX_LENGTH,
        "example": minted.uri if minted else f"{base_url.rstrip('/')}{iec61406.path(example)}",
        "updatedBy": setting.updated_by if setting else None,
        "updatedAt": (
            setting.updated_at.strftime(_TIMESTAMP) if setting and setting.updated_at else None
        ),
    }


def identifier_scheme(
    db: Database, principal: Principal | None, base_url: str, tenant: str | None = None
) -> dict[str, Any]:
    """A tenant's identifier scheme as it stands (``scheme: null``: never set, the
    gateway's own identification links), with an example identifier.

    :raises Unauthorized: no caller. :raises Forbidden: not the tenant's exporter or an
        admin. :raises NotFound: no such tenant.
    """
    with db.reading() as session:
        _, tenant_id = managed_tenant(session, principal, tenant, "read identifier schemes")
        name = Tenants(session).get_by_id(tenant_id).name
        return _view(name, Identifiers(session).scheme(tenant_id), base_url)


def set_identifier_scheme(
    db: Database,
    principal: Principal | None,
    body: object,
    base_url: str,
    tenant: str | None = None,
) -> dict[str, Any]:
    """Set a tenant's identifier scheme and domain (audited as ``identifiers.scheme_set``).
    Batteries that already have an identifier keep it.

    :raises InvalidInput: a bad scheme or domain (named). :raises Unauthorized,
        Forbidden, NotFound: as :func:`identifier_scheme`.
    """
    scheme, domain = check_setting(body)
    with db.transaction() as session:
        caller, tenant_id = managed_tenant(session, principal, tenant, "set identifier schemes")
        name = Tenants(session).get_by_id(tenant_id).name
        actor = auth.audit_actor(caller)
        stored = Identifiers(session).set_scheme(SchemeSetting(tenant_id, scheme, domain), actor)
        AuditLog(session).append(
            actor, "identifiers.scheme_set", f"tenant:{name}", {"scheme": scheme, "domain": domain}
        )
        return _view(name, stored, base_url)


def signed_identifier(claims: Mapping[str, Any]) -> str | None:
    """The unique product identifier a public credential's claims state, if any (the
    EN 18223 block of point 1; passports issued before it carry none)."""
    subject = claims.get("credentialSubject")
    value = subject.get("uniqueProductIdentifier") if isinstance(subject, Mapping) else None
    return value if isinstance(value, str) and value else None
