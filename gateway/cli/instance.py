"""``gateway init``: prepare the instance folder."""

from __future__ import annotations

import click

from gateway.settings import Settings


@click.command()
def init() -> None:
    """Create the instance folder (GATEWAY_HOME, default ./instance) if missing.

    Also makes a development signing key (did:web of the base URL) when the instance
    has none. Safe to run again: nothing that exists is overwritten.
    """
    from gateway.credentials.keys import KeyStore

    settings = Settings.load()
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.keys_dir.mkdir(exist_ok=True)
    store = KeyStore.from_settings(settings)
    if not store.records():
        record = store.generate(method="web")
        click.echo(f"signing key created: {record.kid}")
    click.echo(f"instance ready: {settings.home}")
