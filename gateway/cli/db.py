"""``gateway db``: bring the database schema up to date and check the audit chain
(``verify-audit`` is ``gateway audit verify``)."""

from __future__ import annotations

import click

from gateway.cli.audit import verify as audit_verify
from gateway.cli.console import console_settings
from gateway.errors import GatewayError
from gateway.settings import Settings


@click.group()
def db() -> None:
    """Database schema (SQLite in GATEWAY_HOME, or PostgreSQL by DATABASE_URL)."""


@db.command()
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def upgrade(revision: str) -> None:
    """Run the schema migrations up to REVISION. Safe to run again."""
    url, at, _ = _revisions(console_settings(), revision)
    click.echo(f"database {url}: at revision {at}")


@db.command()
def current() -> None:
    """Print the schema revision of the database and the newest one available (fails
    on an instance that has no database yet, rather than creating one)."""
    url, at, head = _revisions(console_settings(existing=True), None)
    click.echo(f"database {url}")
    click.echo(f"current: {at or 'empty (run `gateway db upgrade`)'}")
    click.echo(f"head:    {head}")


def _revisions(settings: Settings, upgrade_to: str | None) -> tuple[str, str | None, str | None]:
    from gateway.services import schema_revisions

    try:
        return schema_revisions(settings, upgrade_to)
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc


# The same command as `gateway audit verify`, kept under its first name.
db.add_command(audit_verify, "verify-audit")
