"""A document the gateway builds from a record never holds a JSON float, so signing it
needs no scan for one (DESIGN §5); a subject from elsewhere is still scanned."""

import copy
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.credentials.model import build_credential
from gateway.errors import CredentialError, InvalidRecord, TransformError
from gateway.jsonvalues import first_float
from gateway.paths import FIXTURES_DIR
from gateway.records.reader import read_record_file
from gateway.services import draft_passport
from gateway.settings import DEFAULT_MAPPING

BASE_URL = "https://passports.example.com"
RECORDS = sorted(
    p
    for folder in (FIXTURES_DIR / "records", FIXTURES_DIR / "records" / "variants")
    for p in folder.iterdir()
    if p.suffix in {".json", ".xml"} and not p.name.endswith(".expected.json")
)
_NUMBER = re.compile(r"-?[0-9]+\.[0-9]+")
MAPPING = {"set": "cn-gbt-to-eu-bp", "version": "1.0.0", "hash": "sha256:00"}


def _floated(value: Any) -> Any:
    """The value with every decimal text and integer below the battery made a float,
    as a caller that skipped validation might hand it."""
    if isinstance(value, dict):
        return {k: v if k in ("code", "category") else _floated(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_floated(v) for v in value]
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        return float(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value) + 0.5
    return value


def _draft(record: dict[str, Any]):
    return draft_passport(
        record,
        mapping=DEFAULT_MAPPING,
        base_url=BASE_URL,
        at=datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: p.name)
def test_built_documents_hold_no_float(path) -> None:
    try:
        record = read_record_file(path)
    except InvalidRecord:
        return  # refused at the door: nothing is built from it
    assert first_float(_draft(record).documents) is None
    # Even a record full of floats gives a document without one: every value the engine
    # publishes is checked against its attribute's JSON type, or turned into text.
    floated = copy.deepcopy(dict(record))
    floated.update({k: _floated(v) for k, v in record.items() if k not in ("battery", "cells")})
    floated["battery"] = {
        k: v if k in ("code", "category") else _floated(v) for k, v in record["battery"].items()
    }
    try:
        documents = _draft(floated).documents
    except (TransformError, ValueError, TypeError):
        return
    assert first_float(documents) is None


def test_a_subject_from_elsewhere_is_scanned_for_floats() -> None:
    subject = {"id": "https://passports.example.com/p/1", "capacity": 1.5}
    with pytest.raises(CredentialError) as raised:
        build_credential(
            subject,
            issuer="did:web:gw.example",
            passport_id="https://passports.example.com/p/1",
            access_group="annex-xiii-1",
            mapping=MAPPING,
            status=None,
            valid_from="2026-12-01T08:00:00Z",
        )
    assert raised.value.pointer == "/credentialSubject/capacity"


def test_status_entries_are_scanned_for_a_built_subject() -> None:
    with pytest.raises(CredentialError) as raised:
        build_credential(
            {"id": "https://passports.example.com/p/1"},
            issuer="did:web:gw.example",
            passport_id="https://passports.example.com/p/1",
            access_group="annex-xiii-1",
            mapping=MAPPING,
            status=[{"type": "BitstringStatusListEntry", "statusListIndex": 1.0}],
            valid_from="2026-12-01T08:00:00Z",
            subject_built=True,
        )
    assert raised.value.pointer == "/credentialStatus/statusListIndex"
