"""``gateway init``: prepare the instance folder."""

from __future__ import annotations

import click

from gateway.settings import Settings


@click.command()
def init() -> None:
    """Create the instance folder (GATEWAY_HOME, default ./instance) if missing.

    Safe to run again: nothing that exists is overwritten.
    """
    settings = Settings.load()
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.keys_dir.mkdir(exist_ok=True)
    click.echo(f"instance ready: {settings.home}")
