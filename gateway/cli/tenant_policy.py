"""``gateway tenants policy``: a tenant's tightening of the shipped data policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from gateway.cli.console import console_store

#: Largest policy file read (500 rules of 200-character paths fit many times over).
MAX_FILE = 1024 * 1024


@click.group()
def policy() -> None:
    """The tenant's data policy: the shipped one, made stricter (never looser) path by
    path. Every conversion of the tenant uses the newest version."""


def _show(view: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(view, ensure_ascii=False, indent=2))
        return
    setter = f", set by {view['setBy']} at {view['setAt']}" if view["setBy"] else ""
    click.echo(
        f"tenant {view['tenant']}: version {view['version']}, applied {view['applied']}{setter}"
    )
    for path, cls in view["rules"].items():
        click.echo(f"{path}\t{cls}")
    if not view["rules"]:
        click.echo(f"no rules: the shipped policy {view['base']} as it is", err=True)


def _rules_file(path: Path) -> Any:
    from gateway import jsontext

    if path.stat().st_size > MAX_FILE:
        raise click.BadParameter(f"larger than {MAX_FILE} bytes", param_hint="--file")
    try:
        body = jsontext.loads(path.read_bytes(), what=path.name)
    except jsontext.JsonTextError as exc:
        raise click.BadParameter(exc.message, param_hint="--file") from None
    if not isinstance(body, dict) or set(body) != {"rules"}:
        raise click.BadParameter('must be {"rules": {PATH: CLASS, ...}}', param_hint="--file")
    return body["rules"]


@policy.command()
@click.option("--tenant", required=True, metavar="NAME", help="The tenant.")
@click.option("--json", "as_json", is_flag=True, help="Print it as JSON.")
def show(tenant: str, as_json: bool) -> None:
    """Show the tenant's policy: version, policy applied, rules."""
    from gateway.services import CONSOLE_ADMIN, tenant_policy

    with console_store(existing=True) as db:
        _show(tenant_policy(db, CONSOLE_ADMIN, tenant), as_json)


@policy.command("set")
@click.argument("rules", nargs=-1, metavar="PATH=CLASS...")
@click.option("--tenant", required=True, metavar="NAME", help="The tenant.")
@click.option(
    "--file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='Read the rules from a JSON file {"rules": {PATH: CLASS}} (the API body).',
)
@click.option("--clear", is_flag=True, help="No rules: back to the shipped policy.")
@click.option("--json", "as_json", is_flag=True, help="Print the new version as JSON.")
def set_(
    rules: tuple[str, ...], tenant: str, file: Path | None, clear: bool, as_json: bool
) -> None:
    """Replace the tenant's rules (a new version, audited). CLASS is one of export,
    aggregate_only, approval_required, withhold (loosest first); a rule may only make a
    path stricter, and covers everything below it."""
    from gateway.services import CONSOLE_ADMIN, set_tenant_policy

    if sum((bool(rules), file is not None, clear)) != 1:
        raise click.UsageError("give PATH=CLASS rules, --file, or --clear (one of them)")
    wanted: Any = {}
    if file is not None:
        wanted = _rules_file(file)
    for item in rules:
        path, sep, cls = item.partition("=")
        if not sep or not path or not cls:
            raise click.BadParameter(f"{item!r} is not PATH=CLASS", param_hint="PATH=CLASS")
        wanted[path] = cls
    with console_store() as db:
        _show(set_tenant_policy(db, CONSOLE_ADMIN, wanted, tenant), as_json)
