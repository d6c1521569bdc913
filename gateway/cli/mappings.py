"""``gateway mappings``: the mapping tables."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from gateway.mapping.model import MappingSet


@click.group()
def mappings() -> None:
    """Inspect the mapping tables from the national record model to the EU passport."""


def _workflow(*, existing: bool = False) -> Any:
    """The mapping workflow on the instance's store; ``existing`` for the commands that only
    read, so that they refuse a missing instance rather than create an empty one."""
    from gateway.auth import CONSOLE_ADMIN, audit_actor
    from gateway.cli.console import console_settings
    from gateway.services import connect_store
    from gateway.services.mappings import MappingWorkflow

    settings = console_settings(existing=existing)
    workflow = MappingWorkflow(connect_store(settings), actor=audit_actor(CONSOLE_ADMIN))
    workflow.sync_shipped()  # so `list` shows the shipped versions too
    return workflow


def _emit(data: Any, as_json: bool, text: str) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2) if as_json else text)


def _problems_text(problems: list[Any]) -> str:
    if not problems:
        return "valid: no problems"
    return "\n".join(f"row {p.row}: {p.column or '-'}: {p.message}" for p in problems)


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@mappings.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List the mapping versions: shipped, published and drafts."""
    versions = _workflow(existing=True).versions()
    _emit(
        versions,
        as_json,
        "\n".join(f"{v['mapping']:<36} {v['status']:<10} {v['hash'] or ''}" for v in versions),
    )


@mappings.command()
@click.argument("ref", metavar="SET@VERSION")
@json_option
def show(ref: str, as_json: bool) -> None:
    """Coverage summary of a mapping version: rows per relation, and the mandatory EU
    attributes the national model alone cannot fill, per battery category."""
    summary = coverage(_workflow(existing=True).table(ref))
    lines = [
        f"{summary['mapping']}  {summary['hash']}",
        f"  rows {summary['rows']}, attributes {summary['attributes']}",
    ]
    lines += [
        f"  {name:<22} {count:>4} rows" for name, count in summary["rows_by_relation"].items()
    ]
    lines += [
        f"  {name:<22} {count:>4} attributes"
        for name, count in summary["attributes_by_source"].items()
    ]
    for category, keys in summary["mandatory_not_from_national_model"].items():
        lines.append(
            f"  {category}: {len(keys)} mandatory attributes need the EU supplement "
            "or have no counterpart"
        )
        lines.append("    " + ", ".join(keys))
    _emit(summary, as_json, "\n".join(lines))


@mappings.command()
@click.argument("ref", metavar="SET@VERSION")
@click.option(
    "--from", "base", required=True, metavar="VERSION", help="Published version to start from."
)
@json_option
def draft(ref: str, base: str, as_json: bool) -> None:
    """Create a draft SET@VERSION from a published version of the same set."""
    set_id, _, version = ref.partition("@")
    _workflow().create_draft(set_id, version, base)
    _emit(
        {"mapping": ref, "status": "draft", "from": f"{set_id}@{base}"},
        as_json,
        f"draft {ref} created from {set_id}@{base}",
    )


@mappings.command("edit")
@click.argument("ref", metavar="SET@VERSION")
@click.option(
    "--set",
    "changes",
    multiple=True,
    nargs=2,
    metavar="ROW COLUMN=VALUE",
    help="Change a cell, e.g. --set 17 predicate_id=skos:exactMatch (transform_params takes JSON).",
)
@click.option(
    "--add",
    "additions",
    multiple=True,
    metavar="JSON",
    help="Add a row given as a JSON object of SSSOM columns.",
)
@click.option("--remove", "removals", multiple=True, type=int, metavar="ROW", help="Remove a row.")
@json_option
def edit_(
    ref: str,
    changes: tuple[tuple[str, str], ...],
    additions: tuple[str, ...],
    removals: tuple[int, ...],
    as_json: bool,
) -> None:
    """Edit a draft's rows and show its validation problems."""
    change: dict[int, dict[str, Any]] = {}
    for row, assignment in changes:
        column, sep, value = assignment.partition("=")
        if not sep:
            raise click.BadParameter(f"{assignment!r} is not COLUMN=VALUE", param_hint="--set")
        change.setdefault(int(row), {})[column] = (
            json.loads(value) if column == "transform_params" else value
        )
    add = [json.loads(a) for a in additions]
    _, problems = _workflow().edit(ref, add=add, change=change, remove=removals)
    _emit([p.as_dict() for p in problems], as_json, _problems_text(problems))


@mappings.command()
@click.argument("ref", metavar="SET@VERSION")
@json_option
def validate(ref: str, as_json: bool) -> None:
    """Check a version; exit 1 if it has problems."""
    problems = _workflow(existing=True).validate(ref)
    _emit([p.as_dict() for p in problems], as_json, _problems_text(problems))
    if problems:
        raise SystemExit(1)


@mappings.command("diff")
@click.argument("base", metavar="SET@VERSION")
@click.argument("head", metavar="SET@VERSION")
@json_option
def diff_(base: str, head: str, as_json: bool) -> None:
    """Rows added, removed and changed between two versions."""
    from gateway.mapping.diff import diff_table

    result = _workflow(existing=True).diff(base, head)
    _emit(result.as_dict(), as_json, diff_table(result))


