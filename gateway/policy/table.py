"""The cross-border data policy table and how it is applied to a record.

Each national field (a record path; the longest matching path wins) is classified, from
the loosest class to the strictest:

- ``export``: may leave China as it is;
- ``aggregate_only``: may leave only as a per-battery aggregate the gateway computed
  (:mod:`gateway.policy.aggregates`): a list of per-event values is replaced by counts
  per type and level over a period at month precision, never passed on;
- ``approval_required``: battery health and diagnostic data derived from the BMS, in one
  of the data categories of :mod:`gateway.policy.categories` (the ``category`` column);
  withheld unless an export approval in force covers its category, and then it leaves
  as ``aggregate_only`` data does;
- ``withhold``: never leaves; the field is removed before mapping and any EU attribute
  read from it shows as ``withheld`` in the gap report.

This is a configuration a company's counsel must review, not legal advice; a tenant may
make it stricter (:meth:`Policy.stricter`), never looser.
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from gateway.errors import PolicyError
from gateway.policy import aggregates
from gateway.policy.categories import CATEGORIES, is_category

EXPORT = "export"
AGGREGATE_ONLY = "aggregate_only"
APPROVAL_REQUIRED = "approval_required"
WITHHOLD = "withhold"
#: The classes, loosest first: a tenant may move a path only towards the end.
CLASSES = (EXPORT, AGGREGATE_ONLY, APPROVAL_REQUIRED, WITHHOLD)
_STRICTNESS = {name: rank for rank, name in enumerate(CLASSES)}
TABLES_DIR = Path(__file__).resolve().parent / "tables"
DEFAULT_POLICY = "cn-export@1.2.0"
#: The gap report's reason for BMS health data that no approval in force released.
APPROVAL_REASON = "export of BMS health data needs an approval"
#: Sets of approved categories whose withheld paths a policy keeps worked out.
_WITHHOLDING_KEPT = 64
#: Paths whose rule a policy keeps worked out.
_RULES_KEPT = 4096


@dataclass(frozen=True)
class Rule:
    path: str
    cls: str
    legal_basis: str
    note: str = ""
    #: The data category of BMS-derived data (``approval_required`` rows need one).
    category: str = ""


def stricter_class(a: str, b: str) -> str:
    """The stricter of two classes."""
    return a if _STRICTNESS[a] >= _STRICTNESS[b] else b


@dataclass(frozen=True)
class Policy:
    """A versioned classification of record paths, possibly tightened by a tenant.

    :ivar tightened_by: who made the shipped table stricter (``tenant:NAME@VERSION``),
        empty for the table as shipped.
    :ivar overrides: the tightening, ``{path: class}``.
    """

    name: str
    version: str
    rules: Mapping[str, Rule] = field(default_factory=dict)
    tightened_by: str = ""
    overrides: Mapping[str, str] = field(default_factory=dict)

    @property
    def table(self) -> str:
        """The shipped table this policy is, or tightens: ``NAME@VERSION``."""
        return f"{self.name}@{self.version}"

    @property
    def ref(self) -> str:
        """The policy applied: the table, and the tenant's tightening if any
        (``cn-export@1.1.0+tenant:acme@3``)."""
        return f"{self.table}+{self.tightened_by}" if self.tightened_by else self.table

    def rule_for(self, path: str) -> Rule | None:
        """The rule of the longest classified prefix of ``path``."""
        known = self._rule_of
        if path in known:
            return known[path]
        parts = path.split(".")
        found = None
        for end in range(len(parts), 0, -1):
            rule = self.rules.get(".".join(parts[:end]))
            if rule:
                found = rule
                break
        # Every record asks for the same few dozen paths; a record's own keys beyond
        # the bound are judged afresh each time.
        if len(known) < _RULES_KEPT:
            known[path] = found
        return found

    @cached_property
    def _rule_of(self) -> dict[str, Rule | None]:
        return {}

    def classifies_members(self, path: str) -> bool:
        """Whether ``path`` has no rule of its own or above it, but paths below it have:
        such an object is opened and each member judged by its own rule (an
        unclassified member is still withheld)."""
        if self.rule_for(path) is not None:
            return False
        return any(rule.startswith(path + ".") for rule in self.rules)

    @cached_property
    def opened(self) -> frozenset[str]:
        """The paths whose members the policy may treat apart: every object above a
        classified path or an aggregated series. Below any other path a field shares its
        parent's class, so an exported value there leaves as it is, unopened."""
        paths: set[str] = set()
        for path in (*self.rules, *aggregates.SERIES):
            parts = path.split(".")
            paths.update(".".join(parts[:end]) for end in range(1, len(parts)))
        return frozenset(paths)

    def withholding(self, approved: frozenset[str]) -> Mapping[str, str]:
        """``{path: reason}`` for every classified path the policy keeps in China when
        the export approvals in force cover the data categories ``approved``; the same
        for every record, so worked out once per set of categories."""
        cache = self._withholding
        reasons = cache.get(approved)
        if reasons is None:
            reasons = {}
            for path, rule in self.rules.items():
                cls, reason = _effective(self, rule, approved)
                if cls == WITHHOLD and reason is not None:
                    reasons[path] = reason
            if len(cache) < _WITHHOLDING_KEPT:
                cache[approved] = reasons
        return reasons

    @cached_property
    def _withholding(self) -> dict[frozenset[str], dict[str, str]]:
        return {}

    def classify(self, path: str) -> str:
        """Unclassified fields are withheld: only what the table allows leaves."""
        rule = self.rule_for(path)
        return rule.cls if rule else WITHHOLD

    def stricter(self, overrides: Mapping[str, str], *, name: str) -> Policy:
        """This policy with some paths made stricter: a tenant's policy.

        An override applies to the path and everything below it: a path below that the
        table classifies more loosely is raised to the override's class too. Overrides
        are judged parents first, each against the policy as tightened so far.

        :param overrides: ``{path: class}``.
        :param name: who tightens, for :attr:`ref` and the rules' legal basis
            (``tenant:acme@3``).
        :raises PolicyError: an override is not a class, would loosen a rule, or asks
            for ``approval_required`` on a path with no data category (naming the path).
        """
        rules = dict(self.rules)
        basis = f"stricter than {self.table} by {name}"
        for path in sorted(overrides, key=lambda p: (p.count("."), p)):
            # The policy as tightened so far (a new one: a policy keeps its look-ups).
            current = Policy(self.name, self.version, dict(rules))
            cls = overrides[path]
            if cls not in CLASSES:
                raise PolicyError(
                    f"{path}: class {cls!r} is not one of {', '.join(CLASSES)}", pointer=path
                )
            was = current.classify(path)
            if _STRICTNESS[cls] < _STRICTNESS[was]:
                raise PolicyError(
                    f"{path}: a tenant may make the policy stricter, not looser ({was} -> {cls})",
                    pointer=path,
                )
            rule = current.rule_for(path)
            category = rule.category if rule else ""
            if cls == APPROVAL_REQUIRED and not category:
                raise PolicyError(
                    f"{path}: {APPROVAL_REQUIRED} needs a data category and {path} has none; "
                    f"classify it {WITHHOLD} instead",
                    pointer=path,
                )
            rules[path] = Rule(path, cls, basis, category=category)
            for below, other in list(rules.items()):
                if below.startswith(path + ".") and _STRICTNESS[other.cls] < _STRICTNESS[cls]:
                    rules[below] = Rule(below, cls, basis, category=other.category or category)
        return Policy(self.name, self.version, rules, name, dict(overrides))


