"""Telemetry aggregates in and out of a national record.

:func:`parameters_from_record` reads the battery's limits from the record's ``specs``;
:func:`merge_usage` puts aggregates into the record's ``usage`` block so that the normal
pipeline (``gateway.services.draft_passport``) maps them.

Merge rule: the record's own values win, field by field. A national record's usage
figures come from the BMS or the traceability platform and cover the battery's whole
life; telemetry aggregates cover only the frames that were fed in. Telemetry fills
what the record lacks; level-3 alarms are joined (the record's and those telemetry
found, one entry per type and time); ``as_of`` becomes the later of the two dates when
telemetry filled anything. SOH is never filled: GB/T 32960.3 carries none.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from gateway.errors import InvalidRecord
from gateway.records.validation import validate_record
from gateway.telemetry.battery import Parameters, UsageAggregate

_SCALE = {"Ah": Decimal(1), "mAh": Decimal("0.001"), "V": Decimal(1), "mV": Decimal("0.001")}


def _quantity(specs: Mapping[str, Any], name: str) -> float | None:
    item = specs.get(name)
    if not item:
        return None
    return float(Decimal(item["value"]) * _SCALE[item["unit"]])


def parameters_from_record(record: Mapping[str, Any], **overrides: Any) -> Parameters:
    """Aggregation parameters from a validated record's ``specs``.

    ``temperature_range`` gives the temperature limits, ``rated_capacity`` the capacity
    for equivalent full cycles, ``min_voltage`` / ``max_voltage`` the pack voltage
    limits for deep-discharge and overcharge events.

    :param record: a validated record.
    :param overrides: :class:`Parameters` fields that win over the record; a ``None``
        override is ignored.
    :returns: the parameters.
    :raises InvalidInput: inconsistent parameters.
    """
    specs = record.get("specs") or {}
    limits = specs.get("temperature_range") or {}
    values: dict[str, Any] = {
        "temp_min": float(limits["min"]) if "min" in limits else None,
        "temp_max": float(limits["max"]) if "max" in limits else None,
        "rated_capacity_ah": _quantity(specs, "rated_capacity"),
        "pack_min_voltage": _quantity(specs, "min_voltage"),
        "pack_max_voltage": _quantity(specs, "max_voltage"),
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Parameters(**values)


def merge_usage(
    record: Mapping[str, Any], aggregates: UsageAggregate | Mapping[str, Any]
) -> dict[str, Any]:
    """A copy of ``record`` with telemetry aggregates merged into its ``usage`` block.

    :param record: a validated record.
    :param aggregates: a :class:`UsageAggregate`, its ``as_dict()``, or a bare usage block.
    :returns: the merged record, validated again.
    :raises InvalidRecord: the aggregates belong to another battery (``/battery/code``),
        or the merged usage block breaks the record model.
    """
    code: str | None
    usage: Mapping[str, Any]
    if isinstance(aggregates, UsageAggregate):
        code, usage = aggregates.battery_code, aggregates.usage
    elif "usage" in aggregates:
        code, usage = aggregates.get("battery_code"), aggregates["usage"]
    else:
        code, usage = None, aggregates
    if code is not None and code != record["battery"]["code"]:
        raise InvalidRecord(
            f"/battery/code: the telemetry aggregates are of battery {code}, the record "
            f"is of {record['battery']['code']}",
            pointer="/battery/code",
        )
    merged = copy.deepcopy(dict(record))
    own = dict(merged.get("usage") or {})
    result = dict(own)
    filled = False
    for key, value in usage.items():
        if key in ("as_of", "alarms", "soh"):
            continue
        if key not in own:
            result[key] = copy.deepcopy(value)
            filled = True
    alarms = list(own.get("alarms") or [])
    seen = {(a["type"], a.get("time")) for a in alarms}
    for alarm in usage.get("alarms") or ():
        if (alarm["type"], alarm.get("time")) not in seen:
            alarms.append(dict(alarm))
            seen.add((alarm["type"], alarm.get("time")))
            filled = True
    if alarms:
        result["alarms"] = sorted(alarms, key=lambda a: (a.get("time") or "", a["type"]))
    if filled and usage.get("as_of"):
        result["as_of"] = max(own.get("as_of") or "", usage["as_of"])
    if result:
        merged["usage"] = result
    return validate_record(merged)
