"""``gateway contexts``: the pinned JSON-LD contexts."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group()
def contexts() -> None:
    """The JSON-LD contexts the gateway serves offline."""


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
