"""``gateway evidence``: a passport's evidence package for an inspection."""

from __future__ import annotations

from pathlib import Path

import click

from gateway.errors import GatewayError


@click.command()
@click.argument("code")
@click.option(
    "--out",
    "out_file",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The ZIP file to write.",
)
def evidence(code: str, out_file: Path) -> None:
    """Write the evidence package of the passport of battery CODE: the mapping version,
    policy table, credentials as issued, status and status list bits, compliance
    findings and audit events, with a manifest of SHA-256 checksums and a check.py.

    The same passport state always gives the same bytes. The export is recorded in the
    audit log; the package's SHA-256 is printed.
    """
    from gateway.cli.console import console_settings
    from gateway.services import CONSOLE_ADMIN, evidence_package, open_instance

    settings = console_settings(existing=True)
    try:
        instance = open_instance(settings)
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        package = evidence_package(instance, code, CONSOLE_ADMIN)
    finally:
        instance.db.dispose()
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_bytes(package.data)
    click.echo(
        f"{out_file}: evidence of {package.passport_id}, {len(package.data)} bytes, "
        f"sha256 {package.sha256}"
    )
