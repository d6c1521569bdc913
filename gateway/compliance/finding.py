"""One finding, and the verdict a list of findings gives.

A finding names its rule (:data:`gateway.compliance.rules.RULES`), the JSON pointers of
the record members it rests on, and whether it is certain. It is uncertain when its
rule's source is only probable or uncertain, or when the data behind it (the white-list,
the holiday calendar, an unconfirmed code letter) is known to be incomplete or unsure;
``uncertainty`` then says which. An uncertain finding of a breach rule (severity
``error``) is reported as a ``warning``: a rule the sources do not confirm does not make
a record non-compliant, it makes the verdict unknown.

The verdict is tri-state, :func:`verdict`:

* ``True``: no finding of a breach rule;
* ``False``: at least one certain finding of a breach rule;
* ``"unknown"``: findings of breach rules, none of them certain; the reasons list why
  each is uncertain.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from gateway import jsonpointer
from gateway.compliance.rules import RULES

#: The three answers to "does the record comply with the rules checked?".
Verdict = bool | Literal["unknown"]
UNKNOWN: Literal["unknown"] = "unknown"


@dataclass(frozen=True)
class Finding:
    """One breach (or notice) of a rule."""

    rule: str
    message: str
    fields: tuple[str, ...]
    uncertain: bool = False
    details: Mapping[str, Any] = field(default_factory=dict)
    #: The clause this finding rests on, when narrower than the rule's own source.
    source: str | None = None
    #: Why this finding is uncertain when its rule alone is not (data incomplete or unsure).
    uncertainty: str | None = None

    def why_uncertain(self) -> str | None:
        """Why the finding is uncertain, or None when it is certain."""
        rule = RULES[self.rule]
        if self.uncertainty:
            return self.uncertainty
        if rule.uncertain:
            return (
                f"the rule's source is confirmed only as {rule.confidence} "
                f"({self.source or rule.source})"
            )
        if self.uncertain:
            return f"the source it rests on is not confirmed ({self.source or rule.source})"
        return None

    @property
    def severity(self) -> str:
        rule = RULES[self.rule]
        if rule.severity == "error" and self.why_uncertain() is not None:
            return "warning"
        return rule.severity

    def as_dict(self) -> dict[str, Any]:
        """The finding as JSON-ready data."""
        rule = RULES[self.rule]
        reason = self.why_uncertain()
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "fields": list(self.fields),
            "source": self.source or rule.source,
            "uncertain": reason is not None,
            "uncertainty": reason,
            "details": dict(self.details),
        }


def is_breach(finding: Mapping[str, Any]) -> bool:
    """True when the finding's rule is a breach rule (severity ``error`` when certain)."""
    rule = RULES.get(finding.get("rule", ""))
    return rule is not None and rule.severity == "error"


def verdict(findings: Sequence[Mapping[str, Any]]) -> tuple[Verdict, list[str]]:
    """The tri-state verdict of findings (as :meth:`Finding.as_dict` gives them).

    :returns: ``(compliant, reasons)``; ``reasons`` says, for ``"unknown"``, why each
        breach finding is uncertain (``rule at pointer: reason``), once per reason.
    """
    breaches = [f for f in findings if is_breach(f)]
    if any(not f["uncertain"] for f in breaches):
        return False, []
    if not breaches:
        return True, []
    reasons = {f"{f['rule']} at {f['fields'][0]}: {f['uncertainty']}": None for f in breaches}
    return UNKNOWN, list(reasons)


def record_date(value: Any) -> dt.date | None:
    """A record's ``YYYY-MM-DD`` date (or a date already read), None for anything else:
    the rules judge only dates the record states in full."""
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def record_pointer(*tokens: str | int) -> str:
    """The JSON pointer of a record member from its reference tokens, outermost first."""
    return jsonpointer.join(tokens)


def as_mapping(value: Any) -> Mapping[str, Any]:
    """A record member read as an object: empty when it is absent or not one."""
    return value if isinstance(value, Mapping) else {}


def as_sequence(value: Any) -> Sequence[Any]:
    """A record member read as a list: empty when it is absent or not one."""
    return value if isinstance(value, list | tuple) else ()
