"""``gateway audit``: check the audit log's hash chain and read its events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import click

from gateway import services
from gateway.cli.console import console_settings
from gateway.errors import GatewayError


@contextmanager
def _database() -> Iterator[services.Database]:
    """The configured database as it is: reading the log must not migrate or create it."""
    with ExitStack() as stack:
        settings = console_settings(existing=True)
        try:
            database = stack.enter_context(services.open_store(settings, migrate=False))
        except GatewayError as exc:
            raise click.ClickException(str(exc)) from exc
        yield database


@click.group()
def audit() -> None:
    """The append-only, hash-chained audit log: every issue, status change, mapping
    edit and publish, policy decision and white-list update."""


@audit.command()
def verify() -> None:
    """Recompute every hash of the chain. Exit 0 only when it is intact; otherwise name
    the first event that breaks it (an altered event itself, a deleted, inserted or
    moved one by the event that follows it) and exit 1.

    Events removed from the end leave a shorter, valid chain: compare the printed head
    with one kept elsewhere.
    """
    from gateway.services import check_audit

    with _database() as database:
        result = check_audit(database)
    if result.broken is not None:
        entry = result.broken
        raise click.ClickException(
            f"audit chain broken at event {entry.id} ({entry.action} {entry.subject}): "
            f"{result.reason}"
        )
    if result.head is None:
        click.echo("audit log empty")
    else:
        click.echo(
            f"audit chain intact: {result.events} events, head {result.head[0]} {result.head[1]}"
        )


@audit.command("list")
@click.option(
    "--subject",
    default=None,
    help="Only events about this subject (a passport's id is its URL; "
    "mapping:SET@VERSION, tenant:NAME, whitelist ...).",
)
@click.option(
    "--after", "after_id", type=click.IntRange(min=0), default=0, help="Only events after this id."
)
@click.option("--limit", type=click.IntRange(1, 10_000), default=1000, show_default=True)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print a JSON array, each event with its prev_hash and hash.",
)
def list_(subject: str | None, after_id: int, limit: int, as_json: bool) -> None:
    """List audit events in chain order."""
    from gateway.services import audit_entries, entry_dict

    with _database() as database:
        entries = audit_entries(database, subject=subject, after_id=after_id, limit=limit)
    if as_json:
        click.echo(json.dumps([entry_dict(e) for e in entries], ensure_ascii=False, indent=2))
        return
    for entry in entries:
        item = entry_dict(entry)
        data = json.dumps(entry.data, ensure_ascii=False, sort_keys=True)
        click.echo(
            f"{item['id']}\t{item['at']}\t{item['actor']}\t{item['action']}\t"
            f"{item['subject']}\t{data}"
        )
