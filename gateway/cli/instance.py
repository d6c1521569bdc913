"""``gateway init``: prepare the instance folder."""

from __future__ import annotations

import click

from gateway.settings import Settings


@click.command()
def init() -> None:
    """Create the instance folder (GATEWAY_HOME, default ./instance) if missing.

    Also makes a development signing key (did:web of the base URL) when the instance
    has none, and brings the database schema to the newest revision. Safe to run again:
    nothing that exists is overwritten.
    """
    from gateway.services import prepare_instance

    settings = Settings.load()
    for line in prepare_instance(settings):
        click.echo(line)
    click.echo(f"instance ready: {settings.home}")
