"""Conversion -> one JSON-LD passport document per Annex XIII access group."""

from __future__ import annotations

from typing import Any

from gateway.access_groups import ACCESS_GROUPS
from gateway.transform.engine import Conversion
from gateway.vocab.loader import current_passport_context


def passport_documents(conversion: Conversion) -> dict[str, dict[str, Any]]:
    """Documents by access group, only for groups with at least one value.

    All documents share the passport id; inside a credential each becomes the
    ``credentialSubject`` (DESIGN §5, one passport, three access groups).
    """
    documents: dict[str, dict[str, Any]] = {}
    for group in ACCESS_GROUPS:
        values = {
            r.attribute.term: r.value
            for r in conversion.results
            if r.value is not None and r.attribute.access_group == group
        }
        if values:
            documents[group] = {
                "@context": [current_passport_context()],
                "id": conversion.passport_id,
                "type": "BatteryPassport",
                "accessGroup": group,
                **values,
            }
    return documents
