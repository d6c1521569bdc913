"""Temperature information and information on accidents in issued documents: the JSON
and XML twins of a record give the same statements, under an approval only."""

from __future__ import annotations

from gateway.records.reader import read_record_file
from gateway.services import draft_passport
from gateway.settings import DEFAULT_MAPPING
from gateway.vocab.forms import plain_value
from tests.helpers import BASE_URL, RECORDS, covering_everything


def _point_4(name: str, approvals: list) -> dict:
    draft = draft_passport(
        read_record_file(RECORDS / name),
        base_url=BASE_URL,
        approvals=approvals,
        mapping=DEFAULT_MAPPING,
    )
    return draft.documents.get("annex-xiii-4", {})


def test_twins_state_the_same_temperature_and_accidents_under_an_approval():
    documents = [
        _point_4(n, [covering_everything()]) for n in ("ncm-ev-pack.json", "ncm-ev-pack.xml")
    ]
    assert documents[0] == documents[1]
    temperature = documents[0]["temperatureInformation"]
    # The record's usage.temperature.max, in °C (Rec 20 CEL), dated by its own period.
    assert plain_value(temperature) == "58"
    assert temperature["unitCode"] == "CEL"
    assert temperature["measuredAt"] == "2026-04-30T00:00:00Z"
    accidents = documents[0]["informationOnAccidents"]
    # One level-1 alarm, no repair: nothing at level 3 in the period is itself a value.
    assert plain_value(accidents) == (
        "no repair or replacement recorded. BMS alarms: none recorded at level >= 3 "
        "from 2024-07 to 2026-04"
    )
    assert "2025-08-08" not in str(documents[0])  # never a timestamped alarm


def test_without_an_approval_neither_leaves():
    document = _point_4("ncm-ev-pack.json", [])
    assert "temperatureInformation" not in document
    assert "informationOnAccidents" not in document
