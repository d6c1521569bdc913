"""``gateway keys``: the issuer's signing keys and DID document, and the key-encryption
keys of encryption at rest."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from gateway.cli.console import console_settings, console_store, echo_json
from gateway.cli.tenants import issue_api_key
from gateway.services.keys_at_rest import CIPHERS, DEFAULT_CIPHER
from gateway.settings import Settings

if TYPE_CHECKING:
    from gateway.credentials.keys import KeyStore


@click.group()
def keys() -> None:
    """Signing keys (Ed25519 JWK files in the instance folder), the issuer DID, and the
    key-encryption keys of encryption at rest."""


def _store(vc_api: bool) -> KeyStore:
    from gateway.credentials.keys import KeyStore

    settings = Settings.load()
    return KeyStore.vc_api(settings) if vc_api else KeyStore.from_settings(settings)


VC_API_HELP = (
    "The key of the generic POST /credentials/issue route (DID "
    "did:web:HOST:vc-api) instead of the passport key."
)


@keys.command()
@click.option(
    "--method",
    type=click.Choice(["web", "key"]),
    default="web",
    show_default=True,
    help="web: a key of the gateway's did:web DID; key: a did:key of its own.",
)
@click.option("--vc-api", is_flag=True, help=VC_API_HELP)
def generate(method: str, vc_api: bool) -> None:
    """Make a new signing key and make it the active one.

    The previous active key retires: it signs nothing more but stays in the DID
    document, so credentials it signed keep verifying.
    """
    record = _store(vc_api).generate(method=method)
    click.echo(f"active key: {record.kid}")
    click.echo(f"issuer:     {record.controller}")


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the key records as JSON.")
def list_keys(as_json: bool) -> None:
    """List every key, oldest first, with its status (active or retired) and use: the
    passport key (passports, status lists) and the VC API key (the generic issue route)."""
    rows = [
        (use, r)
        for use, vc_api in (("passport", False), ("vc-api", True))
        for r in _store(vc_api).records()
    ]
    if as_json:
        click.echo(json.dumps([{**r.as_json(), "use": use} for use, r in rows], indent=2))
        return
    if not rows:
        click.echo("no keys; run `gateway keys generate`")
    for use, r in rows:
        click.echo(f"{use:8} {r.status:8} {r.created}  {r.kid}")


@keys.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["multikey", "jwk"]),
    default="multikey",
    show_default=True,
    help="Verification methods as Multikey or JsonWebKey.",
)
@click.option("--vc-api", is_flag=True, help=VC_API_HELP)
def did(fmt: str, vc_api: bool) -> None:
    """Print the gateway's did:web DID document (served at /.well-known/did.json; with
    --vc-api the VC API DID's, served at /vc-api/did.json)."""
    click.echo(json.dumps(_store(vc_api).did_document(fmt), indent=2))


keys.add_command(issue_api_key, "issue-api-key")


@keys.group()
def kek() -> None:
    """Key-encryption keys of encryption at rest: files in the instance folder that wrap
    the data keys sealing stored records (docs/operations.md, Keys). Back them up apart
    from the database: a backup of the database without them cannot be read."""


@kek.command("create")
@click.option(
    "--cipher",
    type=click.Choice(sorted(CIPHERS)),
    default=DEFAULT_CIPHER,
    show_default=True,
    help="Cipher of the data keys made under it (sm4-gcm: GB/T 32907 SM4 in GCM mode).",
)
def kek_create(cipher: str) -> None:
    """Make a new key-encryption key, current for new data keys; existing data keys stay
    wrapped by theirs (`gateway keys kek rotate` re-wraps them)."""
    from gateway.services.keys_at_rest import instance_keks

    made = instance_keks(console_settings()).create(cipher)
    click.echo(f"key-encryption key created: {made.id} ({made.cipher})")


@kek.command("rotate")
@click.option(
    "--cipher",
    type=click.Choice(sorted(CIPHERS)),
    default=DEFAULT_CIPHER,
    show_default=True,
    help="Cipher of data keys made from now on.",
)
def kek_rotate(cipher: str) -> None:
    """Make a new key-encryption key current and re-wrap every data key with it, in
    batches; if interrupted, run `gateway keys kek rewrap` to finish."""
    from gateway.services.keys_at_rest import rotate_kek

    settings = console_settings()
    with console_store() as db:
        made, done = rotate_kek(settings, db, cipher)
    click.echo(f"key-encryption key {made.id} is current; {done} data keys re-wrapped")


@kek.command("rewrap")
def kek_rewrap() -> None:
    """Re-wrap every data key with the current key-encryption key (finishes a rotation
    that was interrupted)."""
    from gateway.services.keys_at_rest import instance_keks, rewrap

    current = instance_keks(console_settings()).current()
    with console_store() as db:
        done = rewrap(db, current)
    click.echo(f"{done} data keys re-wrapped with {current}")


@kek.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the keys as JSON.")
def kek_list(as_json: bool) -> None:
    """List the key-encryption keys, oldest first, with how many data keys each wraps
    (a key the database names but the folder lacks shows as missing)."""
    from gateway.services.keys_at_rest import list_keks

    settings = console_settings()
    if settings.has_store:
        with console_store(existing=True) as db:
            rows = list_keks(settings, db)
    else:
        rows = list_keks(settings, None)
    if as_json:
        echo_json([r.as_json() for r in rows])
        return
    if not rows:
        click.echo("no key-encryption keys; run `gateway keys kek create`")
    for r in rows:
        state = "current" if r.current else ("missing" if not r.kek.created else "earlier")
        click.echo(
            f"{state:8} {r.kek.created or '-':20} {r.kek.cipher or '-':12} "
            f"{r.data_keys:6} data keys  {r.kek.id}"
        )


@keys.command("encrypt-store")
@click.option(
    "--batch",
    type=click.IntRange(1, 10_000),
    default=500,
    show_default=True,
    help="Records sealed per transaction.",
)
def encrypt_store(batch: int) -> None:
    """Seal every passport record, and every credential beyond the public point, stored
    in clear (a store from before encryption at rest), in batches that each commit;
    killed, it resumes where it stopped when run again. A SQLite file is compacted at
    the end, so freed pages keep no clear bytes."""
    from gateway.services.keys_at_rest import encrypt_store as seal_all

    with console_store() as db:
        done = seal_all(db, batch, progress=lambda n: click.echo(f"{n} sealed", err=True))
    click.echo(f"{done} sealed (records, credentials beyond point 1); none left in clear")
