"""``gateway passports``: the passports stored in the instance."""

from __future__ import annotations

import json

import click

from gateway.errors import GatewayError
from gateway.services import PASSPORT_STATUSES


@click.group()
def passports() -> None:
    """Passports stored in the instance (issued by the API or `gateway convert --store`)."""


@passports.command("list")
@click.option("--tenant", default=None, help="Only this tenant's passports (default: all).")
@click.option(
    "--status",
    type=click.Choice(PASSPORT_STATUSES),
    default=None,
    help="Only passports in this status.",
)
@click.option(
    "--after",
    default=None,
    metavar="CODE",
    help="Start after this battery code (the last one of the previous page).",
)
@click.option("--limit", type=click.IntRange(1, 1000), default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def list_(
    tenant: str | None, status: str | None, after: str | None, limit: int, as_json: bool
) -> None:
    """List stored passports in id order, as the API's GET /passports does."""
    from gateway.cli.console import console_settings
    from gateway.services import (
        CONSOLE_ADMIN,
        console_principal,
        list_passports,
        open_instance,
        passport_summary,
    )

    settings = console_settings(existing=True)
    try:
        instance = open_instance(settings)
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        caller = console_principal(instance, tenant) if tenant else CONSOLE_ADMIN
        items = list_passports(instance, caller, status=status, after=after, limit=limit)
    finally:
        instance.db.dispose()
    rows = [passport_summary(p) for p in items]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        successor = f"\tsuperseded by {row['supersededBy']}" if row["supersededBy"] else ""
        if row["ceasedOn"]:
            successor += f"\tceased on {row['ceasedOn']}"
        click.echo(
            f"{row['batteryCode']}\t{row['status']}\t{row['category']}\t"
            f"{row['mapping']}\t{row['createdAt']}{successor}"
        )
    if not rows:
        click.echo("no passports", err=True)


@passports.command("cease")
@click.argument("code")
@click.option(
    "--recycled-on",
    required=True,
    metavar="YYYY-MM-DD",
    help="The day the battery was recycled (not in the future).",
)
@click.option("--reason", default=None, help="Kept in the audit log.")
@click.option("--json", "as_json", is_flag=True, help="Print the passport's state as JSON.")
def cease(code: str, recycled_on: str, reason: str | None, as_json: bool) -> None:
    """Record that battery CODE was recycled, so its passport ceased (Art. 77(8)), as the
    API's POST /passports/{code}/cease does: kept, shown as ceased, audited."""
    from gateway.cli.console import console_instance
    from gateway.services import CONSOLE_ADMIN, cease_passport, passport_status

    with console_instance(existing=True) as instance:
        try:
            passport, changed = cease_passport(
                instance, code, CONSOLE_ADMIN, recycled_on=recycled_on, reason=reason
            )
        except GatewayError as exc:
            raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(passport_status(passport), ensure_ascii=False, indent=2))
        return
    state = "ceased" if changed else "had already ceased"
    click.echo(f"{passport.id} {state} on {passport.ceased_on}")
