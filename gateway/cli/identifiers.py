"""``gateway identifiers``: tenants' unique product identifier schemes (EN 18219), and
which battery an identifier names."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import click

from gateway.cli.console import console_instance, echo_json

SCHEMES = ("gs1-digital-link", "iec-61406")


def _show(view: dict[str, Any], as_json: bool) -> None:
    if as_json:
        echo_json(view)
        return
    if view["scheme"] is None:
        click.echo(f"tenant {view['tenant']}: no scheme set; identifiers like {view['example']}")
        return
    click.echo(
        f"tenant {view['tenant']}: {view['scheme']} under {view['domain']}, set by "
        f"{view['updatedBy']} at {view['updatedAt']}; identifiers like {view['example']}"
    )


@click.group()
def identifiers() -> None:
    """Unique product identifiers: per tenant a scheme (GS1 Digital Link for records with
    a GTIN, IEC 61406 identification links otherwise) and the domain they are minted
    under; at most 70 characters (EN 18219); a battery keeps its identifier."""


@identifiers.command()
@click.option("--tenant", required=True, metavar="NAME", help="The tenant.")
@click.option("--json", "as_json", is_flag=True, help="Print it as JSON.")
def show(tenant: str, as_json: bool) -> None:
    """Show the tenant's scheme, domain and an example identifier."""
    from gateway.services import CONSOLE_ADMIN, identifier_scheme

    with console_instance(existing=True) as instance:
        _show(identifier_scheme(instance.db, CONSOLE_ADMIN, instance.base_url, tenant), as_json)


@identifiers.command("set")
@click.option("--tenant", required=True, metavar="NAME", help="The tenant.")
@click.option("--scheme", required=True, type=click.Choice(SCHEMES), help="The scheme.")
@click.option("--domain", required=True, help="The DNS name identifiers are minted under.")
@click.option("--json", "as_json", is_flag=True, help="Print the scheme as set as JSON.")
def set_(tenant: str, scheme: str, domain: str, as_json: bool) -> None:
    """Set the tenant's scheme and domain (audited). Batteries that already have an
    identifier keep it."""
    from gateway.services import CONSOLE_ADMIN, set_identifier_scheme

    body = {"scheme": scheme, "domain": domain}
    with console_instance() as instance:
        view = set_identifier_scheme(instance.db, CONSOLE_ADMIN, body, instance.base_url, tenant)
    _show(view, as_json)


@identifiers.command()
@click.argument("identifier")
@click.option("--json", "as_json", is_flag=True, help="Print it as JSON.")
def resolve(identifier: str, as_json: bool) -> None:
    """Name the battery and passport a unique product identifier (a URL) belongs to."""
    from gateway.services import resolve as resolve_path

    if len(identifier) > 300:
        raise click.BadParameter("longer than any identifier", param_hint="IDENTIFIER")
    with console_instance(existing=True) as instance:
        code = resolve_path(instance.db, urlsplit(identifier).path)
        found = {
            "identifier": identifier,
            "batteryCode": code,
            "passport": instance.passport_id(code),
        }
    if as_json:
        echo_json(found)
    else:
        click.echo(f"{found['batteryCode']}\t{found['passport']}")
