"""The national compliance rules: id, severity, legal or standard source, confidence.

Every finding names one of these rules. The confidence is how well public sources
confirm the rule's source ([S] solid, [P] probable, [U] uncertain); a rule tagged P or U
yields findings with ``uncertain`` true. Deadlines are kept as data beside the rules
because they are what a revision of the Provisions (or the 2026 Measures) would change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

SEVERITIES = ("error", "warning", "info")
CONFIDENCES = ("S", "P", "U")

GBT34014 = "GB/T 34014-2017 §4"
P2018 = "2018 Interim Provisions on traceability (新能源汽车动力蓄电池回收利用溯源管理暂行规定)"
WHITELIST_SOURCE = "《新能源汽车废旧动力蓄电池综合利用行业规范条件》 white-list, MIIT announcements"
#: The 2026 Interim Measures (新能源汽车废旧动力电池回收和综合利用管理暂行办法) apply from
#: this date; their deadlines were not retrieved, and whether the 2018 deadlines survive
#: them is not known so deadline findings on later events are uncertain.
MEASURES_2026_IN_FORCE = dt.date(2026, 4, 1)


@dataclass(frozen=True)
class Rule:
    """One compliance rule.

    :ivar id: stable identifier used in findings.
    :ivar severity: severity of its findings (``error``, ``warning``, ``info``).
    :ivar source: the clause or instrument it comes from.
    :ivar confidence: ``S``, ``P`` or ``U`` as the sources confirm it.
    :ivar summary: one line saying what it checks.
    """

    id: str
    severity: str
    source: str
    confidence: str
    summary: str

    @property
    def uncertain(self) -> bool:
        return self.confidence != "S"


def _rules(*rules: Rule) -> Mapping[str, Rule]:
    for rule in rules:
        assert rule.severity in SEVERITIES and rule.confidence in CONFIDENCES, rule
    return MappingProxyType({rule.id: rule for rule in rules})


RULES: Mapping[str, Rule] = _rules(
    Rule(
        "code-invalid",
        "error",
        GBT34014,
        "S",
        "a battery code breaks the 24-character (or 19-character echelon) syntax or its "
        "production date is not a calendar date",
    ),
    Rule(
        "code-ambiguous",
        "warning",
        f"{GBT34014}; unconfirmed letters of the code tables",
        "U",
        "a code uses a letter whose meaning is not confirmed (battery types A/C/D/F/G, "
        "year letters after H, day letters, the echelon suffix)",
    ),
    Rule(
        "manufacturer-code-mismatch",
        "error",
        f"{GBT34014} (positions 1-3); 中机函〔2018〕73号",
        "S",
        "the record's manufacturer code differs from positions 1-3 of battery.code",
    ),
    Rule(
        "hierarchy-level",
        "error",
        f"{GBT34014} (product type P/M/C; pack, module and cell codes correspond)",
        "S",
        "a code sits at the wrong level: modules must be M, cells C, and only a pack holds modules",
    ),
    Rule(
        "hierarchy-duplicate",
        "error",
        f"{GBT34014} (one code per product)",
        "S",
        "the same code appears twice in the hierarchy",
    ),
    Rule(
        "hierarchy-mixed",
        "warning",
        f"{GBT34014} (pack-module-cell correspondence)",
        "P",
        "a pack lists cells both directly and under modules",
    ),
    Rule(
        "hierarchy-empty-module",
        "warning",
        f"{GBT34014} (pack-module-cell correspondence)",
        "S",
        "a module lists no cells",
    ),
    Rule(
        "hierarchy-battery-type",
        "warning",
        f"{GBT34014} (position 5)",
        "P",
        "a module or cell has another battery type than its parent",
    ),
    Rule(
        "hierarchy-production-order",
        "warning",
        f"{GBT34014} (positions 15-17)",
        "P",
        "a module or cell was produced after its parent",
    ),
    Rule(
        "replacement-level-mismatch",
        "warning",
        f"{GBT34014} (position 4)",
        "P",
        "a repair or replacement fits a product of another level than it removes",
    ),
    Rule(
        "echelon-original-code-missing",
        "error",
        f"{GBT34014} (echelon-use products are re-coded and keep the original code); "
        "2021 echelon-use Measures 工信部联节〔2021〕114号",
        "S",
        "an echelon-use product does not carry its original code",
    ),
    Rule(
        "report-late",
        "error",
        f"{P2018}, deadline of the stage",
        "S",
        "an event was reported to the platform after its deadline in working days",
    ),
    Rule(
        "report-missing",
        "warning",
        f"{P2018}, deadline of the stage",
        "S",
        "an event with a reporting deadline has no reported_on date",
    ),
    Rule(
        "deadline-unknown",
        "info",
        f"{P2018} (no confirmed article for this stage)",
        "U",
        "no confirmed reporting deadline exists for the stage",
    ),
    Rule(
        "calendar-not-covered",
        "info",
        "State Council General Office annual holiday notices",
        "S",
        "a deadline spans a year whose holiday arrangement the calendar lacks",
    ),
    Rule(
        "date-invalid",
        "error",
        "cn-trace record model",
        "S",
        "an event date or report date is missing or not an ISO date",
    ),
    Rule(
        "whitelist-not-listed",
        "error",
        WHITELIST_SOURCE,
        "S",
        "a battery was handed over to a firm not on the white-list",
    ),
    Rule(
        "whitelist-other-activity",
        "error",
        WHITELIST_SOURCE,
        "S",
        "the firm is listed, but for the other activity (echelon use vs recycling)",
    ),
    Rule(
        "whitelist-not-yet-listed",
        "error",
        WHITELIST_SOURCE,
        "S",
        "the firm was listed only after the hand-over",
    ),
    Rule(
        "whitelist-removed",
        "error",
        WHITELIST_SOURCE,
        "S",
        "the firm had been removed from the list before the hand-over",
    ),
    Rule(
        "whitelist-activity-unconfirmed",
        "warning",
        WHITELIST_SOURCE,
        "U",
        "the firm is listed, but the table does not record for which activity",
    ),
    Rule(
        "whitelist-identity-mismatch",
        "warning",
        WHITELIST_SOURCE,
        "S",
        "the recipient's licence_no and name point at different listings or names",
    ),
    Rule(
        "whitelist-recipient-missing",
        "warning",
        WHITELIST_SOURCE,
        "S",
        "a hand-over names no recipient, so the white-list cannot be checked",
    ),
)


@dataclass(frozen=True)
class Deadline:
    """The reporting deadline of one lifecycle stage.

    :ivar working_days: days allowed, or None when no deadline is confirmed.
    :ivar trigger: what starts the count (the event ``date`` stands for it).
    :ivar source: the article.
    :ivar confidence: ``S``, ``P`` or ``U`` as the sources confirm it.
    """

    working_days: int | None
    trigger: str
    source: str
    confidence: str

    @property
    def uncertain(self) -> bool:
        return self.confidence != "S"


#: Deadlines per event type (docs/compliance.md). The event ``date`` is taken as the trigger.
DEADLINES: Mapping[str, Deadline] = MappingProxyType(
    {
        "production": Deadline(
            None,
            "production / delivery to the automaker",
            f"{P2018}, battery-maker article not retrieved",
            "U",
        ),
        "sale": Deadline(
            7,
            "issue of the certificate of conformity (coc_date, else the sale date)",
            f"{P2018}, draft of 2018-05-17 Art. 9; final Art. 9 not retrieved",
            "U",
        ),
        "installation": Deadline(
            None,
            "binding of the battery to a VIN",
            f"{P2018}, reported with the vehicle sale; no own deadline found",
            "U",
        ),
        "repair": Deadline(30, "the repair", f"{P2018} Art. 10", "S"),
        "replacement": Deadline(30, "the replacement", f"{P2018} Art. 10", "S"),
        "retirement": Deadline(
            None, "retirement from the vehicle", f"{P2018}; no deadline for this stage found", "U"
        ),
        "handover": Deadline(
            30, "warehousing-in or transfer-out at the collection outlet", f"{P2018} Art. 11", "S"
        ),
        "dismantling": Deadline(
            15,
            "removal of the battery and its transfer-out by the ELV dismantler",
            f"{P2018} Art. 13",
            "S",
        ),
        "echelon_use": Deadline(
            15, "the echelon-use product leaving the warehouse", f"{P2018} Art. 14", "S"
        ),
        "recycling": Deadline(
            30,
            "warehousing-in, or completion of recycling and final disposal",
            f"{P2018} Art. 15",
            "S",
        ),
    }
)
