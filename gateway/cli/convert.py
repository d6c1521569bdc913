"""``gateway convert``: national records in, passport documents and gap reports out."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from tqdm import tqdm

from gateway.cli.heap import settled
from gateway.credentials.formats import PROOF_FORMATS
from gateway.errors import GatewayError
from gateway.settings import Settings

if TYPE_CHECKING:
    from gateway.services import PassportDraft

# Below this many records a progress bar is noise.
PROGRESS_FROM = 5


@click.command()
@click.argument(
    "records", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the per-battery output folders (needed without --store).",
)
@click.option(
    "--mapping",
    default=None,
    metavar="SET@VERSION",
    help="Published mapping version (default: the instance's, cn-trace-to-eu-passport@1.1.0).",
)
@click.option(
    "--base-url",
    default=None,
    help="Public base URL of the issuing gateway; passport ids live under it.",
)
@click.option(
    "--sign",
    is_flag=True,
    help="Also sign credentials with the instance's active key. Without --store "
    "they carry no credentialStatus: nothing is stored or audited, so "
    "nothing could revoke them; issue with --store for revocable ones.",
)
@click.option(
    "--format",
    "proof_format",
    type=click.Choice(PROOF_FORMATS),
    default="di",
    show_default=True,
    help="Proof format with --sign: Data Integrity eddsa-rdfc-2022, or vc+jwt.",
)
@click.option(
    "--store",
    is_flag=True,
    help="With --sign: issue into the instance's store as POST /passports does "
    "(status lists, audit log; a battery that has a passport is refused).",
)
@click.option(
    "--tenant", default=None, help="With --store: the tenant that issues (default: the only one)."
)
@click.option(
    "--batterypass",
    is_flag=True,
    help="Also write the public part as Battery Pass 1.2 aspect payloads "
    "(only complete aspects; batterypass-missing.json names the rest).",
)
@click.option(
    "--aas",
    is_flag=True,
    help="Also write the passport as an Asset Administration Shell (IDTA-02035 with the "
    "EN 18223 DppMetadata): passport.aas.json, passport.aasx and passport.aas-report.json "
    "(filled and missing template elements). Every Annex XIII point: the exporter's own view.",
)
@click.option("--quiet", is_flag=True, help="Print no gap tables (the closing summary line stays).")
def convert(
    records: tuple[Path, ...],
    out_dir: Path | None,
    mapping: str | None,
    base_url: str | None,
    sign: bool,
    proof_format: str,
    store: bool,
    tenant: str | None,
    batterypass: bool,
    aas: bool,
    quiet: bool,
) -> None:
    """Convert national traceability records (JSON or XML) into EU passport documents.

    Writes OUT/<code>/passport-annex-xiii-<N>.jsonld (one per non-empty Annex XIII
    point) and OUT/<code>/gaps.json per record, with --sign also
    OUT/<code>/passport-annex-xiii-<N>.vc.jsonld (or .vc.jwt), and prints the mandatory
    gaps; with --batterypass the Battery Pass 1.2 payloads of the public part, with --aas
    the Asset Administration Shell (JSON and AASX). Credentials signed without --store
    carry no status
    entries (no revocation or suspension): they are neither stored nor audited. With
    --sign --store each passport is issued into the instance's store instead, as
    POST /passports/batch does: status lists, audit log (OUT, if given, then gets the
    stored credentials and gaps.json). A record that fails writes nothing; the exit
    status is 1 if any record failed.

    Files already in OUT/<code>/ that this run does not write stay (so a --format jwt
    run keeps the Data Integrity credentials of an earlier one). A second record of the
    same battery in one run (its JSON and XML forms) goes to OUT/<code>-2/, with a
    warning. The report of the run goes to standard output: the gap tables and a closing
    "N converted, M failed" line (which --quiet keeps); errors, warnings and the
    progress bar go to standard error.
    """
    if store:
        if batterypass or aas:
            raise click.UsageError("--batterypass and --aas go with a conversion into --out")
        if not sign:
            raise click.UsageError("--store issues signed passports: add --sign")
        if base_url is not None:
            raise click.UsageError(
                "--store issues under the instance's base URL; "
                "set it with GATEWAY_BASE_URL, not --base-url"
            )
        _store(records, out_dir, mapping, proof_format, tenant, quiet)
        return
    if out_dir is None:
        raise click.UsageError("name the output folder with --out (or issue with --store)")
    if tenant is not None:
        raise click.UsageError("--tenant goes with --store")
    from gateway.records.reader import read_record_file
    from gateway.services import draft_passport, sign_passport, signing_key
    from gateway.services.mappings import published_mapping
    from gateway.services.whitelist import offline_whitelist
    from gateway.transform.gaps import gap_table

    settings = Settings.load()
    table = published_mapping(settings, mapping or settings.mapping)
    base_url = base_url or settings.base_url
    whitelist = offline_whitelist(settings)
    try:
        key = signing_key(settings) if sign else None
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc
    failed = 0
    folders = _Folders(out_dir)
    bar = tqdm(records, unit="record", disable=len(records) < PROGRESS_FROM, file=sys.stderr)
    for path in bar:
        try:
            record = read_record_file(path)
            draft = draft_passport(record, mapping=table, base_url=base_url, whitelist=whitelist)
            # No status lists: what is neither stored nor audited cannot be revoked, so
            # its credentials promise no revocation (issue with --store for that).
            credentials = (
                sign_passport(draft, key=key, registry=None, proof_format=proof_format)
                if key is not None
                else {}
            )
        except GatewayError as exc:
            failed += 1
            click.echo(f"{path}: {_one_line(exc)}", err=True)
            continue
        files: dict[str, Any] = {
            f"passport-{name}.jsonld": document for name, document in draft.documents.items()
        }
        suffix = "vc.jsonld" if proof_format == "di" else "vc.jwt"
        files.update({f"passport-{name}.{suffix}": c for name, c in credentials.items()})
        files["gaps.json"] = draft.gaps
        try:
            if batterypass:
                files.update(_batterypass_files(draft, record))
            if aas:
                files.update(_aas_files(draft, record))
            _check_files(files, record)
        except (GatewayError, ValueError) as exc:
            failed += 1
            click.echo(f"{path}: {exc}", err=True)
            continue
        _write_folder(folders.claim(draft.battery_code, path, bar), files)
        if not quiet:
            bar.write(gap_table(draft.gaps), file=sys.stdout)
    _finish(len(records), failed)


def _batterypass_files(draft: PassportDraft, record: Mapping[str, Any]) -> dict[str, Any]:
    """The public part as Battery Pass payloads, with the structured addresses and the
    time of measurement the record gives (as far as the data policy lets them leave)."""
    from gateway.transform.batterypass import addresses_of, export
    from gateway.transform.measurements import measured_at

    projection = export(
        draft.conversion.attributes,
        measured_at=measured_at(record, draft.policy.withheld_paths),
        addresses=addresses_of(draft.conversion, record),
    )
    files: dict[str, Any] = {
        f"batterypass-{aspect}.json": payload for aspect, payload in projection.payloads.items()
    }
    files["batterypass-missing.json"] = projection.missing
    return files


def _aas_files(draft: PassportDraft, record: Mapping[str, Any]) -> dict[str, Any]:
    """The draft's documents (every point) as an AAS environment, JSON and AASX, with
    the EN 18223 metadata its public document carries and the export's report.

    :raises ValueError: a public document without a readable metadata block.
    """
    from gateway.annex_xiii import PUBLIC_SECTION
    from gateway.transform.aas import export_aas, subjects_view
    from gateway.transform.en18223 import facts_from_block
    from gateway.transform.measurements import measured_at

    facts = facts_from_block(draft.documents[PUBLIC_SECTION])
    view = subjects_view(
        facts,
        draft.battery_code,
        draft.documents,
        measured_at(record, draft.policy.withheld_paths),
    )
    export = export_aas(view)
    return {
        "passport.aas.json": export.to_json(),
        "passport.aasx": export.to_aasx(),
        "passport.aas-report.json": export.report(),
    }


def _store(
    records: tuple[Path, ...],
    out_dir: Path | None,
    mapping: str | None,
    proof_format: str,
    tenant: str | None,
    quiet: bool,
) -> None:
    """Issue the records into the store through ``issue_many``, as the batch API and the
    upload page do."""
    from gateway.records.reader import read_record_file
    from gateway.services import RecordItem, console_principal, issue_many, open_instance
    from gateway.transform.gaps import gap_table

    try:
        instance = open_instance(Settings.load())
        caller = console_principal(instance, tenant)
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc

    def items() -> Iterator[RecordItem]:
        for number, path in enumerate(records, start=1):
            try:
                yield number, read_record_file(path)
            except Exception as exc:  # refused as this file's outcome
                yield number, exc

    failed = 0
    folders = _Folders(out_dir) if out_dir is not None else None
    with settled():
        try:
            outcomes = issue_many(
                instance, items(), principal=caller, mapping=mapping, proof_format=proof_format
            )
            bar = tqdm(
                outcomes,
                total=len(records),
                unit="record",
                disable=len(records) < PROGRESS_FROM,
                file=sys.stderr,
            )
            for outcome in bar:
                path = records[outcome.number - 1]
                issued = outcome.issued
                if issued is None:
                    failed += 1
                    reason = (
                        _one_line(outcome.error)
                        if outcome.error
                        else (outcome.problem or {}).get("detail")
                    )
                    click.echo(f"{path}: {reason}", err=True)
                    continue
                passport = issued.passport
                bar.write(
                    f"stored {passport.id} ({len(issued.credentials)} credentials, "
                    f"{proof_format}, {passport.mapping_set}@{passport.mapping_version})",
                    file=sys.stdout,
                )
                if folders is not None:
                    suffix = "vc.jsonld" if proof_format == "di" else "vc.jwt"
                    files: dict[str, Any] = {
                        f"passport-{name}.{suffix}": credential
                        for name, credential in issued.credentials.items()
                    }
                    files["gaps.json"] = passport.gaps
                    _write_folder(folders.claim(passport.battery_code, path, bar), files)
                if not quiet:
                    bar.write(gap_table(passport.gaps), file=sys.stdout)
        finally:
            instance.db.dispose()
    _finish(len(records), failed)


class _Folders:
    """The per-battery output folders of one run: a battery met a second time (its JSON
    and XML forms, say) is written beside the first, never over it."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.sources: dict[str, Path] = {}  # folder name -> the record written there

    def claim(self, code: str, source: Path, bar: Any) -> Path:
        """The folder for ``code``'s output from ``source``, warning on stderr when the
        battery already has a folder from this run."""
        name, number = code, 1
        while name in self.sources:
            number += 1
            name = f"{code}-{number}"
        if number > 1:
            bar.write(
                f"warning: {source}: battery {code} already converted in this run from "
                f"{self.sources[code]}; written beside it to {self.out_dir / name}",
                file=sys.stderr,
            )
        self.sources[name] = source
        return self.out_dir / name


