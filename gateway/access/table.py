"""The access table: which audience reads which Annex XIII points, on what legal basis,
and which callers' roles reach which audience.

Regulation (EU) 2023/1542 Art. 77(2) gives each point its own audience, and the
audiences are not nested: point 1 is public; points 2 and 3 are for notified bodies,
market surveillance authorities and the Commission; points 2 and 4 for persons with a
legitimate interest. Who has a legitimate interest is for an implementing act to say
(Art. 77(9)), not adopted yet, so the table is data: a CSV shipped with the gateway
(``tables/NAME-VERSION.csv``, the letter of Art. 77(2)) and newer versions an admin
stores in the database (``gateway.services.access``).

Columns: ``audience``, ``points`` (``"1 2 3"``), ``roles`` (the callers that reach the
audience: ``anonymous`` or a key role) and ``legal_basis``. Four rules hold for every
version, whatever else changes:

- the four audiences are all there, each once, and every one reads point 1;
- ``public`` reads exactly point 1 and ``issuer`` all four;
- every caller (``anonymous`` and each role) reaches exactly one audience, and
  ``anonymous`` reaches ``public``;
- nobody reaches ``legitimate_interest`` by role: it is granted, never assumed
  (``gateway.store.grants``).

The exporter that issued a passport is always its ``issuer``: that is not a role but
ownership, and no table takes it away.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from gateway import annex_xiii, auth
from gateway.annex_xiii import Point
from gateway.errors import ConfigError, InvalidInput

PUBLIC = "public"
AUTHORITY = "authority"
LEGITIMATE_INTEREST = "legitimate_interest"
ISSUER = "issuer"
#: Every audience, widest first.
AUDIENCES: tuple[str, ...] = (PUBLIC, AUTHORITY, LEGITIMATE_INTEREST, ISSUER)
#: The caller without a key, in the ``roles`` column.
ANONYMOUS = "anonymous"
#: Every caller the ``roles`` column names.
CALLERS: tuple[str, ...] = (ANONYMOUS, *auth.ROLES)
COLUMNS = ("audience", "points", "roles", "legal_basis")

TABLES_DIR = Path(__file__).resolve().parent / "tables"
DEFAULT_TABLE = "art77-2@1.0.0"
#: Longest table text read: four rows of a few hundred characters each.
MAX_TABLE_BYTES = 16 * 1024
MAX_LEGAL_BASIS = 1000
_NAME = re.compile(r"[a-z0-9](?:-?[a-z0-9]){0,63}")
_VERSION = re.compile(r"(?:0|[1-9][0-9]{0,8})\.(?:0|[1-9][0-9]{0,8})\.(?:0|[1-9][0-9]{0,8})")


@dataclass(frozen=True)
class Audience:
    """One row of the table.

    :ivar name: one of :data:`AUDIENCES`.
    :ivar points: the Annex XIII points it reads.
    :ivar roles: the callers (:data:`CALLERS`) that reach it.
    :ivar legal_basis: why, in words.
    """

    name: str
    points: frozenset[Point]
    roles: frozenset[str]
    legal_basis: str

    def as_json(self) -> dict[str, Any]:
        return {
            "audience": self.name,
            "points": sorted(self.points),
            "roles": [r for r in CALLERS if r in self.roles],
            "legalBasis": self.legal_basis,
        }


@dataclass(frozen=True)
class AccessTable:
    """A checked access table (see :func:`build`)."""

    name: str
    version: str
    audiences: Mapping[str, Audience]

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def points(self, audience: str) -> frozenset[Point]:
        """The points an audience reads."""
        return self.audiences[audience].points

    def audience_of(self, role: str | None) -> str:
        """The audience a caller's role reaches (``None``: no key)."""
        caller = ANONYMOUS if role is None else role
        for audience in self.audiences.values():
            if caller in audience.roles:
                return audience.name
        return PUBLIC  # unreachable for a checked table; the safe answer anyway

    def csv_text(self) -> str:
        """The table as CSV, one row per audience in :data:`AUDIENCES` order: the form
        it is stored and hashed in."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for name in AUDIENCES:
            row = self.audiences[name]
            writer.writerow(
                (
                    name,
                    annex_xiii.format_points(row.points),
                    " ".join(r for r in CALLERS if r in row.roles),
                    row.legal_basis,
                )
            )
        return out.getvalue()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.csv_text().encode("utf-8")).hexdigest()

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "ref": self.ref,
            "sha256": self.sha256,
            "audiences": [self.audiences[name].as_json() for name in AUDIENCES],
        }


def check_name(name: object, pointer: str = "/name") -> str:
    """A table name: a lowercase slug of at most 64 characters.

    :raises InvalidInput: anything else.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInput(
            "an access table name is lowercase letters, digits and single hyphens, at most "
            "64 characters (e.g. art77-2)",
            pointer=pointer,
        )
    return name


def check_version(version: object, pointer: str = "/version") -> str:
    """A table version: ``MAJOR.MINOR.PATCH``.

    :raises InvalidInput: anything else.
    """
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        raise InvalidInput(
            "an access table version is MAJOR.MINOR.PATCH without leading zeros (e.g. 1.1.0)",
            pointer=pointer,
        )
    return version


def _points(value: object, pointer: str) -> frozenset[Point]:
    if isinstance(value, str):
        try:
            return annex_xiii.parse_points(value)
        except ValueError as exc:
            raise InvalidInput(str(exc), pointer=pointer) from None
    if isinstance(value, list) and value and all(annex_xiii.is_point(p) for p in value):
        return frozenset(p for p in value if annex_xiii.is_point(p))
    raise InvalidInput("points are Annex XIII points 1, 2, 3 or 4, at least one", pointer=pointer)


