"""``gateway verify``: verify credentials offline."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from gateway.credentials.trust import TrustList
from gateway.errors import GatewayError
from gateway.settings import Settings


@dataclass(frozen=True)
class VerifyOptions:
    """What ``gateway verify`` was told, besides the files.

    :param contexts: ``--context URL=FILE``: a JSON-LD context, or a status list
        credential served at that URL.
    :param now: ``--now``: the time validity is judged at.
    :param proof_only: ``--proof-only``.
    :param strict: ``--strict``: warnings fail.
    :param status_lists: ``--status-list FILE``: status list credentials (found by id).
    :param did_documents: ``--did-document FILE``: pinned DID documents.
    :param keys: ``--key FILE``: the only keys to verify with (JWK or verification method).
    :param trusted_issuers: ``--trusted-issuer DID|DOMAIN``: judge issuers by these
        alone (default: the instance's trust list and ``trusted_issuers`` setting).
    :param tenant: ``--tenant NAME``: add that tenant's trust list.
    """

    contexts: Mapping[str, Path] = field(default_factory=dict)
    now: datetime | None = None
    proof_only: bool = False
    strict: bool = False
    status_lists: Sequence[Path] = ()
    did_documents: Sequence[Path] = ()
    keys: Sequence[Path] = ()
    trusted_issuers: Sequence[str] = ()
    tenant: str | None = None


def _read_json(path: Path, what: str) -> Any:
    from gateway import jsontext

    try:
        return jsontext.loads(Path(path).read_bytes(), what=f"the {what}")
    except (OSError, ValueError) as e:
        raise click.BadParameter(f"{path}: cannot read {what} ({e})") from e


def verify_paths(
    files: Sequence[Path], options: VerifyOptions, settings: Settings | None = None
) -> list[tuple[Path, Any]]:
    """Verify files the way ``gateway verify`` does.

    :param files: credentials: JSON with a proof, or a compact JWS.
    :param options: the command-line options.
    :param settings: the instance whose DID documents and status lists are used too.
    :returns: ``(file, VerificationResult)`` per file, in order.
    :raises click.BadParameter: an option names an unreadable file.
    """
    from gateway.credentials.did import Resolver, VerificationMethod
    from gateway.credentials.status_list import (
        chain,
        documents_source,
        is_status_list_credential,
    )
    from gateway.services import local_status_source
    from gateway.services.trust import offline_did_documents, offline_trust_and_contexts

    settings = settings or Settings.load()
    trust, contexts, passport = offline_trust_and_contexts(settings, options.tenant)
    if options.trusted_issuers:
        trust = TrustList.of(options.trusted_issuers, own=trust.own, source="--trusted-issuer")
    lists: list[Mapping[str, Any]] = []
    for url, path in options.contexts.items():
        document = _read_json(path, "context")
        if isinstance(document, Mapping) and is_status_list_credential(document):
            # Served at URL: its own signed id must say so (an id rewritten here would
            # let any list stand in for the one the credential points to).
            if document.get("id") != url:
                raise click.BadParameter(f"{path}: the status list credential's id is not {url}")
            lists.append(document)
        else:
            contexts[url] = document
    lists.extend(_read_json(p, "status list") for p in options.status_lists)
    methods = []
    for path in options.keys:
        try:
            methods.append(VerificationMethod.from_json(_read_json(path, "key")))
        except GatewayError as e:
            raise click.BadParameter(f"{path}: {e}") from e
    try:
        resolver = Resolver.from_files(
            (), options.did_documents, keys=methods, allow_network=settings.allow_network
        )
    except GatewayError as e:
        raise click.BadParameter(str(e)) from e
    # The instance's documents (pinned in its database, its own made from its keys),
    # unless a file named on the command line gives the same DID's.
    resolver.documents = {**offline_did_documents(settings), **resolver.documents}
    with local_status_source(settings) as own_lists:
        # The instance's own lists first: a file handed in (an old copy, or one signed
        # by someone else) never stands in for a list this instance keeps.
        return _verify_all(
            files,
            options,
            contexts,
            resolver,
            chain(own_lists, documents_source(lists)),
            trust,
            passport,
        )


def _verify_all(
    files: Sequence[Path],
    options: VerifyOptions,
    contexts: dict[str, Any],
    resolver: Any,
    source: Any,
    trust: TrustList,
    passport: tuple[str, str] | None,
) -> list[tuple[Path, Any]]:
    from gateway.credentials.verify import verify

    out = []
    for path in files:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise click.BadParameter(f"{path}: cannot read ({e})") from e
        result = verify(
            text,
            now=options.now,
            contexts=contexts,
            proof_only=options.proof_only,
            trusted_issuers=trust,
            resolver=resolver,
            status_lists=source,
            strict=options.strict,
            passport_issuer=passport,
        )
        out.append((path, result))
    return out


def _context_pair(
    ctx: click.Context, param: click.Parameter, values: Sequence[str]
) -> dict[str, Path]:
    out = {}
    for value in values:
        url, sep, file = value.partition("=")
        if not sep or not url or not file:
            raise click.BadParameter(f"{value!r}: expected URL=FILE", ctx, param)
        out[url] = Path(file)
    return out


def _moment(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    from gateway.credentials.model import parse_datetime

    try:
        return parse_datetime(value)
    except GatewayError as e:
        raise click.BadParameter(str(e), ctx, param) from e


def _status_word(checks: Sequence[Any]) -> str | None:
    """What the issuer did to the credential, as one word: ``revoked`` (``superseded``
    when the passport was replaced) when a revocation bit is set, else ``suspended`` when
    a suspension bit is, else None."""
    from gateway.credentials.status_list import SUPERSEDED_PREFIX

    failed = [c.reason for c in checks if c.id.startswith("status") and not c.ok]
    revoked = [reason for reason in failed if reason.startswith("revoked:")]
    if revoked:
        return "superseded" if any(f"({SUPERSEDED_PREFIX}" in r for r in revoked) else "revoked"
    if any(reason.startswith("suspended:") for reason in failed):
        return "suspended"
    return None


def _implied_suspension(check: Any) -> bool:
    # The gateway sets a revoked passport's suspension bit too (so a credential with a
    # suspension entry only still reads as invalid); beside "revoked" it says nothing new.
    return (
        check.id == "status.suspension" and not check.ok and check.reason.startswith("suspended:")
    )


@click.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--context",
    "contexts",
    multiple=True,
    metavar="URL=FILE",
    callback=_context_pair,
    help="Serve FILE for URL: a JSON-LD context, or a status list credential.",
)
@click.option(
    "--now",
    callback=_moment,
    metavar="ISO",
    help="Judge validity at this time (e.g. 2025-06-01T00:00:00Z).",
)
@click.option("--proof-only", is_flag=True, help="Check the proof / JWS signature only.")
@click.option("--strict", is_flag=True, help="Warnings (e.g. JWS without typ) fail.")
@click.option("--json", "as_json", is_flag=True, help="Print the result objects as JSON.")
@click.option(
    "--status-list",
    "status_lists",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A status list credential file (found by its id); repeat it for each list the "
    "credential points to (a passport: its revocation and its suspension list).",
)
@click.option(
    "--did-document",
    "did_documents",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A pinned DID document (did:web issuers); may be repeated.",
)
@click.option(
    "--key",
    "keys",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Verify with this key only (public JWK or verification method JSON).",
)
@click.option(
    "--trusted-issuer",
    "trusted_issuers",
    multiple=True,
    metavar="DID|DOMAIN",
    help="Trust only these issuer DIDs / did:web domains (default: the "
    "instance's trust list and trusted_issuers setting).",
)
@click.option("--tenant", metavar="NAME", help="Add this tenant's trust list.")
def verify(files: tuple[Path, ...], as_json: bool, **options: Any) -> None:
    """Verify credentials (Data Integrity JSON or vc+jwt) offline.

    Exits 0 only if every FILE verifies. Contexts and status lists come only from the
    pinned set, the instance folder and the files given here; nothing is fetched.
    """
    results = verify_paths(files, VerifyOptions(**options))
    if as_json:
        body = [{"file": str(path), **result.as_dict()} for path, result in results]
        click.echo(json.dumps(body, indent=2, ensure_ascii=False))
    else:
        for path, result in results:
            verdict = "VERIFIED" if result.verified else "NOT VERIFIED"
            status = _status_word(result.checks)
            said = f": {status} by the issuer" if status else ""
            click.echo(f"{verdict}  {path}  ({result.format}){said}")
            for check in result.checks:
                if status in ("revoked", "superseded") and _implied_suspension(check):
                    continue
                if not check.ok:
                    click.echo(f"  x {check.id}: {check.reason}")
                elif not check.evaluated:
                    click.echo(f"  ? {check.id}: {check.reason}")
            if result.verified and result.issuer_trust == "unknown":
                click.echo("  issuer unknown: no trust list applied (see `gateway trust`)")
    if not all(result.verified for _, result in results):
        raise SystemExit(1)
