"""``gateway dids``: other issuers' DID documents pinned for the verifier."""

from __future__ import annotations

import json
from pathlib import Path

import click

from gateway.cli.console import console_settings, console_store


@click.group()
def dids() -> None:
    """DID documents of other did:web issuers, pinned in the database so that every
    instance's verifier resolves them without the network (the gateway's own DID
    documents are made from its keys and need no pinning)."""


@dids.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON.")
def list_(as_json: bool) -> None:
    """List the pinned DID documents, with their SHA-256."""
    from gateway.services.trust import pinned_did_documents

    with console_store(existing=True) as db:
        rows = pinned_did_documents(db)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no DID documents pinned")
    for row in rows:
        click.echo(f"{row['sha256']}  {row['did']}  {row['addedBy']}  {row['addedAt']}")


@dids.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def pin(file: Path) -> None:
    """Pin the DID document in FILE (JSON) for the verifier; audited."""
    from gateway.auth import CONSOLE_ADMIN
    from gateway.credentials.did import MAX_DID_DOCUMENT_BYTES
    from gateway.services.trust import pin_did_document

    settings = console_settings()
    try:
        with file.open("rb") as handle:
            # One byte over the limit is enough for the store to refuse it.
            data = handle.read(MAX_DID_DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise click.ClickException(f"{file.name}: cannot read ({exc.strerror})") from exc
    with console_store() as db:
        entry = pin_did_document(db, CONSOLE_ADMIN, settings, data)
    click.echo(f"pinned {entry['did']} (sha256 {entry['sha256']})")


@dids.command()
@click.argument("did")
def unpin(did: str) -> None:
    """Unpin the DID document of DID; audited."""
    from gateway.auth import CONSOLE_ADMIN
    from gateway.services.trust import unpin_did_document

    with console_store(existing=True) as db:
        unpin_did_document(db, CONSOLE_ADMIN, did)
    click.echo(f"unpinned {did}")
