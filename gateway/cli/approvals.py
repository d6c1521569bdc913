"""``gateway approvals``: a tenant's export approvals of BMS health data."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import click

from gateway.cli.console import console_store
from gateway.policy.approvals import KINDS
from gateway.policy.categories import CATEGORIES

#: Largest approval document hashed (a scanned PDF of some pages).
MAX_DOCUMENT = 256 * 1024 * 1024


@click.group()
def approvals() -> None:
    """Export approvals: while one is in force, passports of its tenant carry the BMS
    health data of the categories it covers, and name it. Without one that data stays
    in China (`docs/policy.md`)."""


def _sha256(path: Path) -> str:
    if path.stat().st_size > MAX_DOCUMENT:
        raise click.BadParameter(f"larger than {MAX_DOCUMENT} bytes", param_hint="--document")
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _line(row: dict[str, Any]) -> str:
    state = "in force" if row["inForce"] else ("revoked" if row["revokedAt"] else "not in force")
    return (
        f"{row['id']}\t{row['tenant']}\t{row['kind']}\t{row['reference']}\t"
        f"{row['validFrom']}..{row['validUntil']}\t{state}\t{','.join(row['categories'])}"
    )


@approvals.command()
@click.option("--tenant", required=True, metavar="NAME", help="The tenant holding it.")
@click.option("--kind", required=True, type=click.Choice(KINDS), help="The legal route.")
@click.option("--reference", required=True, help="The approval's reference number.")
@click.option("--authority", required=True, help="The authority that granted or filed it.")
@click.option(
    "--category",
    "categories",
    required=True,
    multiple=True,
    type=click.Choice(CATEGORIES),
    help="A data category it covers (repeat for more).",
)
@click.option(
    "--from", "valid_from", required=True, metavar="DATE", help="First day (YYYY-MM-DD, CST)."
)
@click.option(
    "--until", "valid_until", required=True, metavar="DATE", help="Last day (YYYY-MM-DD, CST)."
)
@click.option("--sha256", "digest", metavar="HEX", help="SHA-256 of the approval document.")
@click.option(
    "--document",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The approval document; its SHA-256 is recorded (the file is not kept).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the approval as JSON.")
def add(
    tenant: str,
    kind: str,
    reference: str,
    authority: str,
    categories: tuple[str, ...],
    valid_from: str,
    valid_until: str,
    digest: str | None,
    document: Path | None,
    as_json: bool,
) -> None:
    """Record an export approval of TENANT (audited). A date bound means that whole day
    in China Standard Time; an RFC 3339 date-time is taken as given."""
    from gateway.services import CONSOLE_ADMIN, add_approval

    if (digest is None) == (document is None):
        raise click.UsageError(
            "give the document's SHA-256 with --sha256 or the file with --document"
        )
    data = {
        "kind": kind,
        "reference": reference,
        "authority": authority,
        "categories": list(dict.fromkeys(categories)),
        "validFrom": valid_from,
        "validUntil": valid_until,
        "documentSha256": _sha256(document) if document is not None else digest,
    }
    with console_store() as db:
        approval = add_approval(db, CONSOLE_ADMIN, data, tenant)
    row = approval.as_json()
    if as_json:
        click.echo(json.dumps(row, ensure_ascii=False, indent=2))
        return
    click.echo(f"approval {row['id']} recorded: {_line(row)}")


@approvals.command("list")
@click.option("--tenant", metavar="NAME", help="Only this tenant's (default: every tenant's).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def list_(tenant: str | None, as_json: bool) -> None:
    """List export approvals, revoked and expired ones included."""
    from gateway.services import CONSOLE_ADMIN, list_approvals

    with console_store(existing=True) as db:
        found = list_approvals(db, CONSOLE_ADMIN, tenant)
    rows = [a.as_json() for a in found]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(_line(row))
    if not rows:
        click.echo("no export approvals: BMS health data stays in China", err=True)


@approvals.command()
@click.argument("approval_id", type=click.IntRange(1, 2**63 - 1))
@click.option("--tenant", required=True, metavar="NAME", help="The tenant it belongs to.")
@click.option("--json", "as_json", is_flag=True, help="Print the approval as JSON.")
def revoke(approval_id: int, tenant: str, as_json: bool) -> None:
    """Revoke the approval APPROVAL_ID of TENANT at once (audited): passports issued from
    now on no longer rely on it."""
    from gateway.services import CONSOLE_ADMIN, revoke_approval

    with console_store() as db:
        approval = revoke_approval(db, CONSOLE_ADMIN, approval_id, tenant)
    row = approval.as_json()
    if as_json:
        click.echo(json.dumps(row, ensure_ascii=False, indent=2))
        return
    click.echo(f"approval {row['id']} revoked: {_line(row)}")
