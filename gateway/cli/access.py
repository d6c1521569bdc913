"""``gateway access``, ``gateway grants`` and ``gateway disclosures``: who may read which
Annex XIII point of a passport, and who did.

The console acts as the instance's admin (``--tenant`` names the tenant it acts for
where one is needed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gateway import services
from gateway.access.grants import PURPOSES
from gateway.auth import CONSOLE_ADMIN, Principal
from gateway.cli.console import console_instance, console_store, echo_json

#: Longest access table file read (the table itself is far smaller).
MAX_TABLE_FILE = 64 * 1024


# -- gateway access ------------------------------------------------------------------------


@click.group()
def access() -> None:
    """The access table: which audience reads which Annex XIII points, and which roles
    reach which audience (the letter of Art. 77(2) as shipped)."""


@access.command()
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the table as CSV, as `set` reads it.")
def show(as_json: bool, as_csv: bool) -> None:
    """Show the access table in force."""
    with console_store(existing=True) as db:
        table = services.access_table(db)
        text = services.access_table_csv(db) if as_csv else ""
    if as_json:
        echo_json(table)
        return
    if as_csv:
        click.echo(text, nl=False)
        return
    click.echo(f"{table['ref']} ({table['source']}), sha256 {table['sha256']}")
    for row in table["audiences"]:
        points = " ".join(str(p) for p in row["points"])
        roles = ", ".join(row["roles"]) or "(granted only)"
        click.echo(f"{row['audience']}\tpoints {points}\t{roles}")


@access.command("set")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--version", "version", required=True, help="The new version, MAJOR.MINOR.PATCH.")
@click.option("--reason", required=True, help="Why the table changes (kept in the audit log).")
@click.option("--name", default=None, help="The table's name (default: that of the one in force).")
def set_(file: Path, version: str, reason: str, name: str | None) -> None:
    """Put the access table of FILE (CSV: audience,points,roles,legal_basis) in force,
    audited. `gateway access show --csv` prints the table in force to start from."""
    if file.stat().st_size > MAX_TABLE_FILE:
        raise click.ClickException(
            f"{file}: an access table file is at most {MAX_TABLE_FILE} bytes"
        )
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file}: not UTF-8 text") from exc
    with console_store() as db:
        table = services.set_access_table(
            db, CONSOLE_ADMIN, text, version=version, reason=reason, name=name
        )
    click.echo(f"access table {table['ref']} in force (sha256 {table['sha256']})")


# -- gateway grants ------------------------------------------------------------------------


@click.group()
def grants() -> None:
    """Access grants: legitimate interest in points 2 and/or 4 of an issuer's passports
    (Art. 77(2)(c)), given to a tenant or one API key, for a purpose and a period."""


@grants.command()
@click.option("--issuer", required=True, metavar="TENANT", help="The issuing tenant.")
@click.option("--to-tenant", metavar="NAME", help="Give it to this tenant (each of its keys).")
@click.option("--to-key", type=click.IntRange(1), metavar="ID", help="Give it to this API key.")
@click.option("--passport", "code", metavar="CODE", help="Only the passport of this battery code.")
@click.option("--batch", metavar="BATCH", help="The passports of this production batch.")
@click.option("--all", "every", is_flag=True, help="All the issuer's passports.")
@click.option("--points", required=True, metavar="2,4", help="Annex XIII points: 2, 4 or both.")
@click.option(
    "--purpose",
    required=True,
    type=click.Choice(PURPOSES),
    help="Art. 77(2)(c)(a) or (b).",
)
@click.option(
    "--from",
    "valid_from",
    metavar="TIME",
    help="Valid from: a date (CST) or an RFC 3339 time (default now).",
)
@click.option(
    "--until",
    "valid_until",
    required=True,
    metavar="TIME",
    help="Valid until: a date (to the end of that day, CST) or an RFC 3339 time.",
)
@click.option("--reason", required=True, help="Why (kept with the grant and in the audit log).")
@click.option("--json", "as_json", is_flag=True, help="Print the grant as JSON.")
def add(
    issuer: str,
    to_tenant: str | None,
    to_key: int | None,
    code: str | None,
    batch: str | None,
    every: bool,
    points: str,
    purpose: str,
    valid_from: str | None,
    valid_until: str,
    reason: str,
    as_json: bool,
) -> None:
    """Grant access (audited). TIME is an RFC 3339 timestamp or a date."""
    if (to_tenant is None) == (to_key is None):
        raise click.UsageError("give one of --to-tenant and --to-key")
    scopes = [s for s, given in (("passport", code), ("batch", batch), ("all", every)) if given]
    if len(scopes) != 1:
        raise click.UsageError("give one of --passport, --batch and --all")
    try:
        numbers = [int(p) for p in points.replace(",", " ").split()]
    except ValueError as exc:
        raise click.UsageError("--points lists Annex XIII points, e.g. 2,4") from exc
    body: dict[str, Any] = {
        "issuer": issuer,
        "grantee": {"tenant": to_tenant} if to_tenant is not None else {"key": to_key},
        "scope": scopes[0],
        "points": numbers,
        "purpose": purpose,
        "validUntil": valid_until,
        "reason": reason,
    }
    if code is not None:
        body["batteryCode"] = code
    if batch is not None:
        body["batch"] = batch
    if valid_from is not None:
        body["validFrom"] = valid_from
    with console_instance() as instance:
        grant = services.add_grant(instance, CONSOLE_ADMIN, body)
    if as_json:
        echo_json(grant)
        return
    click.echo(f"grant {grant['id']}: {_line(grant)}")


def _line(grant: dict[str, Any]) -> str:
    grantee = grant["grantee"]
    to = f"tenant {grantee['tenant']}" if "tenant" in grantee else f"key {grantee['key']}"
    what = {
        "passport": f"passport {grant['batteryCode']}",
        "batch": f"batch {grant['batch']}",
        "all": "all passports",
    }[grant["scope"]]
    points = " ".join(str(p) for p in grant["points"])
    return (
        f"{grant['issuer']} -> {to}: points {points} of {what}, {grant['purpose']}, "
        f"{grant['validFrom']} .. {grant['validUntil']} ({grant['state']})"
    )


@grants.command("list")
@click.option("--tenant", metavar="NAME", help="The grants this tenant gave and received.")
@click.option("--json", "as_json", is_flag=True, help="Print {given, received} as JSON.")
def list_(tenant: str | None, as_json: bool) -> None:
    """List grants: every tenant's, or those one tenant gave and received."""
    with console_instance(existing=True) as instance:
        caller: Principal = (
            services.console_principal(instance, tenant) if tenant else CONSOLE_ADMIN
        )
        found = services.list_grants(instance.db, caller)
    if as_json:
        echo_json(found)
        return
    for side in ("given", "received"):
        for grant in found[side]:
            click.echo(f"{grant['id']}\t{side}\t{_line(grant)}")
    if not found["given"] and not found["received"]:
        click.echo("no grants", err=True)


