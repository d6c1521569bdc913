"""``gateway tenants``: tenants and their API keys."""

from __future__ import annotations

import click

from gateway import services
from gateway.auth import CONSOLE_ADMIN, ROLES
from gateway.cli.console import console_store, echo_json
from gateway.cli.tenant_policy import policy


@click.group()
def tenants() -> None:
    """Tenants (exporters, importers, authorities, standards teams) and API keys."""


tenants.add_command(policy)


@tenants.command()
@click.argument("name")
def create(name: str) -> None:
    """Create the tenant NAME."""
    with console_store() as db:
        tenant = services.create_tenant(db, CONSOLE_ADMIN, name)
    click.echo(f"tenant {tenant.name} created (id {tenant.id})")


@tenants.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the tenants as JSON.")
def list_(as_json: bool) -> None:
    """List tenants."""
    with console_store(existing=True) as db:
        rows = services.tenant_listing(db)
    if as_json:
        echo_json(
            [
                {"id": t.id, "name": t.name, "createdAt": f"{t.created_at:%Y-%m-%dT%H:%M:%SZ}"}
                for t in rows
            ]
        )
        return
    for tenant in rows:
        click.echo(f"{tenant.id}\t{tenant.name}\t{tenant.created_at:%Y-%m-%dT%H:%M:%SZ}")


@tenants.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the keys as JSON.")
def keys(name: str, as_json: bool) -> None:
    """List the API keys of tenant NAME (prefixes only; secrets are never kept)."""
    with console_store(existing=True) as db:
        rows = services.tenant_keys(db, name)
    if as_json:
        echo_json(
            [
                {
                    "id": k.id,
                    "prefix": k.prefix,
                    "role": k.role,
                    "revokedAt": f"{k.revoked_at:%Y-%m-%dT%H:%M:%SZ}" if k.revoked_at else None,
                }
                for k in rows
            ]
        )
        return
    for key in rows:
        state = f"revoked {key.revoked_at:%Y-%m-%dT%H:%M:%SZ}" if key.revoked_at else "active"
        click.echo(f"{key.id}\t{key.prefix}…\t{key.role}\t{state}")


@click.command("issue-api-key")
@click.option("--tenant", required=True, help="Tenant name.")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the key may do.")
def issue_api_key(tenant: str, role: str) -> None:
    """Issue an API key; its secret is printed once and cannot be shown again."""
    with console_store() as db:
        issued = services.issue_api_key(db, CONSOLE_ADMIN, tenant, role)
    click.echo(f"key id:  {issued.key.id}")
    click.echo(f"tenant:  {issued.tenant}")
    click.echo(f"role:    {issued.key.role}")
    click.echo(f"secret:  {issued.secret}")
    click.echo(f"header:  Authorization: Bearer {issued.secret}")
    click.echo("Keep the secret now: the gateway stores only its hash.", err=True)


@tenants.command("revoke-key")
@click.argument("key_id", type=int)
def revoke_key(key_id: int) -> None:
    """Revoke the API key KEY_ID; it stops working at once."""
    with console_store() as db:
        key = services.revoke_api_key(db, CONSOLE_ADMIN, key_id)
    click.echo(f"key {key.id} ({key.prefix}…) revoked")
