"""What changed between two versions of a mapping table."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from gateway.mapping.model import MappingRow, MappingSet, canonical_json

# Fields whose change alters the values a passport gets: a breaking change.
VALUE_FIELDS = ("subject_id", "transform", "params")
# A change of relation re-classifies a value (filled <-> partial) without changing it.
RELATION_FIELDS = ("predicate_id",)
TEXT_FIELDS = (
    "subject_label",
    "subject_label_zh",
    "object_label",
    "comment",
    "mapping_justification",
    "author_id",
    "reviewer_id",
)


@dataclass(frozen=True)
class RowChange:
    before: MappingRow
    after: MappingRow
    fields: tuple[str, ...]


@dataclass(frozen=True)
class MappingDiff:
    base: str
    head: str
    added: tuple[MappingRow, ...] = ()
    removed: tuple[MappingRow, ...] = ()
    changed: tuple[RowChange, ...] = field(default_factory=tuple)

    @property
    def bump(self) -> str:
        """The semver part this diff requires: ``major``, ``minor``, ``patch`` or ``none``.

        Removing a row or changing what a row reads or computes changes passports
        already issued if they were re-issued: major. A new row, or a changed relation
        (which only moves an attribute between ``filled`` and ``partial``): minor.
        Labels, comments and provenance only: patch.
        """
        if self.removed or any(set(c.fields) & set(VALUE_FIELDS) for c in self.changed):
            return "major"
        if self.added or any(set(c.fields) & set(RELATION_FIELDS) for c in self.changed):
            return "minor"
        return "patch" if self.changed else "none"

    def as_dict(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "head": self.head,
            "bump": self.bump,
            "added": [_row(r) for r in self.added],
            "removed": [_row(r) for r in self.removed],
            "changed": [
                {
                    "attribute": c.after.attribute_term,
                    "label": c.after.object_label,
                    "subject_label": c.after.subject_label,
                    "subject_label_zh": c.after.subject_label_zh,
                    "rows": [c.before.number, c.after.number],
                    "fields": {f: [_value(c.before, f), _value(c.after, f)] for f in c.fields},
                }
                for c in self.changed
            ],
        }


def diff(base: MappingSet, head: MappingSet) -> MappingDiff:
    """Rows added, removed and changed from ``base`` to ``head``.

    Rows are paired per EU attribute: first those reading the same source with the same
    selection and transform (a new row that reads a source another row reads differently
    is added, not a change of that row); the rows left over for an attribute are paired
    in order, so a row whose source or transform changed shows as changed, not as
    removed and added.
    """

    def key(row: MappingRow) -> tuple[str, str, str, str]:
        return (
            row.object_id,
            row.subject_id,
            canonical_json(row.params.get("where")),
            row.transform or "",
        )

    head_rows = list(head.rows)
    by_key: dict[tuple[str, str, str, str], list[MappingRow]] = defaultdict(list)
    for row in head_rows:
        by_key[key(row)].append(row)
    pairs: list[tuple[MappingRow, MappingRow]] = []
    left_base: dict[str, list[MappingRow]] = defaultdict(list)
    for row in base.rows:
        candidates = by_key.get(key(row))
        if candidates:
            pairs.append((row, candidates.pop(0)))
        else:
            left_base[row.object_id].append(row)
    left_head: dict[str, list[MappingRow]] = defaultdict(list)
    for rows in by_key.values():
        for row in rows:
            left_head[row.object_id].append(row)
    removed: list[MappingRow] = []
    added: list[MappingRow] = []
    for object_id in set(left_base) | set(left_head):
        old = sorted(left_base.get(object_id, []), key=lambda r: r.number)
        new = sorted(left_head.get(object_id, []), key=lambda r: r.number)
        pairs.extend(zip(old, new, strict=False))
        removed.extend(old[len(new) :])
        added.extend(new[len(old) :])
    changed = []
    for before, after in sorted(pairs, key=lambda p: p[1].number):
        fields = tuple(
            f
            for f in VALUE_FIELDS + RELATION_FIELDS + TEXT_FIELDS
            if _value(before, f) != _value(after, f)
        )
        if fields:
            changed.append(RowChange(before, after, fields))
    return MappingDiff(
        base=base.ref,
        head=head.ref,
        added=tuple(sorted(added, key=lambda r: r.number)),
        removed=tuple(sorted(removed, key=lambda r: r.number)),
        changed=tuple(changed),
    )


def next_version(version: str, bump: str) -> str:
    """The semver that follows ``version`` for a ``bump`` of ``major``/``minor``/``patch``."""
    major, minor, patch = (int(p) for p in version.split("."))
    if bump == "major":
        return f"{major + 1}.0.0"
    if bump == "minor":
        return f"{major}.{minor + 1}.0"
    if bump == "patch":
        return f"{major}.{minor}.{patch + 1}"
    return version


def _value(row: MappingRow, name: str) -> Any:
    return dict(row.params) if name == "params" else getattr(row, name)


def _row(row: MappingRow) -> dict[str, Any]:
    return {
        "row": row.number,
        "attribute": row.attribute_term,
        "label": row.object_label,
        "subject_id": row.subject_id,
        "subject_label": row.subject_label,
        "subject_label_zh": row.subject_label_zh,
        "predicate_id": row.predicate_id,
        "transform": row.transform,
        "params": dict(row.params),
    }


def diff_table(result: MappingDiff) -> str:
    """The diff as a readable table (English and Chinese labels of the national field)."""
    lines = [f"{result.base} -> {result.head}: {result.bump} change"]
    for row in result.added:
        lines.append(
            f"  + row {row.number:>3}  {row.attribute_term:<34} <- {row.subject_id} "
            f"({row.subject_label} / {row.subject_label_zh}) {row.predicate_id}"
        )
    for row in result.removed:
        lines.append(
            f"  - row {row.number:>3}  {row.attribute_term:<34} <- {row.subject_id} "
            f"({row.subject_label} / {row.subject_label_zh})"
        )
    for change in result.changed:
        after = change.after
        lines.append(
            f"  ~ row {after.number:>3}  {after.attribute_term:<34} "
            f"({after.subject_label} / {after.subject_label_zh})"
        )
        for name in change.fields:
            lines.append(
                f"      {name}: {_value(change.before, name)!r} -> {_value(change.after, name)!r}"
            )
    if len(lines) == 1:
        lines.append("  no differences")
    return "\n".join(lines)
