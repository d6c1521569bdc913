"""What every console command shares: the instance's store or whole instance opened from
the settings, and JSON output.

A ``GatewayError`` while opening becomes a one-line message and exit status 1. A command
that only reads opens with ``existing=True``: on an instance that has no store yet it
fails naming the folder, instead of creating an empty store and answering from it (an
empty audit log read as "intact", an empty tenant list as "no tenants").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from gateway.errors import GatewayError
from gateway.settings import Settings

if TYPE_CHECKING:
    from gateway import services


def console_settings(*, existing: bool = False) -> Settings:
    """The settings; with ``existing``, only those of an instance that has a store.

    :raises click.ClickException: unreadable settings, or (``existing``) no store: the
        message names the instance folder and how to create it or point at another.
    """
    try:
        settings = Settings.load()
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc
    if existing and not settings.has_store:
        raise click.ClickException(
            f"no instance at {settings.home.resolve()} (no gateway.sqlite there and no "
            "DATABASE_URL): create it with `gateway init`, or set GATEWAY_HOME to the "
            "instance folder"
        )
    return settings


@contextmanager
def console_store(*, existing: bool = False) -> Iterator[services.Database]:
    """The configured database, migrated; with ``existing``, only one that exists."""
    # The services (and the stacks below them) are imported by the commands that use a
    # store, not by every user of this module: ``gateway serve`` reads its settings here
    # in the server's master process, which then never serves a request.
    from gateway import services

    settings = console_settings(existing=existing)
    try:
        with services.open_store(settings) as database:
            yield database
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc


@contextmanager
def console_instance(*, existing: bool = False) -> Iterator[services.Instance]:
    """The configured instance (store, keys, status lists), released afterwards; with
    ``existing``, only one whose store exists."""
    from gateway import services  # as in console_store

    settings = console_settings(existing=existing)
    try:
        instance = services.open_instance(settings)
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        yield instance
    finally:
        instance.db.dispose()


def echo_json(value: Any) -> None:
    """Print ``value`` as indented JSON, non-ASCII kept as it is."""
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))
