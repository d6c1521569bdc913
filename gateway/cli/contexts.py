"""``gateway contexts``: the pinned JSON-LD contexts."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group()
def contexts() -> None:
    """The JSON-LD contexts the gateway serves offline: shipped, and extra ones pinned in
    the database for the verifier (never fetched at run time)."""


@contexts.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export(directory: Path) -> None:
    """Write every pinned context and an index.json ({url: file}) to DIRECTORY.

    Other verifiers (e.g. a jsonld.js documentLoader) can then run offline against the
    exact bytes the gateway pins.
    """
    from gateway.paths import CONTEXTS_DIR

    index = json.loads((CONTEXTS_DIR / "index.json").read_text(encoding="utf-8"))
    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    for url, entry in sorted(index.items()):
        # Bytes, not re-serialised JSON: the pinned SHA-256 stays checkable.
        (directory / entry["file"]).write_bytes((CONTEXTS_DIR / entry["file"]).read_bytes())
        out[url] = entry["file"]
    (directory / "index.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    click.echo(f"{len(out)} contexts written to {directory}")


@contexts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON.")
def list_(as_json: bool) -> None:
    """List every context the verifier serves, with its SHA-256."""
    from gateway.cli.console import console_store
    from gateway.services import context_listing

    with console_store(existing=True) as db:
        rows = context_listing(db)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['sha256']}  {row['source']:8}  {row['url']}")


@contexts.command()
@click.argument("url")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def pin(url: str, file: Path) -> None:
    """Pin FILE as the context at URL for the verifier (its SHA-256 is recorded)."""
    from gateway.auth import CONSOLE_ADMIN
    from gateway.services import open_store, pin_context
    from gateway.settings import Settings

    with open_store(Settings.load()) as db:
        entry = pin_context(db, CONSOLE_ADMIN, url, file.read_bytes())
    click.echo(f"pinned {entry['url']} (sha256 {entry['sha256']})")


@contexts.command()
@click.argument("url")
def unpin(url: str) -> None:
    """Unpin the extra context at URL."""
    from gateway.auth import CONSOLE_ADMIN
    from gateway.services import open_store, unpin_context
    from gateway.settings import Settings

    with open_store(Settings.load()) as db:
        unpin_context(db, CONSOLE_ADMIN, url)
    click.echo(f"unpinned {url}")
