"""``gateway keys``: the issuer's signing keys and DID document."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from gateway.cli.tenants import issue_api_key
from gateway.settings import Settings

if TYPE_CHECKING:
    from gateway.credentials.keys import KeyStore


@click.group()
def keys() -> None:
    """Signing keys (Ed25519 JWK files in the instance folder) and the issuer DID."""


def _store(vc_api: bool) -> KeyStore:
    from gateway.credentials.keys import KeyStore

    settings = Settings.load()
    return KeyStore.vc_api(settings) if vc_api else KeyStore.from_settings(settings)


VC_API_HELP = (
    "The key of the generic POST /credentials/issue route (DID "
    "did:web:HOST:vc-api) instead of the passport key."
)


@keys.command()
@click.option(
    "--method",
    type=click.Choice(["web", "key"]),
    default="web",
    show_default=True,
    help="web: a key of the gateway's did:web DID; key: a did:key of its own.",
)
@click.option("--vc-api", is_flag=True, help=VC_API_HELP)
def generate(method: str, vc_api: bool) -> None:
    """Make a new signing key and make it the active one.

    The previous active key retires: it signs nothing more but stays in the DID
    document, so credentials it signed keep verifying.
    """
    record = _store(vc_api).generate(method=method)
    click.echo(f"active key: {record.kid}")
    click.echo(f"issuer:     {record.controller}")


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the key records as JSON.")
def list_keys(as_json: bool) -> None:
    """List every key, oldest first, with its status (active or retired) and use: the
    passport key (passports, status lists) and the VC API key (the generic issue route)."""
    rows = [
        (use, r)
        for use, vc_api in (("passport", False), ("vc-api", True))
        for r in _store(vc_api).records()
    ]
    if as_json:
        click.echo(json.dumps([{**r.as_json(), "use": use} for use, r in rows], indent=2))
        return
    if not rows:
        click.echo("no keys; run `gateway keys generate`")
    for use, r in rows:
        click.echo(f"{use:8} {r.status:8} {r.created}  {r.kid}")


@keys.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["multikey", "jwk"]),
    default="multikey",
    show_default=True,
    help="Verification methods as Multikey or JsonWebKey.",
)
@click.option("--vc-api", is_flag=True, help=VC_API_HELP)
def did(fmt: str, vc_api: bool) -> None:
    """Print the gateway's did:web DID document (served at /.well-known/did.json; with
    --vc-api the VC API DID's, served at /vc-api/did.json)."""
    click.echo(json.dumps(_store(vc_api).did_document(fmt), indent=2))


keys.add_command(issue_api_key, "issue-api-key")
