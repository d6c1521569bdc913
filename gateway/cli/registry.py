"""``gateway registry``: EU registry readiness at the console.

The registry's API is not publicly documented, so nothing here talks to it: ``export``
writes the registration payloads an operator (or its own tooling) submits, ``record``
stores the registry's answer, ``show`` and ``profile`` read and set what the payloads
are made of.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import click

from gateway import services
from gateway.cli.console import console_instance, echo_json
from gateway.services.registry import CSV_COLUMNS, MAX_PROOF_BYTES


@click.group()
def registry() -> None:
    """EU product-passport registry: registration payloads and the registrations recorded
    (`docs/eu-formats.md`). No network: the registry's API is not public yet."""


@registry.command()
@click.option("--tenant", metavar="NAME", help="Only this tenant's passports (default: all).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(services.PAYLOAD_FORMATS),
    default="jsonl",
    show_default=True,
    help="JSON Lines or CSV.",
)
@click.option("--unregistered", is_flag=True, help="Only versions with no registration recorded.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (default: standard output).",
)
def export(tenant: str | None, fmt: str, unregistered: bool, output: Path | None) -> None:
    """Write the registration payload of every passport, one per line (or CSV row)."""
    with console_instance(existing=True) as instance:
        rows = services.payload_rows(
            instance, services.CONSOLE_ADMIN, tenant=tenant, unregistered=unregistered
        )
        if output is None:
            for text in services.payload_text(rows, fmt):
                click.echo(text, nl=False)
            return
        with output.open("w", encoding="utf-8", newline="") as handle:
            handle.writelines(services.payload_text(rows, fmt))
    click.echo(f"registration payloads written to {output}", err=True)


@registry.command()
@click.argument("code")
@click.option("--registration-id", required=True, help="The identifier the registry returned.")
@click.option(
    "--registered-at",
    required=True,
    metavar="DATETIME",
    help="RFC 3339 date-time (with offset) of the proof of registration.",
)
@click.option(
    "--proof",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The proof of registration file (kept; at most 1 MiB).",
)
@click.option("--proof-sha256", metavar="HEX", help="The proof's SHA-256, when not keeping it.")
@click.option("--proof-name", metavar="NAME", help="The proof's file name (with --proof-sha256).")
@click.option("--content-sha256", metavar="HEX", help="The content hash registered (checked).")
@click.option("--json", "as_json", is_flag=True, help="Print the registration as JSON.")
def record(
    code: str,
    registration_id: str,
    registered_at: str,
    proof: Path | None,
    proof_sha256: str | None,
    proof_name: str | None,
    content_sha256: str | None,
    as_json: bool,
) -> None:
    """Record the registry's answer for the current version of CODE's passport (audited)."""
    if (proof is None) == (proof_sha256 is None):
        raise click.UsageError("give the proof file with --proof or its hash with --proof-sha256")
    if proof is not None:
        if proof.stat().st_size > MAX_PROOF_BYTES:
            raise click.BadParameter("larger than 1 MiB", param_hint="--proof")
        given: dict[str, Any] = {
            "fileName": proof_name or proof.name,
            "content": base64.b64encode(proof.read_bytes()).decode("ascii"),
        }
    else:
        if proof_name is None:
            raise click.UsageError("--proof-sha256 needs --proof-name")
        given = {"fileName": proof_name, "sha256": proof_sha256}
    body: dict[str, Any] = {
        "registrationId": registration_id,
        "registeredAt": registered_at,
        "proof": given,
    }
    if content_sha256 is not None:
        body["contentSha256"] = content_sha256
    with console_instance() as instance:
        stored = services.record_registration(instance, services.CONSOLE_ADMIN, code, body)
    if as_json:
        echo_json(stored)
        return
    click.echo(
        f"registration {stored['registrationId']} recorded for {code} "
        f"(content {stored['contentSha256']}, proof {stored['proof']['sha256']})"
    )


@registry.command()
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Print metadata, payload and registrations.")
def show(code: str, as_json: bool) -> None:
    """The EN 18223 metadata, the registration payload and the registrations of CODE."""
    with console_instance(existing=True) as instance:
        data: dict[str, Any] = {
            "metadata": services.passport_metadata(instance, code),
            "payload": services.passport_payload(instance, services.CONSOLE_ADMIN, code),
            "registrations": services.passport_registrations(
                instance, services.CONSOLE_ADMIN, code
            ),
        }
    if as_json:
        echo_json(data)
        return
    payload = data["payload"]
    for name in CSV_COLUMNS:
        value = payload[name]
        click.echo(f"{name}\t{' '.join(value) if isinstance(value, list) else value}")
    for item in data["registrations"]:
        click.echo(f"registration\t{item['registrationId']}\t{item['registeredAt']}")


@registry.command()
@click.option("--tenant", required=True, metavar="NAME", help="The tenant.")
@click.option("--economic-operator-id", help="Default economic operator identifier.")
@click.option("--facility-id", help="Default facility identifier.")
@click.option("--commodity-code", help="Default CN (8 digits) or HS (6 digits) code.")
@click.option("--backup-url-base", help="Base URL of the back-up copies.")
@click.option("--json", "as_json", is_flag=True, help="Print the defaults as JSON.")
def profile(
    tenant: str,
    economic_operator_id: str | None,
    facility_id: str | None,
    commodity_code: str | None,
    backup_url_base: str | None,
    as_json: bool,
) -> None:
    """Show TENANT's registration defaults; with options, change those given (audited)."""
    changes = {
        "economicOperatorId": economic_operator_id,
        "facilityId": facility_id,
        "commodityCode": commodity_code,
        "backupUrlBase": backup_url_base,
    }
    with console_instance() as instance:
        current = services.registry_profile(instance.db, services.CONSOLE_ADMIN, tenant)
        if any(v is not None for v in changes.values()):
            body = {k: (changes[k] if changes[k] is not None else current[k]) for k in changes}
            current = services.set_registry_profile(
                instance.db, services.CONSOLE_ADMIN, body, tenant
            )
    if as_json:
        echo_json(current)
        return
    for name, value in current.items():
        click.echo(f"{name}\t{'' if value is None else value}")