@dataclass(frozen=True)
class Decision:
    """What the policy did to one record; stored and audited with the passport.

    :ivar policy: the shipped table applied (``NAME@VERSION``).
    :ivar applied: the policy applied, with the tenant's tightening (:attr:`Policy.ref`).
    :ivar withheld: the paths of the record that stayed in China.
    :ivar aggregated: the paths that left only as aggregates.
    :ivar withheld_paths: ``{path: reason}`` for every path the policy keeps in China,
        present in the record or not (for the gap report).
    :ivar released: ``{path: category}`` of the BMS-derived paths an approval released.
    :ivar overrides: the tenant's tightening, ``{path: class}``.
    """

    policy: str
    withheld: tuple[str, ...]
    aggregated: tuple[str, ...]
    withheld_paths: Mapping[str, str]
    applied: str = ""
    released: Mapping[str, str] = field(default_factory=dict)
    overrides: Mapping[str, str] = field(default_factory=dict)

    def category_of(self, source: str) -> str | None:
        """The category an approval released ``source`` under: the path itself, a path
        above it, or (for a source that reads a whole object) one below it."""
        for path, category in self.released.items():
            if source == path or source.startswith(path + ".") or path.startswith(source + "."):
                return category
        return None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "policy": self.policy,
            "applied": self.applied or self.policy,
            "withheld": list(self.withheld),
            "aggregated": list(self.aggregated),
            "released": dict(self.released),
        }
        if self.overrides:
            out["tenant_rules"] = dict(self.overrides)
        return out


def load_policy(ref: str = DEFAULT_POLICY, tables_dir: Path = TABLES_DIR) -> Policy:
    """Read a policy table ``NAME@VERSION`` shipped as ``tables/NAME-VERSION.csv``.

    :raises PolicyError: unknown policy, or a row with an unknown class or category.
    """
    return _load(ref, tables_dir)


