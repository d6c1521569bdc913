"""``gateway whitelist``: the white-list of comprehensive-utilisation enterprises."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path

import click

from gateway.cli.console import console_settings, console_store
from gateway.errors import GatewayError

# Exit status when the input file is refused (as ``gateway codes``).
EXIT_INVALID = 2


@click.group()
def whitelist() -> None:
    """White-list of enterprises meeting the comprehensive-utilisation standard
    conditions (规范条件): the listings shipped with the gateway, overlaid with those
    imported into the instance's database."""


def _read(file: Path) -> bytes:
    from gateway.errors import ConfigError

    try:
        return file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{file.name}: cannot read white-list: {exc.strerror}") from exc


@whitelist.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate and show what would change; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def import_(file: Path, dry_run: bool, as_json: bool) -> None:
    """Validate FILE (CSV, the columns of data/whitelist.csv) and merge it into the
    instance's white-list: new licence_no values are added, existing ones replaced.

    Every invalid row is reported with its line and column, and nothing is written;
    the exit status is then 2. The listings are kept in the instance's database, so
    every instance serving it uses them, and the import is recorded in its audit log
    (`gateway audit list --subject whitelist`).
    """
    from gateway.auth import CONSOLE_ADMIN, audit_actor
    from gateway.services import import_whitelist, open_store

    settings = console_settings()
    try:
        data = _read(file)
        with ExitStack() as stack:
            # A dry run only reads: it never creates a store to answer from.
            database = (
                stack.enter_context(open_store(settings))
                if settings.has_store or not dry_run
                else None
            )
            result = import_whitelist(
                database,
                data,
                actor=audit_actor(CONSOLE_ADMIN),
                source=file.name,
                dry_run=dry_run,
            )
    except GatewayError as exc:
        problems = exc.extensions.get("errors")
        if isinstance(problems, list) and problems:
            for p in problems:
                click.echo(
                    f"{file.name} line {p['line']}, column {p['column']}: {p['message']}", err=True
                )
        else:
            click.echo(str(exc), err=True)
        raise SystemExit(EXIT_INVALID) from None
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return
    for listing in result.added:
        click.echo(
            f"added    {listing.licence_no}  {listing.name}  ({listing.type}, "
            f"batch {listing.batch}, {listing.announced_on})"
        )
    for change in result.changed:
        diff = ", ".join(f"{k}: {old!r} -> {new!r}" for k, (old, new) in change.fields.items())
        click.echo(f"changed  {change.licence_no}  {diff}")
    verb = "would store" if dry_run else "stored"
    written = bool(result.added or result.changed)
    click.echo(
        f"{len(result.added)} added, {len(result.changed)} changed, "
        f"{len(result.unchanged)} unchanged"
        + (f"; {verb} in the instance's database" if written else "; nothing to write")
    )


@whitelist.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the listings as a JSON array.")
def list_(as_json: bool) -> None:
    """List the white-list this instance uses (shipped listings plus imported ones)."""
    from gateway.compliance.whitelist import Whitelist
    from gateway.services import instance_whitelist

    if console_settings().has_store:
        with console_store() as database:
            current = instance_whitelist(database)
    else:  # nothing imported without a store: the shipped listings
        current = Whitelist.load()
    if as_json:
        click.echo(
            json.dumps([item.as_dict() for item in current.listings], ensure_ascii=False, indent=2)
        )
        return
    for item in current.listings:
        until = f" removed {item.removed_on}" if item.removed_on else ""
        click.echo(
            f"{item.licence_no}\t{item.announced_on}{until}\t{item.type}\t"
            f"{item.province or '-'}\t{item.name}"
        )
    state = current.completeness()
    if not state["complete"]:
        missing = [
            str(b["batch"])
            for b in state["batches"]
            if b["announced"] is None or b["present"] < b["announced"]
        ]
        click.echo(
            f"incomplete: {state['listed']} listings held; batches "
            f"{', '.join(missing)} lack firms (add them with `gateway whitelist "
            "import`)",
            err=True,
        )