def _roles(value: object, pointer: str) -> frozenset[str]:
    items = value.split() if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(r, str) for r in items):
        raise InvalidInput("roles are a list of caller names", pointer=pointer)
    unknown = [r for r in items if r not in CALLERS]
    if unknown:
        raise InvalidInput(
            f"{unknown[0]!r} is not a caller; roles name {', '.join(CALLERS)}", pointer=pointer
        )
    return frozenset(items)


def build(name: object, version: object, rows: Iterable[Mapping[str, object]]) -> AccessTable:
    """Check rows (``audience``, ``points``, ``roles``, ``legal_basis`` or
    ``legalBasis``) and make them a table.

    :raises InvalidInput: naming the row and field that breaks a rule of the module
        docstring.
    """
    audiences: dict[str, Audience] = {}
    for i, row in enumerate(rows):
        at = f"/audiences/{i}"
        audience = row.get("audience")
        if audience not in AUDIENCES or not isinstance(audience, str):
            raise InvalidInput(
                f"audience must be one of {', '.join(AUDIENCES)}", pointer=f"{at}/audience"
            )
        if audience in audiences:
            raise InvalidInput(f"audience {audience} is given twice", pointer=f"{at}/audience")
        basis = row.get("legal_basis", row.get("legalBasis"))
        if not isinstance(basis, str) or not basis.strip() or len(basis) > MAX_LEGAL_BASIS:
            raise InvalidInput(
                f"each audience states its legal basis (1-{MAX_LEGAL_BASIS} characters)",
                pointer=f"{at}/legalBasis",
            )
        audiences[audience] = Audience(
            audience,
            _points(row.get("points"), f"{at}/points"),
            _roles(row.get("roles", []), f"{at}/roles"),
            basis.strip(),
        )
    missing = [a for a in AUDIENCES if a not in audiences]
    if missing:
        raise InvalidInput(f"audience {missing[0]} is missing", pointer="/audiences")
    _check_rules(audiences)
    return AccessTable(
        check_name(name), check_version(version), {a: audiences[a] for a in AUDIENCES}
    )


def _check_rules(audiences: Mapping[str, Audience]) -> None:
    at = {name: f"/audiences/{i}" for i, name in enumerate(audiences)}
    for row in audiences.values():
        if annex_xiii.PUBLIC_POINT not in row.points:
            raise InvalidInput(
                f"audience {row.name} must read point 1: it is public",
                pointer=f"{at[row.name]}/points",
            )
    if audiences[PUBLIC].points != {annex_xiii.PUBLIC_POINT}:
        raise InvalidInput("audience public reads exactly point 1", pointer=f"{at[PUBLIC]}/points")
    if audiences[ISSUER].points != frozenset(annex_xiii.POINTS):
        raise InvalidInput("audience issuer reads all four points", pointer=f"{at[ISSUER]}/points")
    if audiences[LEGITIMATE_INTEREST].roles:
        raise InvalidInput(
            "no role reaches legitimate_interest: it is granted, never assumed",
            pointer=f"{at[LEGITIMATE_INTEREST]}/roles",
        )
    if ANONYMOUS not in audiences[PUBLIC].roles:
        raise InvalidInput(
            "anonymous callers reach the public audience", pointer=f"{at[PUBLIC]}/roles"
        )
    for caller in CALLERS:
        reached = [row.name for row in audiences.values() if caller in row.roles]
        if len(reached) != 1:
            raise InvalidInput(
                f"caller {caller} must reach exactly one audience, not "
                f"{len(reached)} ({', '.join(reached) or 'none'})",
                pointer="/audiences",
            )


def parse_csv(text: str, name: str, version: str) -> AccessTable:
    """Read a table from its CSV text (the columns :data:`COLUMNS`).

    :raises InvalidInput: too long, wrong header, or a rule broken (``line N`` named).
    """
    if len(text.encode("utf-8")) > MAX_TABLE_BYTES:
        raise InvalidInput(f"an access table is at most {MAX_TABLE_BYTES} bytes", pointer="table")
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != COLUMNS:
            raise InvalidInput(f"the header must be {','.join(COLUMNS)}", pointer="line 1")
        rows = [dict(zip(COLUMNS, cells, strict=False)) for cells in reader if any(cells)]
    except csv.Error as exc:
        raise InvalidInput(f"not CSV: {exc}", pointer="table") from None
    if len(rows) > len(AUDIENCES):
        raise InvalidInput(f"an access table has {len(AUDIENCES)} rows", pointer="table")
    try:
        return build(name, version, rows)
    except InvalidInput as exc:
        line = _line_of(exc.pointer)
        detail = f"{line}: {exc.detail}" if line else exc.detail
        raise InvalidInput(detail, pointer=line or "table") from None


def _line_of(pointer: str | None) -> str | None:
    match = re.fullmatch(r"/audiences/(\d+)(?:/.*)?", pointer or "")
    return f"line {int(match.group(1)) + 2}" if match else None


def load_shipped(ref: str = DEFAULT_TABLE) -> AccessTable:
    """A table shipped as ``tables/NAME-VERSION.csv``.

    :raises ConfigError: no such file, or it breaks the rules (a broken install).
    """
    return _load(ref)


@cache
def _load(ref: str) -> AccessTable:
    name, _, version = ref.partition("@")
    path = TABLES_DIR / f"{name}-{version}.csv"
    if not version or not path.is_file():
        raise ConfigError(f"no access table {ref!r} is shipped")
    try:
        return parse_csv(path.read_text(encoding="utf-8"), name, version)
    except InvalidInput as exc:
        raise ConfigError(f"shipped access table {path.name} is invalid: {exc}") from None
