"""``gateway mappings``: the mapping tables."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import click

from gateway.errors import GatewayError


@click.group()
def mappings() -> None:
    """Inspect the mapping tables from the national record model to the EU passport."""


@mappings.command("list")
def list_() -> None:
    """List the published mapping versions."""
    from gateway.mapping.loader import available

    for ref in available():
        click.echo(ref)


@mappings.command()
@click.argument("ref", metavar="SET@VERSION")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def show(ref: str, as_json: bool) -> None:
    """Coverage summary of a mapping version: rows per relation, and the mandatory EU
    attributes the national model alone cannot fill, per battery category."""
    try:
        summary = coverage(ref)
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    click.echo(f"{summary['mapping']}  {summary['hash']}")
    click.echo(f"  rows {summary['rows']}, attributes {summary['attributes']}")
    for name, count in summary["rows_by_relation"].items():
        click.echo(f"  {name:<22} {count:>4} rows")
    for name, count in summary["attributes_by_source"].items():
        click.echo(f"  {name:<22} {count:>4} attributes")
    for category, keys in summary["mandatory_not_from_national_model"].items():
        click.echo(f"  {category}: {len(keys)} mandatory attributes need the EU supplement "
                   f"or have no counterpart")
        click.echo("    " + ", ".join(keys))


def coverage(ref: str) -> dict[str, Any]:
    """How much of the EU catalog a mapping version covers from national data."""
    from gateway.mapping.loader import load
    from gateway.mapping.model import NO_TERM_FOUND
    from gateway.vocab.catalog import CATEGORIES, load_catalog

    mapping_set = load(ref)
    catalog = load_catalog()
    by_relation = Counter(
        "sssom:NoTermFound" if row.subject_id == NO_TERM_FOUND
        else "eu_supplement" if row.from_supplement else row.predicate_id
        for row in mapping_set.rows
    )
    source_kind: dict[str, str] = {}
    for attribute in catalog.attributes:
        rows = mapping_set.rows_for(attribute.term)
        if any(r.source_path and not r.from_supplement for r in rows):
            exact = any(r.predicate_id == "skos:exactMatch" and r.source_path
                        and not r.from_supplement for r in rows)
            source_kind[attribute.key] = "national (exact)" if exact else "national (close)"
        elif any(r.from_supplement for r in rows):
            source_kind[attribute.key] = "eu_supplement"
        else:
            source_kind[attribute.key] = "no counterpart"
    not_national = {
        category: [
            a.key for a in catalog.attributes
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
