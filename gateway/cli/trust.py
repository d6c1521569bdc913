"""``gateway trust``: the trust lists the verifier judges issuers by."""

from __future__ import annotations

import json

import click

from gateway import services
from gateway.auth import CONSOLE_ADMIN
from gateway.cli.console import console_store


@click.group()
def trust() -> None:
    """Trusted issuers: DIDs and did:web domains, instance-wide or per tenant.

    Without any entry the verifier's issuer check is "not evaluated" and verdicts say
    the issuer is unknown. A domain trusts did:web:DOMAIN and every DID under it.
    """


@trust.command("list")
@click.option("--tenant", metavar="NAME", help="Also this tenant's entries.")
@click.option("--all", "every", is_flag=True, help="Every tenant's entries.")
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON.")
def list_(tenant: str | None, every: bool, as_json: bool) -> None:
    """List the instance-wide entries (and a tenant's, or all)."""
    with console_store(existing=True) as db:
        entries = services.trust_entries(db, tenant, every_tenant=every)
    if as_json:
        click.echo(json.dumps([e.as_json() for e in entries], indent=2))
        return
    if not entries:
        click.echo("no trust list: issuer checks are not evaluated")
    for e in entries:
        row = e.as_json()
        click.echo(f"{e.id}\t{row['scope']}\t{e.kind}\t{e.value}\t{e.added_by}\t{row['addedAt']}")


@trust.command()
@click.argument("issuer", metavar="DID|DOMAIN")
@click.option(
    "--tenant", metavar="NAME", help="Add to this tenant's list (default: instance-wide)."
)
def add(issuer: str, tenant: str | None) -> None:
    """Trust ISSUER: a DID (did:web:..., did:key:...) or a did:web domain."""
    with console_store() as db:
        entry = services.add_trusted_issuer(
            db,
            CONSOLE_ADMIN,
            services.issuer_kind(issuer),
            issuer,
            "tenant" if tenant else "instance",
            tenant,
        )
    click.echo(f"entry {entry['id']}: {entry['scope']} trusts {entry['kind']} {entry['value']}")


@trust.command()
@click.argument("entry_id", type=int)
def remove(entry_id: int) -> None:
    """Remove the entry ENTRY_ID (see `gateway trust list`)."""
    with console_store() as db:
        entry = services.remove_trusted_issuer(db, CONSOLE_ADMIN, entry_id)
    click.echo(f"entry {entry.id} removed ({entry.kind} {entry.value})")