def shipped_policies(tables_dir: Path = TABLES_DIR) -> list[str]:
    """The refs of the shipped tables, ``NAME@VERSION``, sorted."""
    return sorted(
        "@".join(p.stem.rsplit("-", 1)) for p in tables_dir.glob("*.csv") if "-" in p.stem
    )


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
            where = f"{path.name} line {number}"
            if row["class"] not in CLASSES:
                raise PolicyError(
                    f"{where}: class {row['class']!r} is not one of {', '.join(CLASSES)}"
                )
            category = row.get("category") or ""
            if category and not is_category(category):
                raise PolicyError(
                    f"{where}: category {category!r} is not one of {', '.join(CATEGORIES)}"
                )
            if row["class"] == APPROVAL_REQUIRED and not category:
                raise PolicyError(f"{where}: {APPROVAL_REQUIRED} needs a category")
            rules[row["path"]] = Rule(
                row["path"], row["class"], row["legal_basis"], row.get("note") or "", category
            )
    return Policy(name=name, version=version, rules=rules)


def _effective(
    policy: Policy, rule: Rule | None, approved: frozenset[str]
) -> tuple[str, str | None]:
    """The class a rule has under the approvals in force, and why it withholds (if it
    does); a path with no rule is withheld."""
    if rule is None:
        return WITHHOLD, f"withheld by {policy.ref}: not classified for export"
    if rule.cls == APPROVAL_REQUIRED:
        if rule.category in approved:
            return AGGREGATE_ONLY, None
        return WITHHOLD, f"{APPROVAL_REASON} ({rule.category})"
    if rule.cls == WITHHOLD:
        return WITHHOLD, f"withheld by {policy.ref}: {rule.legal_basis}"
    return rule.cls, None


def apply_policy(
    record: Mapping[str, Any], policy: Policy, approved: Collection[str] = ()
) -> tuple[dict[str, Any], Decision]:
    """Remove what must stay in China from a validated record, and replace what may
    leave only as an aggregate by the aggregate.

    :param approved: the data categories the export approvals in force cover; the
        ``approval_required`` paths of other categories are withheld.
    :returns: the record that may be mapped, and the decision: which fields present in
        the record were withheld, which left as aggregates, which an approval released,
        and a ``{path: reason}`` map for every withheld path (for the gap report).
    """
    withheld: dict[str, str] = {}
    aggregated: list[str] = []
    released: dict[str, str] = {}

    approved = frozenset(approved)
    opened = policy.opened

    def effective(rule: Rule | None) -> tuple[str, str | None]:
        return _effective(policy, rule, approved)

    def withhold(path: str, reason: str) -> None:
        withheld.setdefault(path, reason)

    def walk(node: Any, prefix: str) -> Any:
        if isinstance(node, list):
            return [walk(item, prefix) for item in node]
        if not isinstance(node, Mapping):
            return node
        out = {}
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else key
            rule = policy.rule_for(path)
            cls, reason = effective(rule)
            if cls == WITHHOLD:
                if isinstance(value, dict) and policy.classifies_members(path):
                    out[key] = walk(value, path)
                else:
                    withhold(path, reason or "")
                continue
            if rule is not None and rule.cls == APPROVAL_REQUIRED:
                released.setdefault(rule.path, rule.category)
            if cls == EXPORT and path not in opened:
                # Nothing below is classified apart: the value leaves as it is (shared
                # with the input, which nothing downstream changes).
                out[key] = value
                continue
            if cls == AGGREGATE_ONLY and not isinstance(value, dict):
                summary = aggregates.summarise(path, value, record)
                if summary.reason:
                    withhold(path, f"withheld by {policy.ref}: {summary.reason}")
                    continue
                if path not in aggregated:
                    aggregated.append(path)
                out[key] = summary.value
                continue
            out[key] = walk(value, path)
        # A history with no events of a kind still says something ("none recorded in
        # the period"): the aggregate of an empty series stands in for the absent list.
        for path in aggregates.series_below(prefix):
            key = path.rpartition(".")[2]
            if key not in node and effective(policy.rule_for(path))[0] == AGGREGATE_ONLY:
                rule = policy.rule_for(path)
                if rule is not None and rule.cls == APPROVAL_REQUIRED:
                    released.setdefault(rule.path, rule.category)
                out[key] = aggregates.summarise(path, [], record).value
                aggregated.append(path)
        return out

    # walk() builds new containers for every object it opens, so the input is never
    # changed.
    kept = walk(record, "")
    reasons = dict(policy.withholding(approved))
    for path, reason in withheld.items():
        reasons.setdefault(path, reason)
    decision = Decision(
        policy=policy.table,
        withheld=tuple(withheld),
        aggregated=tuple(aggregated),
        withheld_paths=reasons,
        applied=policy.ref,
        released=released,
        overrides=dict(policy.overrides),
    )
    return kept, decision
