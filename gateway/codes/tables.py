"""Letter tables of the GB/T 34014 decoder, read from versioned data files.

The letters the standard's public excerpts leave uncertain (battery types other than
B/E/Z, year and day letters after H) live in CSV files under ``tables/gbt34014/`` with a
confidence column, so a standards team can add or correct a letter without touching
code. ``metadata.json`` beside them carries the table-set version and the wording used
when a decode reports an ambiguity.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from gateway.errors import ConfigError

TABLES_DIR = Path(__file__).resolve().parent / "tables" / "gbt34014"

TABLE_NAMES = ("product_type", "battery_type", "year", "month", "day")
COLUMNS = ["letter", "value", "name_en", "name_zh", "confidence"]
CONFIDENCES = ("S", "P", "U")
_LETTER = re.compile(r"[A-Z0-9]")
# Tables whose value is a number; the bounds keep a typo from producing impossible dates.
_NUMERIC = {"year": (1900, 2999), "month": (1, 12), "day": (1, 31)}


@dataclass(frozen=True)
class TableRow:
    """One letter of a code table."""

    letter: str
    value: str | int
    name_en: str
    name_zh: str
    confidence: str

    @property
    def solid(self) -> bool:
        """True when the letter's meaning is confirmed (confidence ``S``)."""
        return self.confidence == "S"


@dataclass(frozen=True)
class CodeTables:
    """The set of letter tables one decode uses.

    :param version: version of the table set (``metadata.json``).
    :param tables: table name -> letter -> row.
    :param ambiguity_notes: table name (or ``echelon_suffix``) -> wording of the ambiguity.
    :param name_qualifiers: confidence -> suffix appended to a decoded name.
    """

    version: str
    tables: Mapping[str, Mapping[str, TableRow]]
    ambiguity_notes: Mapping[str, str]
    name_qualifiers: Mapping[str, str]

    def letters(self, table: str) -> str:
        """All letters a table accepts, as one string (for messages)."""
        return "".join(self.tables[table])

    def lookup(self, table: str, letter: str) -> TableRow | None:
        """The row for ``letter`` in ``table``, or None when the table lacks it."""
        return self.tables[table].get(letter)

    def qualified_name(self, row: TableRow) -> str:
        """The English name with a qualifier saying how sure the table is of it."""
        return f"{row.name_en}{self.name_qualifiers.get(row.confidence, '')}"


def _read_table(path: Path, name: str) -> dict[str, TableRow]:
    rows: dict[str, TableRow] = {}
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames != COLUMNS:
                raise ConfigError(
                    f"{path.name}: header must be {','.join(COLUMNS)}, got {reader.fieldnames}"
                )
            for line, record in enumerate(reader, start=2):
                rows_key = record["letter"]
                if not _LETTER.fullmatch(rows_key or ""):
                    raise ConfigError(f"{path.name} row {line}: letter must be one of A-Z, 0-9")
                if rows_key in rows:
                    raise ConfigError(f"{path.name} row {line}: letter {rows_key!r} repeated")
                if record["confidence"] not in CONFIDENCES:
                    raise ConfigError(f"{path.name} row {line}: confidence must be S, P or U")
                text: str = record["value"]
                value: str | int = text
                if name in _NUMERIC:
                    low, high = _NUMERIC[name]
                    if not text.isdigit() or not low <= int(text) <= high:
                        raise ConfigError(
                            f"{path.name} row {line}: value must be an integer {low}-{high}"
                        )
                    value = int(text)
                elif not text:
                    raise ConfigError(f"{path.name} row {line}: value is empty")
                rows[rows_key] = TableRow(
                    rows_key, value, record["name_en"], record["name_zh"], record["confidence"]
                )
    except FileNotFoundError as exc:
        raise ConfigError(f"code table {path.name} missing from {path.parent.name}/") from exc
    if not rows:
        raise ConfigError(f"{path.name}: table is empty")
    return rows


def load_tables(directory: Path | None = None) -> CodeTables:
    """Read a table set from ``directory`` (default: the tables shipped with the gateway).

    :param directory: folder holding ``metadata.json`` and one CSV per table.
    :returns: the tables, immutable.
    :raises ConfigError: a file is missing or a row breaks the table format.
    """
    if directory is None:
        return _default_tables()
    return _load(Path(directory))


@lru_cache(maxsize=1)
def _default_tables() -> CodeTables:
    return _load(TABLES_DIR)


def _load(directory: Path) -> CodeTables:
    try:
        meta = json.loads((directory / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{directory.name}/metadata.json unreadable: {exc}") from exc
    tables = {
        name: MappingProxyType(_read_table(directory / f"{name}.csv", name)) for name in TABLE_NAMES
    }
    notes = {name: spec.get("ambiguity", "") for name, spec in meta.get("tables", {}).items()}
    notes["echelon_suffix"] = meta.get("echelon_suffix", {}).get("ambiguity", "")
    return CodeTables(
        version=str(meta.get("version", "")),
        tables=MappingProxyType(tables),
        ambiguity_notes=MappingProxyType(notes),
        name_qualifiers=MappingProxyType(dict(meta.get("name_qualifiers", {}))),
    )
