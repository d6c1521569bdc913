"""``gateway db``: bring the database schema up to date and check the audit chain
(``verify-audit`` is ``gateway audit verify``)."""

from __future__ import annotations

import click

from gateway.cli.audit import verify as audit_verify
from gateway.errors import GatewayError
from gateway.settings import Settings
from gateway.store.db import Database, head_revision


def _database() -> Database:
    try:
        return Database.connect(Settings.load().db_url)
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def db() -> None:
    """Database schema (SQLite in GATEWAY_HOME, or PostgreSQL by DATABASE_URL)."""


@db.command()
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def upgrade(revision: str) -> None:
    """Run the schema migrations up to REVISION. Safe to run again."""
    database = _database()
    try:
        database.upgrade(revision)
        click.echo(f"database {database.url}: at revision {database.current_revision()}")
    finally:
        database.dispose()


@db.command()
def current() -> None:
    """Print the schema revision of the database and the newest one available."""
    database = _database()
    try:
        at = database.current_revision()
    finally:
        database.dispose()
    head = head_revision()
    click.echo(f"database {database.url}")
    click.echo(f"current: {at or 'empty (run `gateway db upgrade`)'}")
    click.echo(f"head:    {head}")


# The same command as `gateway audit verify`, kept under its first name.
db.add_command(audit_verify, "verify-audit")
