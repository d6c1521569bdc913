"""``gateway codes``: decode GB/T 34014 battery codes and check pack hierarchies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from gateway.errors import GatewayError

if TYPE_CHECKING:  # the tables load only when a command needs them
    from gateway.codes.tables import CodeTables

# Exit status when any input is refused (click itself uses 2 for usage errors too).
EXIT_INVALID = 2


@click.group()
def codes() -> None:
    """GB/T 34014 traction-battery codes."""


def _tables(directory: Path | None) -> CodeTables:
    from gateway.codes.tables import load_tables

    try:
        return load_tables(directory)
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc


@codes.command()
@click.argument("code", nargs=-1, required=True)
@click.option(
    "--strict", is_flag=True, help="Also refuse codes whose production date is not a calendar date."
)
@click.option(
    "--tables",
    "tables_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of letter tables to use instead of the shipped ones.",
)
def decode(code: tuple[str, ...], strict: bool, tables_dir: Path | None) -> None:
    """Decode each CODE and print one JSON object per line.

    A refused code prints one line on stderr and the others are still decoded; the exit
    status is then 2. A code whose date does not exist (e.g. 2027-09-31) is printed with
    "valid_date": false and a warning on stderr, and refused only with --strict. A code
    dated after today (China Standard Time) or with the serial 0000000 is printed with a
    warning on stderr.
    """
    from gateway.codes.gbt34014 import decode as decode_code
    from gateway.codes.gbt34014 import flags
    from gateway.compliance.findings import today_in_china

    tables = _tables(tables_dir)
    refused = False
    for text in code:
        try:
            decoded = decode_code(text, tables, strict=strict)
        except GatewayError as exc:
            refused = True
            problems = exc.extensions.get("errors")
            problems = problems if isinstance(problems, list) else []
            reasons = "; ".join(
                f"position {p['position']} ({p['segment']}): {p['reason']}" for p in problems
            )
            click.echo(f"{text}: {reasons or exc.detail}", err=True)
            continue
        click.echo(json.dumps(decoded.as_dict(), ensure_ascii=False))
        for problem in decoded.problems:
            click.echo(
                f"{text}: warning: position {problem.position} "
                f"({problem.segment}): {problem.reason}",
                err=True,
            )
        for flag in flags(decoded, today=today_in_china()):
            click.echo(
                f"{text}: warning: position {flag.position} ({flag.segment}): {flag.reason}",
                err=True,
            )
    if refused:
        raise SystemExit(EXIT_INVALID)


@codes.command()
@click.argument("hierarchy", type=click.File("r", encoding="utf-8"))
def hierarchy(hierarchy: TextIO) -> None:
    """Check a pack -> module -> cell hierarchy given as JSON
    {"pack": CODE, "modules": {MODULE_CODE: [CELL_CODE, ...]}} ("-" reads stdin).

    Prints one JSON finding per line; exit status 2 if any finding is an error.
    """
    from gateway.codes.gbt34014 import check_hierarchy

    try:
        document = json.load(hierarchy)
        pack, modules = document["pack"], document["modules"]
        if (
            not isinstance(pack, str)
            or not isinstance(modules, dict)
            or not all(
                isinstance(cells, list) and all(isinstance(c, str) for c in cells)
                for cells in modules.values()
            )
        ):
            raise TypeError
    except (ValueError, KeyError, TypeError) as exc:
        raise click.ClickException(
            'expected a JSON object {"pack": "...", "modules": {"...": ["..."]}}'
        ) from exc
    findings = check_hierarchy(pack, modules)
    for finding in findings:
        click.echo(json.dumps(finding, ensure_ascii=False))
    if any(f["severity"] == "error" for f in findings):
        raise SystemExit(EXIT_INVALID)