def _finish(total: int, failed: int) -> None:
    """Close the run with its summary line on standard output (also under --quiet), so
    a script that keeps the report has the count; exit 1 if any failed."""
    click.echo(f"{total - failed} converted, {failed} failed")
    if failed:
        raise SystemExit(1)


def _one_line(exc: GatewayError) -> str:
    errors = exc.extensions.get("errors")
    if isinstance(errors, list) and len(errors) > 1:
        rest = "; ".join(
            f"{e.get('pointer') or e.get('position') or e.get('row')}: "
            f"{e.get('message') or e.get('reason')}"
            for e in errors[1:6]
        )
        return f"{exc}; also {rest}"
    return str(exc)


def _check_files(files: Mapping[str, Any], record: Mapping[str, Any]) -> None:
    """The export check on every file of a battery before any is written (AASX
    packages are compressed: their environment is the ``.aas.json`` beside them)."""
    from gateway.policy.identifiers import check_export, identifying_values

    values = identifying_values(record)
    for name, content in files.items():
        if name.endswith(".aasx"):
            continue
        text = (
            content if isinstance(content, str | bytes) else json.dumps(content, ensure_ascii=False)
        )
        check_export(name, text, values)


def _write_folder(target: Path, files: dict[str, Any]) -> None:
    """Write all files of one battery or none: build them beside the target, then move
    each in. Files of the target that are not among ``files`` are left as they are."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for name, content in files.items():
            if isinstance(content, bytes):  # written as made: AAS JSON, AASX packages
                (staging / name).write_bytes(content)
                continue
            text = (
                content
                if isinstance(content, str)
                else json.dumps(content, ensure_ascii=False, indent=2)
            )
            (staging / name).write_text(text + "\n", encoding="utf-8")
        target.mkdir(exist_ok=True)
        for name in files:
            os.replace(staging / name, target / name)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
