"""National platform fields declared as data: the table behind a record's
``platform_fields`` block.

China's traceability platform publishes no list of its data items (Annex 3 of the 2018
Interim Provisions is not public) and the 2026 Measures add new ones (the digital ID
keyed on the battery code). Rather than a schema change per item, the items beyond the
``cn-trace/1`` core live in a versioned CSV table, ``tables/platform-fields/``, read
here: one row per field with its name, value kind, labels, source and confidence.
Adding a row declares a field; the record schema, the XML reader, the source paths of
the mapping tables and the docs all follow the table.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from gateway.errors import ConfigError
from gateway.jsonvalues import VALUE_KINDS

TABLE_DIR = Path(__file__).resolve().parent / "tables" / "platform-fields"
TABLE_FILE = "platform-fields.csv"
METADATA_FILE = "metadata.json"
COLUMNS = [
    "name",
    "kind",
    "label_en",
    "label_zh",
    "description",
    "source",
    "confidence",
    "added_in",
]
#: ``S`` solid; ``P`` and ``U`` provisional (see ``metadata.json``).
CONFIDENCES = ("S", "P", "U")
#: snake_case, so that a field reads the same as a JSON member, an XML attribute value
#: and a step of a dotted source path.
NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
MAX_NAME_LENGTH = 64
_SEMVER = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")


@dataclass(frozen=True)
class PlatformField:
    """One declared national platform field.

    :ivar kind: one of :data:`gateway.jsonvalues.VALUE_KINDS`.
    :ivar source: the instrument or standard the item comes from.
    :ivar confidence: ``S``, ``P`` or ``U``.
    :ivar added_in: the table version that declared the field.
    """

    name: str
    kind: str
    label_en: str
    label_zh: str
    description: str
    source: str
    confidence: str
    added_in: str

    @property
    def provisional(self) -> bool:
        """True when the name or form is the gateway's own, not the official text's."""
        return self.confidence != "S"


@dataclass(frozen=True)
class PlatformFieldTable:
    """A version of the platform field table.

    :ivar version: the table version (``metadata.json``, semver).
    :ivar fields: the declared fields, in table order.
    """

    version: str
    fields: tuple[PlatformField, ...]
    by_name: Mapping[str, PlatformField] = field(init=False, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        # Derived once; frozen dataclasses set derived members through object.__setattr__.
        object.__setattr__(self, "by_name", MappingProxyType({f.name: f for f in self.fields}))

    @property
    def kinds(self) -> Mapping[str, str]:
        """Value kind by field name."""
        return {f.name: f.kind for f in self.fields}


def _semver(text: str) -> tuple[int, ...] | None:
    match = _SEMVER.fullmatch(text)
    return tuple(int(part) for part in match.groups()) if match else None


def _read_rows(path: Path, version: str) -> tuple[PlatformField, ...]:
    where = f"{path.parent.name}/{path.name}"
    rows: list[PlatformField] = []
    seen: set[str] = set()
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames != COLUMNS:
                raise ConfigError(
                    f"{where}: header must be {','.join(COLUMNS)}, got {reader.fieldnames}"
                )
            for line, cells in enumerate(reader, start=2):
                if None in cells or any(v is None for v in cells.values()):
                    raise ConfigError(f"{where} row {line}: expected {len(COLUMNS)} cells")
                cells = {k: v.strip() for k, v in cells.items()}
                name = cells["name"]
                if len(name) > MAX_NAME_LENGTH or not NAME_PATTERN.fullmatch(name):
                    raise ConfigError(
                        f"{where} row {line}: name {name!r} is not snake_case "
                        f"(a-z, 0-9 and single underscores, at most {MAX_NAME_LENGTH} characters)"
                    )
                if name in seen:
                    raise ConfigError(f"{where} row {line}: name {name!r} is declared twice")
                seen.add(name)
                if cells["kind"] not in VALUE_KINDS:
                    raise ConfigError(
                        f"{where} row {line}: kind {cells['kind']!r} is not one of "
                        + ", ".join(VALUE_KINDS)
                    )
                if cells["confidence"] not in CONFIDENCES:
                    raise ConfigError(f"{where} row {line}: confidence must be S, P or U")
                for column in ("label_en", "label_zh", "source"):
                    if not cells[column]:
                        raise ConfigError(f"{where} row {line}: {column} is empty")
                added = _semver(cells["added_in"])
                if added is None or added > (_semver(version) or ()):
                    raise ConfigError(
                        f"{where} row {line}: added_in {cells['added_in']!r} must be a "
                        f"version (X.Y.Z) no later than the table version {version}"
                    )
                rows.append(PlatformField(**cells))
    except FileNotFoundError as exc:
        raise ConfigError(f"platform field table {where} is missing") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where}: not UTF-8 (byte {exc.start})") from exc
    return tuple(rows)


def load_platform_fields(directory: Path | str | None = None) -> PlatformFieldTable:
    """Read a platform field table (``platform-fields.csv`` and ``metadata.json``).

    :param directory: the folder holding the two files; default: the table shipped with
        the gateway (``gateway/records/tables/platform-fields/``).
    :returns: the table, immutable; read once per folder.
    :raises ConfigError: a file is missing, or a row breaks the table format (the message
        names the file and row).
    """
    return _load(Path(directory).resolve() if directory is not None else TABLE_DIR)


@lru_cache(maxsize=16)
def _load(directory: Path) -> PlatformFieldTable:
    where = f"{directory.name}/{METADATA_FILE}"
    try:
        meta = json.loads((directory / METADATA_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{where} unreadable: {exc}") from exc
    version = str(meta.get("version", "")) if isinstance(meta, dict) else ""
    if _semver(version) is None:
        raise ConfigError(f"{where}: version {version!r} is not X.Y.Z")
    return PlatformFieldTable(version, _read_rows(directory / TABLE_FILE, version))
