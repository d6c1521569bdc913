"""``gateway keys``: the issuer's signing keys and DID document."""

from __future__ import annotations

import json

import click

from gateway.cli.tenants import issue_api_key
from gateway.settings import Settings


@click.group()
def keys() -> None:
    """Signing keys (Ed25519 JWK files in the instance folder) and the issuer DID."""


@keys.command()
@click.option("--method", type=click.Choice(["web", "key"]), default="web", show_default=True,
              help="web: a key of the gateway's did:web DID; key: a did:key of its own.")
def generate(method: str) -> None:
    """Make a new signing key and make it the active one.

    The previous active key retires: it signs nothing more but stays in the DID
    document, so credentials it signed keep verifying.
    """
    from gateway.credentials.keys import KeyStore

    record = KeyStore.from_settings(Settings.load()).generate(method=method)
    click.echo(f"active key: {record.kid}")
    click.echo(f"issuer:     {record.controller}")


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the key records as JSON.")
def list_keys(as_json: bool) -> None:
    """List every key, oldest first, with its status (active or retired)."""
    from gateway.credentials.keys import KeyStore

    records = KeyStore.from_settings(Settings.load()).records()
    if as_json:
        click.echo(json.dumps([r.as_json() for r in records], indent=2))
        return
    if not records:
        click.echo("no keys; run `gateway keys generate`")
    for r in records:
        click.echo(f"{r.status:8} {r.created}  {r.kid}")


@keys.command()
@click.option("--format", "fmt", type=click.Choice(["multikey", "jwk"]), default="multikey",
              show_default=True, help="Verification methods as Multikey or JsonWebKey.")
def did(fmt: str) -> None:
    """Print the gateway's did:web DID document (serve it at /.well-known/did.json)."""
    from gateway.credentials.keys import KeyStore

    click.echo(json.dumps(KeyStore.from_settings(Settings.load()).did_document(fmt), indent=2))


keys.add_command(issue_api_key, "issue-api-key")
