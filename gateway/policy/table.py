"""The cross-border data policy table and how it is applied to a record.

Each national field (a record path; the longest matching path wins) is classified:

- ``export``: may leave China as it is;
- ``aggregate_only``: may leave only as per-battery aggregates keyed by battery code
  (the usage summary, telemetry aggregates), never as raw frames or time series;
- ``withhold``: never leaves; the field is removed before mapping and any EU attribute
  read from it shows as ``withheld`` in the gap report.

This is a configuration a company's counsel must review, not legal advice; a tenant may
make it stricter, never looser.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from gateway.errors import PolicyError

CLASSES = ("export", "aggregate_only", "withhold")
_STRICTNESS = {name: rank for rank, name in enumerate(CLASSES)}
TABLES_DIR = Path(__file__).resolve().parent / "tables"
DEFAULT_POLICY = "cn-export@1.0.0"


@dataclass(frozen=True)
class Rule:
    path: str
    cls: str
    legal_basis: str
    note: str = ""


@dataclass(frozen=True)
class Policy:
    """A versioned classification of record paths."""

    name: str
    version: str
    rules: Mapping[str, Rule] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def rule_for(self, path: str) -> Rule | None:
        """The rule of the longest classified prefix of ``path``."""
        parts = path.split(".")
        for end in range(len(parts), 0, -1):
            rule = self.rules.get(".".join(parts[:end]))
            if rule:
                return rule
        return None

    def classifies_members(self, path: str) -> bool:
        """Whether ``path`` has no rule of its own or above it, but paths below it have:
        such an object is opened and each member judged by its own rule (an
        unclassified member is still withheld)."""
        if self.rule_for(path) is not None:
            return False
        return any(rule.startswith(path + ".") for rule in self.rules)

    def classify(self, path: str) -> str:
        """Unclassified fields are withheld: only what the table allows leaves."""
        rule = self.rule_for(path)
        return rule.cls if rule else "withhold"

    def stricter(self, overrides: Mapping[str, str], *, name: str) -> Policy:
        """A tenant's policy: this one with some paths made stricter.

        :raises PolicyError: an override is not a class, or would loosen a rule.
        """
        rules = dict(self.rules)
        for path, cls in overrides.items():
            if cls not in CLASSES:
                raise PolicyError(
                    f"{path}: class {cls!r} is not one of {', '.join(CLASSES)}", pointer=path
                )
            current = self.classify(path)
            if _STRICTNESS[cls] < _STRICTNESS[current]:
                raise PolicyError(
                    f"{path}: a tenant may make the policy stricter, not looser "
                    f"({current} -> {cls})",
                    pointer=path,
                )
            rules[path] = Rule(path, cls, f"stricter than {self.ref} by tenant policy {name}")
        return Policy(name=name, version=self.version, rules=rules)


@dataclass(frozen=True)
class Decision:
    """What the policy did to one record; stored and audited with the passport."""

    policy: str
    withheld: tuple[str, ...]
    aggregated: tuple[str, ...]
    withheld_paths: Mapping[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "withheld": list(self.withheld),
            "aggregated": list(self.aggregated),
        }


def load_policy(ref: str = DEFAULT_POLICY, tables_dir: Path = TABLES_DIR) -> Policy:
    """Read a policy table ``NAME@VERSION`` shipped as ``tables/NAME-VERSION.csv``.

    :raises PolicyError: unknown policy, or a row with an unknown class.
    """
    return _load(ref, tables_dir)


@cache
def _load(ref: str, tables_dir: Path) -> Policy:
    name, _, version = ref.partition("@")
    path = tables_dir / f"{name}-{version}.csv"
    if not version or not path.is_file():
        known = sorted(p.stem for p in tables_dir.glob("*.csv"))
        raise PolicyError(f"no policy {ref!r}; shipped: {', '.join(known)}", pointer="policy")
    rules: dict[str, Rule] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for number, row in enumerate(csv.DictReader(fh), start=2):
            if row["class"] not in CLASSES:
                raise PolicyError(
                    f"{path.name} line {number}: class {row['class']!r} is not "
                    f"one of {', '.join(CLASSES)}"
                )
            rules[row["path"]] = Rule(
                row["path"], row["class"], row["legal_basis"], row.get("note") or ""
            )
    return Policy(name=name, version=version, rules=rules)


def apply_policy(record: Mapping[str, Any], policy: Policy) -> tuple[dict[str, Any], Decision]:
    """Remove what must stay in China from a validated record.

    :returns: the record that may be mapped, and the decision: which fields present in
        the record were withheld, which aggregate-only fields were used, and a
        ``{path: reason}`` map for every withheld path (for the gap report).
    """
    withheld: list[str] = []
    aggregated: list[str] = []

    def walk(node: Any, prefix: str) -> Any:
        if isinstance(node, list):
            return [walk(item, prefix) for item in node]
        if not isinstance(node, Mapping):
            return node
        out = {}
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else key
            cls = policy.classify(path)
            if cls == "withhold" and not (
                isinstance(value, dict) and policy.classifies_members(path)
            ):
                if path not in withheld:
                    withheld.append(path)
                continue
            if cls == "aggregate_only" and path not in aggregated and not isinstance(value, dict):
                aggregated.append(path)
            out[key] = walk(value, path)
        return out

    # walk() builds new containers all the way down, so the input is never changed.
    kept = walk(record, "")
    reasons = {
        path: f"withheld by {policy.ref}: {rule.legal_basis}"
        for path, rule in policy.rules.items()
        if rule.cls == "withhold"
    }
    for path in withheld:
        reasons.setdefault(path, f"withheld by {policy.ref}: not classified for export")
    return kept, Decision(policy.ref, tuple(withheld), tuple(aggregated), reasons)
