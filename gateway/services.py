"""The gateway's jobs as plain functions, shared by the CLI and the API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.codes import gbt34014
from gateway.errors import InvalidBatteryCode
from gateway.mapping import loader
from gateway.mapping.model import MappingSet
from gateway.policy.table import Decision, Policy, apply_policy, load_policy
from gateway.transform.engine import Conversion, convert
from gateway.transform.gaps import gap_report
from gateway.transform.jsonld import passport_documents
from gateway.vocab.catalog import load_catalog


@dataclass(frozen=True)
class PassportDraft:
    """An unsigned passport: one JSON-LD document per access group and the gap report."""

    conversion: Conversion
    documents: dict[str, dict[str, Any]]
    gaps: dict[str, Any]
    policy: Decision

    @property
    def battery_code(self) -> str:
        return self.conversion.battery_code


def decode_code(code: str) -> dict[str, Any]:
    return gbt34014.decode(code).as_dict()


def draft_passport(
    record: Mapping[str, Any],
    *,
    mapping: str | MappingSet,
    base_url: str,
    policy: Policy | None = None,
) -> PassportDraft:
    """Turn a validated national record into passport documents and a gap report.

    The cross-border policy runs first: what it withholds never reaches the mapping.

    :param mapping: a ``SET@VERSION`` reference to a published table, or a table.
    :param policy: the data policy (default: the shipped ``cn-export`` policy).
    :raises InvalidBatteryCode: the record's battery code does not decode.
    :raises MappingNotFound: no such mapping version.
    :raises TransformError: a value cannot be transformed.
    """
    mapping_set = loader.load(mapping) if isinstance(mapping, str) else mapping
    code = record["battery"]["code"]
    try:
        gbt34014.decode(code, strict=True)
    except InvalidBatteryCode as exc:
        exc.pointer = "/battery/code"
        raise
    exportable, decision = apply_policy(record, policy or load_policy())
    conversion = convert(
        exportable,
        mapping_set,
        load_catalog(),
        base_url=base_url,
        decode_code=decode_code,
        withheld=decision.withheld_paths,
    )
    return PassportDraft(
        conversion,
        passport_documents(conversion),
        gap_report(conversion, decision.as_dict()),
        decision,
    )
