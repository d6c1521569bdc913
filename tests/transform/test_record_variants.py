"""One-field variants of the fixture records, each with the outcome it must get.

``fixtures/records/variants/<name>.json`` is a record; ``<name>.expected.json`` says,
per EU attribute, the status, value, reason (a part of it), origin, measurement time
and languages the engine must give under the default mapping, or that the record is
refused and where. The engine runs without the data policy, so that the BMS figures the
policy withholds by default show what the mapping makes of them; a variant whose outcome
depends on the policy names the data categories approved for export
(``"policy": {"approved": [...]}``) and runs through the default policy table.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway.errors import GatewayError
from gateway.mapping import loader
from gateway.policy.table import apply_policy, load_policy
from gateway.records.reader import read_record
from gateway.services.conversion import decode_code
from gateway.settings import DEFAULT_MAPPING
from gateway.transform.engine import AttributeResult, convert
from gateway.transform.gaps import gap_report
from gateway.vocab.catalog import load_catalog
from tests.helpers import BASE_URL, RECORDS

VARIANTS = RECORDS / "variants"
CASES = sorted(p for p in VARIANTS.glob("*.json") if not p.name.endswith(".expected.json"))


def _expected(path: Path) -> dict[str, Any]:
    return json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))


def _check(result: AttributeResult, want: dict[str, Any]) -> None:
    key = result.attribute.key
    assert result.status == want["status"], (key, result.reason)
    if "value" in want:
        assert result.value == want["value"], key
    if "reason" in want:
        assert want["reason"] in result.reason, (key, result.reason)
    if "origin" in want:
        assert result.origin == want["origin"], key
    assert result.conflict is want.get("conflict", False), key
    if "measured_at" in want:
        assert result.measured_at == want["measured_at"], key
    if "languages" in want:
        assert [list(pair) for pair in result.languages] == want["languages"], key
    if result.value is not None and not result.attribute.static:
        assert result.measured_at, f"{key}: a published dynamic value needs its time"


def test_every_variant_has_its_expected_outcome():
    assert CASES
    for path in CASES:
        assert path.with_suffix(".expected.json").is_file(), path.name


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_variant_gets_its_expected_outcome(path: Path):
    expected = _expected(path)
    data = path.read_bytes()
    if "refused" in expected:
        with pytest.raises(GatewayError) as refused:
            read_record(data, "application/json")
        assert refused.value.status == expected["refused"]["status"]
        problem = refused.value.to_problem()
        pointers = [e["pointer"] for e in problem["errors"]]
        assert expected["refused"]["pointer"] in pointers
        return
    record = read_record(data, "application/json")
    withheld: dict[str, str] = {}
    if "policy" in expected:
        record, decision = apply_policy(record, load_policy(), expected["policy"]["approved"])
        withheld = dict(decision.withheld_paths)
    conversion = convert(
        record,
        loader.load(DEFAULT_MAPPING),
        load_catalog(),
        base_url=BASE_URL,
        decode_code=decode_code,
        withheld=withheld,
    )
    results = {r.attribute.key: r for r in conversion.results}
    for key, want in expected["attributes"].items():
        _check(results[key], want)
    summary = gap_report(conversion)["summary"]
    for key, want in expected.get("summary", {}).items():
        assert summary[key] == want, key
