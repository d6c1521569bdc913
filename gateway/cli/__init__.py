"""The ``gateway`` command.

Sub-commands live in their own modules and are imported only when called, so
``gateway codes decode`` does not pay for loading the JSON-LD and crypto stacks.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from gateway import __version__
from gateway.errors import GatewayError

# name -> "module:attribute" of a click command or group
COMMANDS: dict[str, str] = {
    "init": "gateway.cli.instance:init",
    "serve": "gateway.cli.serve:serve",
    "codes": "gateway.cli.codes:codes",
    "convert": "gateway.cli.convert:convert",
    "mappings": "gateway.cli.mappings:mappings",
    "keys": "gateway.cli.keys:keys",
    "verify": "gateway.cli.verify:verify",
    "contexts": "gateway.cli.contexts:contexts",
    "telemetry": "gateway.cli.telemetry:telemetry",
    "tenants": "gateway.cli.tenants:tenants",
    "db": "gateway.cli.db:db",
    "whitelist": "gateway.cli.whitelist:whitelist",
    "audit": "gateway.cli.audit:audit",
    "passports": "gateway.cli.passports:passports",
    "evidence": "gateway.cli.evidence:evidence",
    "trust": "gateway.cli.trust:trust",
    "dids": "gateway.cli.did_documents:dids",
    "access": "gateway.cli.access:access",
    "grants": "gateway.cli.access:grants",
    "disclosures": "gateway.cli.access:disclosures",
    "approvals": "gateway.cli.approvals:approvals",
    "registry": "gateway.cli.registry:registry",
    "retention": "gateway.cli.retention:retention",
    "identifiers": "gateway.cli.identifiers:identifiers",
    "jobs": "gateway.cli.jobs:jobs",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            module, _, attr = COMMANDS[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), attr)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        # Every command reports a refused input or state the same way: one line naming
        # the field at fault, exit status 1, no traceback.
        try:
            return super().invoke(ctx)
        except GatewayError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="gateway")
def main() -> None:
    """CN→EU battery passport gateway: decode GB/T 34014 codes, convert national
    traceability records into EU battery passports, sign and verify them.

    \b
    Commands that keep state use the instance folder named by GATEWAY_HOME (default:
    ./instance, relative to the current directory), with the database of DATABASE_URL
    when set. Set GATEWAY_HOME to use one instance from any directory; `gateway init`
    creates it. Commands that only read refuse an instance that does not exist yet.
    """
