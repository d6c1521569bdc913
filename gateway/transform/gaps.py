"""The gap report: what became of every EU attribute, and how ready the passport is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.annex_xiii import SECTIONS
from gateway.transform.engine import ORIGINS, STATUSES, Conversion

#: ``gaps/3``: each attribute says where its value came from (``origin``: the national
#: record, the EU supplement or the gateway), when a dynamic value was measured and
#: whether the supplement contradicts the national record; the summary gives readiness
#: from national data alone and with the supplement (``gaps/2`` gave one readiness;
#: ``gaps/1`` counted by the three earlier access groups).
GAP_REPORT_VERSION = "gaps/3"


def gap_report(conversion: Conversion, policy: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The gap report of one conversion, as JSON-ready data.

    :param policy: the cross-border policy decision for the record (which policy, which
        fields it withheld), reported beside the attributes.

    ``readiness`` is the share of the applicable mandatory attributes that are filled
    (DESIGN §5); ``partial`` values do not count until a person has reviewed them.
    ``readiness_by_source`` splits it: ``national`` counts only values read from the
    national record, ``with_supplement`` adds the exporter's declarations in the EU
    supplement; values the gateway mints (the passport id) are in neither and are
    counted apart in ``mandatory_filled_by_origin``.
    """
    attributes = []
    # Plain counts by status, in STATUSES order: the summary lists every status.
    by_status = dict.fromkeys(STATUSES, 0)
    by_section = {s: dict.fromkeys(STATUSES, 0) for s in SECTIONS}
    by_obligation = {
        "mandatory": dict.fromkeys(STATUSES, 0),
        "voluntary": dict.fromkeys(STATUSES, 0),
    }
    filled_by_origin: dict[str, int] = dict.fromkeys(ORIGINS, 0)
    conflicts = 0
    for result in conversion.results:
        attribute = result.attribute
        status = result.status
        mandatory = result.obligation == "mandatory"
        by_status[status] += 1
        by_section[attribute.access_group][status] += 1
        by_obligation["mandatory" if mandatory else "voluntary"][status] += 1
        if mandatory and status == "filled":
            filled_by_origin[result.origin] = filled_by_origin.get(result.origin, 0) + 1
        conflicts += result.conflict
        attributes.append(
            {
                "key": attribute.key,
                "term": attribute.term,
                "label": attribute.label,
                "status": status,
                "point": attribute.point,
                "access_group": attribute.access_group,
                "mandatory": mandatory,
                "obligation": result.obligation,
                "source": result.source,
                "source_label": result.source_label or None,
                "source_label_zh": result.source_label_zh or None,
                "relation": result.relation,
                "mapping_row": result.row or None,
                "reason": result.reason,
                "origin": result.origin or None,
                "measured_at": result.measured_at,
                "conflict": result.conflict,
            }
        )
    mandatory_counts = by_obligation["mandatory"]
    applicable = sum(mandatory_counts.values()) - mandatory_counts["not_applicable"]
    filled = mandatory_counts["filled"]
    return {
        "report": GAP_REPORT_VERSION,
        "passport_id": conversion.passport_id,
        "battery_code": conversion.battery_code,
        "category": conversion.category,
        "mapping": {
            "set": conversion.mapping.set_id,
            "version": conversion.mapping.version,
            "hash": conversion.mapping.content_hash,
        },
        "policy": dict(policy) if policy is not None else None,
        "summary": {
            "by_status": by_status,
            "by_section": by_section,
            "mandatory": by_obligation["mandatory"],
            "voluntary": by_obligation["voluntary"],
            "mandatory_applicable": applicable,
            "mandatory_filled": filled,
            "readiness": _share(filled, applicable),
            "readiness_by_source": {
                "national": _share(filled_by_origin["national"], applicable),
                "with_supplement": _share(
                    filled_by_origin["national"] + filled_by_origin["supplement"], applicable
                ),
            },
            "mandatory_filled_by_origin": {o: filled_by_origin[o] for o in ORIGINS},
            "conflicts": conflicts,
        },
        "attributes": attributes,
    }


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 1.0


def gap_table(report: dict[str, Any], *, all_rows: bool = False) -> str:
    """A readable table of the mandatory attributes that are not filled, then the totals.

    Attributes that only the EU supplement can fill are listed on one line, since the
    fix is the same for all of them.

    :param all_rows: list every attribute, one per line.
    """
    mandatory_gaps = [
        a
        for a in report["attributes"]
        if a["mandatory"] and a["status"] not in ("filled", "not_applicable")
    ]
    supplement = (
        []
        if all_rows
        else [
            a["key"]
            for a in mandatory_gaps
            if a["status"] == "unmappable" and (a["source"] or "").startswith("eu_supplement.")
        ]
    )
    listed = (
        report["attributes"]
        if all_rows
        else [a for a in mandatory_gaps if a["key"] not in supplement]
    )
    lines = [
        f"{report['battery_code']}  {report['category']}  "
        f"mapping {report['mapping']['set']}@{report['mapping']['version']}"
    ]
    if listed:
        width = max(len(a["key"]) for a in listed)
        lines.append(f"  {'attribute':<{width}}  {'status':<14} {'section':<19} source / reason")
        for a in listed:
            note = a["reason"] or a["source"] or ""
            lines.append(
                f"  {a['key']:<{width}}  {a['status']:<14} {a['access_group']:<19} {note[:80]}"
            )
    if supplement:
        lines.append(
            f"  unmappable, supply in eu_supplement ({len(supplement)}): " + ", ".join(supplement)
        )
    summary = report["summary"]
    counts = ", ".join(f"{k} {v}" for k, v in summary["by_status"].items() if v)
    lines.append(f"  {counts}")
    lines.append(
        f"  readiness {summary['readiness']:.1%} "
        f"({summary['mandatory_filled']}/{summary['mandatory_applicable']} "
        "applicable mandatory attributes filled)"
    )
    by_source = summary.get("readiness_by_source")
    if by_source:
        origins = summary["mandatory_filled_by_origin"]
        lines.append(
            f"  national data alone {by_source['national']:.1%}, with the EU supplement "
            f"{by_source['with_supplement']:.1%} ({origins['supplement']} declared in the "
            f"supplement, {origins['gateway']} minted by the gateway)"
        )
    if summary.get("conflicts"):
        lines.append(
            f"  {summary['conflicts']} supplement value(s) differ from the national record, "
            "whose values are published"
        )
    national = report.get("national")
    if national:
        counts = national["summary"]
        lines.append(
            f"  national findings: {counts['error']} error, {counts['warning']} "
            f"warning, {counts['info']} info"
            # compliant is true, false or "unknown" (only uncertain findings of breach rules)
            + {True: "", False: " (not compliant)"}.get(
                counts["compliant"], " (compliance unknown)"
            )
        )
        lines += [
            f"    {f['severity']:<7} {f['rule']}: {f['message'][:100]}"
            for f in national["findings"]
            if f["severity"] == "error"
        ]
    return "\n".join(lines)
