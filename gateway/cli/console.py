"""What every console command shares: the instance's store or whole instance opened from
the settings, and JSON output.

A ``GatewayError`` while opening becomes a one-line message and exit status 1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from gateway import services
from gateway.errors import GatewayError
from gateway.settings import Settings


@contextmanager
def console_store() -> Iterator[services.Database]:
    """The configured database, migrated."""
    try:
        with services.open_store(Settings.load()) as database:
            yield database
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc


@contextmanager
def console_instance() -> Iterator[services.Instance]:
    """The configured instance (store, keys, status lists), released afterwards."""
    try:
        instance = services.open_instance(Settings.load())
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        yield instance
    finally:
        instance.db.dispose()


def echo_json(value: Any) -> None:
    """Print ``value`` as indented JSON, non-ASCII kept as it is."""
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))
