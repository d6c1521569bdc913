"""``gateway retention``: how long stored content is kept, what is due, the purge."""

from __future__ import annotations

import click

from gateway.cli.console import console_store, echo_json


@click.group()
def retention() -> None:
    """Retention of stored content per tenant: national records and the BMS-derived
    values they carry, and audit events, kept 8 years by default (longer if set, never
    shorter); passports, credentials and status lists as long as the passport must exist
    (never purged here)."""


def _actor() -> str:
    from gateway.auth import CONSOLE_ADMIN, audit_actor

    return audit_actor(CONSOLE_ADMIN)


@retention.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def list_(as_json: bool) -> None:
    """Each tenant's periods and how many records are due, and the audit events due."""
    from gateway.services.retention import retention_plan

    with console_store(existing=True) as db:
        plan = retention_plan(db)
    if as_json:
        echo_json(plan.as_json())
        return
    for t in plan.tenants:
        click.echo(
            f"{t.periods.tenant}: records {t.periods.records_years} years, "
            f"{t.due} due (stored before {t.stored_before:%Y-%m-%d})"
        )
    click.echo(
        f"audit log: {plan.audit_years} years, {plan.audit_due} events due "
        f"(before {plan.audit_stored_before:%Y-%m-%d})"
    )
    click.echo(f"kept as long as the passport must exist: {', '.join(plan.kept_with_passport)}")


@retention.command("set")
@click.argument("tenant")
@click.option("--records-years", type=click.IntRange(8, 100), default=None)
@click.option("--audit-years", type=click.IntRange(8, 100), default=None)
def set_(tenant: str, records_years: int | None, audit_years: int | None) -> None:
    """Lengthen a tenant's retention periods (audited); they never shorten."""
    from gateway.services.retention import set_retention

    with console_store(existing=True) as db:
        periods = set_retention(
            db, tenant, _actor(), records_years=records_years, audit_years=audit_years
        )
    click.echo(
        f"{tenant}: records {periods.records_years} years, audit {periods.audit_years} years"
    )


@retention.command("purge")
@click.option("--dry-run", is_flag=True, help="Only say what would be purged.")
@click.option("--json", "as_json", is_flag=True, help="Print what was (or would be) purged.")
def purge_(dry_run: bool, as_json: bool) -> None:
    """Purge what is due: clear due records (destroying the data keys of years left with
    none) and the details of due audit events, keeping the audit chain's digests; one
    audit event names counts and periods, never contents."""
    from gateway.services.retention import purge

    with console_store(existing=True) as db:
        plan, done = purge(db, _actor(), dry_run=dry_run)
    if as_json:
        echo_json({"dry_run": dry_run, "plan": plan.as_json(), "purged": done})
        return
    records = sum(t.due for t in plan.tenants)
    if dry_run:
        click.echo(f"would purge {records} records and {plan.audit_due} audit events' details")
    elif done is None:
        click.echo("nothing due")
    else:
        click.echo(f"purged {records} records and {plan.audit_due} audit events' details")