@mappings.command()
@click.argument("ref", metavar="SET@VERSION")
@click.option(
    "--base", metavar="SET@VERSION", help="Compare with this version (default: the draft's base)."
)
@click.option(
    "--tenant",
    metavar="NAME",
    help="Also analyse this tenant's stored passports (without it, the fixtures alone).",
)
@click.option(
    "--after",
    metavar="CODE",
    help="Start after this battery code (the `next` of the previous page).",
)
@click.option(
    "--limit",
    type=int,
    default=None,
    metavar="N",
    help="Stored passports per page (default 50, at most 200).",
)
@json_option
def impact(
    ref: str,
    base: str | None,
    tenant: str | None,
    after: str | None,
    limit: int | None,
    as_json: bool,
) -> None:
    """Gap status and readiness changes over the fixtures and, with --tenant, one page of
    that tenant's stored passports."""
    from gateway.services import tenant_id as tenant_id_of
    from gateway.services.mappings import IMPACT_PAGE
    from gateway.settings import Settings

    workflow = _workflow(existing=True)
    tenant_id = tenant_id_of(workflow.db, tenant) if tenant is not None else None
    result = workflow.impact(
        ref,
        base,
        base_url=Settings.load().base_url,
        tenant_id=tenant_id,
        passports=tenant is not None,
        after=after,
        limit=IMPACT_PAGE if limit is None else limit,
    )
    lines = [f"{result['base']} -> {result['head']}"]
    for r in result["records"]:
        if "error" in r:
            lines.append(f"  {r['record']}: {r['error']}")
            continue
        lines.append(
            f"  {r['record']}: readiness {r['readiness_before']:.1%} -> "
            f"{r['readiness_after']:.1%}, {len(r['status_changes'])} status changes"
        )
    for key, moves in result["attributes"].items():
        lines.append(f"  {key}: " + ", ".join(f"{m} x{n}" for m, n in moves.items()))
    lines.append(f"  passports that would differ if re-issued: {len(result['passports_affected'])}")
    page = result["page"]
    if tenant is not None:
        lines.append(
            f"  stored passports of {tenant}: {page['count']} of {page['total']} on "
            "this page" + (f"; next page: --after {page['next']}" if page["next"] else "")
        )
    _emit(result, as_json, "\n".join(lines))


@mappings.command()
@click.argument("ref", metavar="SET@VERSION")
@json_option
def publish(ref: str, as_json: bool) -> None:
    """Publish a valid draft; it can never change afterwards."""
    table = _workflow().publish(ref)
    _emit(
        {"mapping": table.ref, "status": "published", "hash": table.content_hash},
        as_json,
        f"published {table.ref} {table.content_hash}",
    )


@mappings.command()
@click.argument("ref", metavar="SET@VERSION")
@json_option
def deprecate(ref: str, as_json: bool) -> None:
    """Mark a published version deprecated (it stays readable and verifiable)."""
    _workflow().deprecate(ref)
    _emit({"mapping": ref, "status": "deprecated"}, as_json, f"deprecated {ref}")


@mappings.command()
@click.argument("ref", metavar="SET@VERSION")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print {mapping, file} as JSON (with FILE -, the TSV goes to standard output as it is).",
)
def export(ref: str, file: Path, as_json: bool) -> None:
    """Write a version as SSSOM TSV (``-`` for standard output)."""
    text = _workflow(existing=True).export(ref)
    if str(file) == "-":
        click.echo(text, nl=False)
    else:
        file.write_text(text, encoding="utf-8")
        _emit({"mapping": ref, "file": str(file)}, as_json, f"wrote {file}")


@mappings.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--base", metavar="VERSION", help="Published version the file derives from.")
@json_option
def import_(file: Path, base: str | None, as_json: bool) -> None:
    """Load an SSSOM TSV file as a draft (set and version from its metadata)."""
    table = _workflow().import_draft(file.read_text(encoding="utf-8"), base_version=base)
    _emit(
        {"mapping": table.ref, "status": "draft", "hash": table.content_hash},
        as_json,
        f"draft {table.ref} imported {table.content_hash}",
    )


def coverage(mapping_set: MappingSet) -> dict[str, Any]:
    """How much of the EU catalog a mapping version covers from national data."""
    from gateway.mapping.model import NO_TERM_FOUND
    from gateway.vocab.catalog import CATEGORIES, load_catalog

    catalog = load_catalog()
    by_relation = Counter(
        "sssom:NoTermFound"
        if row.subject_id == NO_TERM_FOUND
        else "eu_supplement"
        if row.from_supplement
        else row.predicate_id
        for row in mapping_set.rows
    )
    source_kind: dict[str, str] = {}
    for attribute in catalog.attributes:
        rows = mapping_set.rows_for(attribute.term)
        if any(r.source_path and not r.from_supplement for r in rows):
            exact = any(
                r.predicate_id == "skos:exactMatch" and r.source_path and not r.from_supplement
                for r in rows
            )
            source_kind[attribute.key] = "national (exact)" if exact else "national (close)"
        elif any(r.from_supplement for r in rows):
            source_kind[attribute.key] = "eu_supplement"
        else:
            source_kind[attribute.key] = "no counterpart"
    not_national = {
        category: [
            a.key
            for a in catalog.attributes
            if a.is_mandatory(category) and not source_kind[a.key].startswith("national")
        ]
        for category in CATEGORIES
    }
    return {
        "mapping": mapping_set.ref,
        "hash": mapping_set.content_hash,
        "rows": len(mapping_set.rows),
        "attributes": len(catalog.attributes),
        "rows_by_relation": dict(sorted(by_relation.items())),
        "attributes_by_source": dict(sorted(Counter(source_kind.values()).items())),
        "mandatory_not_from_national_model": not_national,
    }