@grants.command()
@click.argument("grant_id", type=click.IntRange(1))
@click.option("--reason", required=True, help="Why (kept in the audit log).")
def revoke(grant_id: int, reason: str) -> None:
    """Revoke the grant GRANT_ID at once (audited)."""
    with console_store() as db:
        grant = services.revoke_grant(db, CONSOLE_ADMIN, grant_id, reason)
    click.echo(f"grant {grant['id']} revoked")


# -- gateway disclosures -------------------------------------------------------------------


@click.group()
def disclosures() -> None:
    """The disclosure log: every response that gave point 2, 3 or 4 data of a passport
    to a party other than its issuing tenant."""


@disclosures.command("list")
@click.option("--tenant", metavar="NAME", help="Only this issuing tenant's (default: all).")
@click.option("--passport", "code", metavar="CODE", help="Only the passport of this battery code.")
@click.option("--since", metavar="TIME", help="Entries at or after (RFC 3339 or a date).")
@click.option("--until", metavar="TIME", help="Entries before.")
@click.option("--limit", type=click.IntRange(1, 1000), default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def list_disclosures(
    tenant: str | None,
    code: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List disclosures, oldest first."""
    with console_instance(existing=True) as instance:
        entries = services.list_disclosures(
            instance,
            CONSOLE_ADMIN,
            battery_code=code,
            since=since,
            until=until,
            tenant=tenant,
            limit=limit,
        )
    rows = [e.as_json() for e in entries]
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        reader = row["reader"]
        points = " ".join(str(p) for p in row["points"])
        click.echo(
            f"{row['at']}\t{row['batteryCode']}\tpoints {points}\t"
            f"tenant:{reader['tenant']}/key:{reader['key']}\t{' '.join(row['basis'])}\t"
            f"{row['channel']}"
        )
    if not rows:
        click.echo("no disclosures", err=True)
