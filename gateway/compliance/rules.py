"""The compliance rules: id, severity, legal or standard source, confidence.

Every finding names one of these rules: the national rules (codes, hierarchy, reporting
deadlines, white-list), the record's consistency with its own code and with physics, and
the EU rules that decide whether the battery needs a passport at all. The confidence is
how well public sources confirm the rule's source ([S] solid, [P] probable, [U]
uncertain); a rule tagged P or U yields findings with ``uncertain`` true, and so does a
rule that runs on data known to be incomplete (the white-list, the holiday calendar).

A rule's ``severity`` is that of a certain finding. A rule of severity ``error`` is a
breach: a certain finding of it makes the record non-compliant (``compliant: false``).
An uncertain finding of it is reported as a ``warning`` and leaves the verdict
``"unknown"``, with the reason: a rule the sources do not confirm does not make a record
non-compliant. Deadlines are kept as data beside the rules because they are what a
revision of the Provisions (or the 2026 Measures) would change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

SEVERITIES = ("error", "warning", "info")
CONFIDENCES = ("S", "P", "U")

GBT34014 = "GB/T 34014-2017 §4"
P2018 = "2018 Interim Provisions on traceability (新能源汽车动力蓄电池回收利用溯源管理暂行规定)"
WHITELIST_SOURCE = "《新能源汽车废旧动力蓄电池综合利用行业规范条件》 white-list, MIIT announcements"
P2018_ACCURACY = f"{P2018} Art. 16 (obligated firms guarantee the accuracy of what they upload)"
BATTERY_REGULATION = "Regulation (EU) 2023/1542"
#: Rated energy is rated capacity x nominal voltage within this share: datasheets state
#: the energy measured at the rated discharge, which differs from the product by a few
#: per cent at most; beyond it one of the three values (or a unit) is wrong.
ENERGY_TOLERANCE = Decimal("0.05")
#: Art. 3(1)(11): an LMT battery weighs at most 25 kg.
LMT_MAX_MASS_KG = Decimal(25)
#: Art. 77(1): industrial batteries need a passport above 2 kWh.
PASSPORT_MIN_INDUSTRIAL_KWH = Decimal(2)
#: The record categories that are industrial batteries (a stationary battery energy
#: storage system is one, Art. 3(1)(15)).
INDUSTRIAL_CATEGORIES = ("industrial", "stationary")

#: The 2026 Interim Measures (新能源汽车废旧动力电池回收和综合利用管理暂行办法) apply from
#: this date; their deadlines were not retrieved, and whether the 2018 deadlines survive
#: them is not known so deadline findings on later events are uncertain.
MEASURES_2026_IN_FORCE = dt.date(2026, 4, 1)


@dataclass(frozen=True)
class Rule:
    """One compliance rule.

    :ivar id: stable identifier used in findings.
    :ivar severity: severity of its certain findings (``error``: a breach rule,
        ``warning``, ``info``); an uncertain finding of a breach rule is a ``warning``.
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
        "date-future",
        "error",
        f"cn-trace record model; {GBT34014} (positions 15-17)",
        "S",
        "a date in the record, or the production date in a battery code, lies after today",
    ),
    Rule(
        "code-serial-zero",
        "warning",
        f"{GBT34014} (positions 18-24: serial 1-9 999 999 within the production day)",
        "P",
        "a battery code has the serial number 0000000, a placeholder rather than a product",
    ),
    Rule(
        "echelon-code-form",
        "warning",
        f"{GBT34014} (echelon-use products are re-coded without extension structure 1)",
        "P",
        "an echelon-use product carries a full 24-character code with a traceability segment",
    ),
    Rule(
        "code-date-mismatch",
        "error",
        f"{GBT34014} (positions 15-17); {P2018_ACCURACY}",
        "S",
        "the production date in battery.code differs from production.date",
    ),
    Rule(
        "code-chemistry-mismatch",
        "error",
        f"{GBT34014} (position 5); {P2018_ACCURACY}",
        "S",
        "the battery-type letter of battery.code names another chemistry than specs.chemistry",
    ),
    Rule(
        "chemistry-code-uncertain",
        "warning",
        f"{GBT34014} (position 5; only B, E and Z are confirmed)",
        "S",
        "the record gives no chemistry and the code's battery-type letter is not confirmed, "
        "so the chemistry is left unfilled rather than read from it",
    ),
    Rule(
        "voltage-order",
        "error",
        f"physics (minimum <= nominal <= maximum voltage); {P2018_ACCURACY}",
        "S",
        "the minimum, nominal and maximum voltages are not in order",
    ),
    Rule(
        "energy-capacity-mismatch",
        "warning",
        f"physics (energy = capacity x voltage, within {ENERGY_TOLERANCE * 100:.0f} %); "
        f"{P2018_ACCURACY}",
        "S",
        "rated energy differs from rated capacity x nominal voltage by more than the tolerance",
    ),
    Rule(
        "category-mass",
        "error",
        f"{BATTERY_REGULATION} Art. 3(1)(11) (an LMT battery weighs at most 25 kg)",
        "S",
        "a battery of category lmt weighs more than 25 kg",
    ),
    Rule(
        "passport-not-required",
        "info",
        f"{BATTERY_REGULATION} Art. 77(1) (industrial batteries above 2 kWh)",
        "S",
        "an industrial battery of at most 2 kWh has no battery-passport obligation",
    ),
    Rule(
        "soh-above-100",
        "error",
        "cn-trace record model (usage.soh is a percentage of the rated capacity, 0-100)",
        "S",
        "the state of health is above 100 %",
    ),
    Rule(
        "remaining-capacity-above-rated",
        "warning",
        f"physics; {P2018_ACCURACY}",
        "S",
        "the remaining capacity is above the rated capacity (possible for new cells, "
        "otherwise a unit or rating error)",
    ),
    Rule(
        "battery-recycled",
        "warning",
        f"{BATTERY_REGULATION} Art. 77(8) (the passport ceases to exist once the battery is "
        "recycled)",
        "S",
        "the record's last event is a completed recycling: no passport is issued for it",
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
    :ivar party: who must report (the deadline binds that party's upload).
    """

    working_days: int | None
    trigger: str
    source: str
    confidence: str
    party: str = "the automaker"

    @property
    def uncertain(self) -> bool:
        return self.confidence != "S"


#: Deadlines per event type, for the party that reports that stage by default
#: (docs/compliance.md); :data:`ROLE_DEADLINES` holds those that depend on who reports.
#: The event ``date`` is taken as the trigger.
DEADLINES: Mapping[str, Deadline] = MappingProxyType(
    {
        "production": Deadline(
            None,
            "production / delivery to the automaker",
            f"{P2018}, battery-maker article not retrieved",
            "U",
            "the battery maker",
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
            30,
            "warehousing-in or transfer-out at the collection outlet",
            f"{P2018} Art. 11",
            "S",
            "the automaker, on the collection outlet's report",
        ),
        "dismantling": Deadline(
            15,
            "receipt of the vehicle and issue of the ELV certificate, or removal and "
            "transfer-out of the battery",
            f"{P2018} Art. 13",
            "S",
            "the ELV dismantler",
        ),
        "echelon_use": Deadline(
            15,
            "the echelon-use product leaving the warehouse",
            f"{P2018} Art. 14",
            "S",
            "the echelon-use firm",
        ),
        "recycling": Deadline(
            30,
            "warehousing-in, or completion of recycling and final disposal",
            f"{P2018} Art. 15",
            "S",
            "the recycler",
        ),
    }
)

#: Roles of the party that hands a battery over, as the record shows them (the party of
#: a dismantling, echelon-use or recycling event in the same record).
ROLES = ("dismantler", "echelon_firm", "recycler")

#: Deadlines of a stage reported by another party than the default: a hand-over by the
#: ELV dismantler is its transfer-out (Art. 13), not the outlet's (Art. 11).
ROLE_DEADLINES: Mapping[tuple[str, str], Deadline] = MappingProxyType(
    {
        ("handover", "dismantler"): Deadline(
            15,
            "removal of the battery and its transfer-out by the ELV dismantler",
            f"{P2018} Art. 13",
            "S",
            "the ELV dismantler",
        ),
        ("handover", "echelon_firm"): Deadline(
            15,
            "transfer-out of waste batteries arising in echelon use",
            f"{P2018} Art. 14",
            "S",
            "the echelon-use firm",
        ),
        ("handover", "recycler"): Deadline(
            30,
            "warehousing-in or transfer-out at the recycler",
            f"{P2018} Art. 15",
            "S",
            "the recycler",
        ),
    }
)

#: The sale deadline (draft Art. 9) binds the automaker's sale of a vehicle; the sale of
#: a battery that goes into no vehicle (stationary storage, industrial) has none known.
VEHICLE_CATEGORIES = ("ev",)
NON_VEHICLE_SALE = Deadline(
    None,
    "sale of a battery that is not installed in a vehicle",
    f"{P2018}: the vehicle-sale deadline (draft Art. 9) binds the automaker's sale of a "
    "vehicle; no deadline for other sales was found",
    "U",
    "the seller",
)
