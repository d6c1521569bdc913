"""``gateway convert``: national records in, passport documents and gap reports out."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from gateway.errors import GatewayError
from gateway.settings import Settings

# Below this many records a progress bar is noise.
PROGRESS_FROM = 5


@click.command()
@click.argument("records", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the per-battery output folders.")
@click.option("--mapping", default=None, metavar="SET@VERSION",
              help="Published mapping version (default: the instance's, "
                   "cn-trace-to-eu-passport@1.0.0).")
@click.option("--base-url", default=None,
              help="Public base URL of the issuing gateway; passport ids live under it.")
@click.option("--quiet", is_flag=True, help="Print no gap tables.")
def convert(records: tuple[Path, ...], out_dir: Path, mapping: str | None,
            base_url: str | None, quiet: bool) -> None:
    """Convert national traceability records (JSON or XML) into EU passport documents.

    Writes OUT/<code>/passport-<access_group>.jsonld and OUT/<code>/gaps.json per
    record and prints the mandatory gaps. A record that fails writes nothing; the exit
    status is 1 if any record failed.
    """
    from gateway.records.reader import read_record_file
    from gateway.services import draft_passport
    from gateway.transform.gaps import gap_table

    settings = Settings.load()
    mapping = mapping or settings.mapping
    base_url = base_url or settings.base_url
    failed = 0
    bar = tqdm(records, unit="record", disable=len(records) < PROGRESS_FROM, file=sys.stderr)
    for path in bar:
        try:
            record = read_record_file(path)
            draft = draft_passport(record, mapping=mapping, base_url=base_url)
        except GatewayError as exc:
            failed += 1
            click.echo(f"{path}: {_one_line(exc)}", err=True)
            continue
        files: dict[str, Any] = {
            f"passport-{group}.jsonld": document for group, document in draft.documents.items()
        }
        files["gaps.json"] = draft.gaps
        _write_folder(out_dir / draft.battery_code, files)
        if not quiet:
            bar.write(gap_table(draft.gaps), file=sys.stdout)
    if failed:
        raise SystemExit(1)


def _one_line(exc: GatewayError) -> str:
    errors = exc.extensions.get("errors")
    if isinstance(errors, list) and len(errors) > 1:
        rest = "; ".join(
            f"{e.get('pointer') or e.get('position') or e.get('row')}: "
            f"{e.get('message') or e.get('reason')}" for e in errors[1:4]
        )
        return f"{exc} (and {len(errors) - 1} more: {rest})"
    return str(exc)


def _write_folder(target: Path, files: dict[str, Any]) -> None:
    """Write all files of one battery or none: build beside the target, then swap."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for name, content in files.items():
            (staging / name).write_text(
                json.dumps(content, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
