"""``gateway db``: bring the database schema up to date and check the audit chain."""

from __future__ import annotations

import click

from gateway.errors import GatewayError
from gateway.settings import Settings
from gateway.store.audit import AuditLog
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


@db.command("verify-audit")
def verify_audit() -> None:
    """Recompute the audit log's hash chain; exit 1 at the first broken event."""
    database = _database()
    try:
        with database.reading() as session:
            log = AuditLog(session)
            broken = log.verify()
            head = log.head()
    finally:
        database.dispose()
    if broken is not None:
        raise click.ClickException(f"audit chain broken at event {broken}")
    if head is None:
        click.echo("audit log empty")
    else:
        click.echo(f"audit chain intact: {head[0]} events, head {head[1]}")
