"""Which ``eu_supplement`` keys a record may carry, and which it may not.

The supplement holds EU attribute values the exporter declares. The national record
comes first: a supplement value fills an attribute the national record leaves empty or
fills only approximately (``docs/record-model.md``, precedence). A few attributes can
never take a value from the supplement, whatever the mapping version; a record naming
one of them is refused, so that a value is not accepted and then silently dropped.
"""

from __future__ import annotations

#: Supplement keys refused at validation, with the reason the problem gives.
REFUSED_KEYS: dict[str, str] = {
    "battery_passport_id": "the gateway mints the passport id from battery.code",
    "battery_category": "battery.category, which every record carries, gives it",
    "passport_version": "the gateway sets it: the credential names the mapping version "
    "and its validFrom",
    "passport_status": "the issuer sets it through the status list",
    "third_party_assurances": "the catalog gives it no datatype; the due diligence report "
    "(due_diligence_report) carries it",
    "supply_chain_indices": "the catalog gives it no datatype; the due diligence report "
    "(due_diligence_report) carries it",
}


def refused_reason(key: str) -> str | None:
    """Why a supplement key is refused, or None when a record may carry it."""
    reason = REFUSED_KEYS.get(key)
    return f"is never taken from the EU supplement: {reason}" if reason else None
