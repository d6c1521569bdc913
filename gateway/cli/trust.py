"""``gateway trust``: the trust lists the verifier judges issuers by."""

from __future__ import annotations

import json

import click

from gateway.cli.tenants import ACTOR, _store


@click.group()
def trust() -> None:
    """Trusted issuers: DIDs and did:web domains, instance-wide or per tenant.

    Without any entry the verifier's issuer check is "not evaluated" and verdicts say
    the issuer is unknown. A domain trusts did:web:DOMAIN and every DID under it.
    """


def _kind(value: str) -> str:
    return "did" if value.startswith("did:") else "domain"


@trust.command("list")
@click.option("--tenant", metavar="NAME", help="Also this tenant's entries.")
@click.option("--all", "every", is_flag=True, help="Every tenant's entries.")
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON.")
def list_(tenant: str | None, every: bool, as_json: bool) -> None:
    """List the instance-wide entries (and a tenant's, or all)."""
    from gateway.store.tenants import Tenants
    from gateway.store.trust import TrustedIssuers

    with _store() as db, db.reading() as session:
        tenant_id = Tenants(session).get(tenant).id if tenant else None
        entries = TrustedIssuers(session).list(tenant_id, every_tenant=every)
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
@click.option("--tenant", metavar="NAME", help="Add to this tenant's list (default: "
              "instance-wide).")
def add(issuer: str, tenant: str | None) -> None:
    """Trust ISSUER: a DID (did:web:..., did:key:...) or a did:web domain."""
    from gateway.store.tenants import Tenants
    from gateway.store.trust import TrustedIssuers

    with _store() as db, db.transaction() as session:
        tenant_id = Tenants(session).get(tenant).id if tenant else None
        entry = TrustedIssuers(session).add(_kind(issuer), issuer, tenant_id=tenant_id,
                                            actor=ACTOR)
    click.echo(f"entry {entry.id}: {entry.as_json()['scope']} trusts {entry.kind} {entry.value}")


@trust.command()
@click.argument("entry_id", type=int)
def remove(entry_id: int) -> None:
    """Remove the entry ENTRY_ID (see `gateway trust list`)."""
    from gateway.store.trust import TrustedIssuers

    with _store() as db, db.transaction() as session:
        entry = TrustedIssuers(session).remove(entry_id, actor=ACTOR)
    click.echo(f"entry {entry.id} removed ({entry.kind} {entry.value})")
