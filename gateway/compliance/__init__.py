"""China-side compliance: national rules a traceability record must meet.

:func:`national_findings` / :func:`national_report` check a record (also against its own
code, physics and the passport obligation); :func:`verdict` turns findings into the
tri-state ``compliant`` (true, false, ``"unknown"``). The white-list of
comprehensive-utilisation enterprises and the Chinese working-day calendar they rely on
are data tables in ``data/`` (see ``docs/compliance.md``).
"""

from gateway.compliance.calendar import WorkingDays, working_days_between
from gateway.compliance.finding import UNKNOWN, Verdict, verdict
from gateway.compliance.findings import national_findings, national_report
from gateway.compliance.rules import DEADLINES, RULES
from gateway.compliance.whitelist import ImportResult, Listing, Whitelist, import_csv, import_rows

__all__ = [
    "DEADLINES",
    "RULES",
    "UNKNOWN",
    "ImportResult",
    "Listing",
    "Verdict",
    "Whitelist",
    "WorkingDays",
    "import_csv",
    "import_rows",
    "national_findings",
    "national_report",
    "verdict",
    "working_days_between",
]
