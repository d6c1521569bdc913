"""What an export approval says, when it is in force, and what a passport relies on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.errors import InvalidInput
from gateway.policy.approvals import check_approval, covered, relied_on, section_references
from gateway.records.reader import read_record_file
from gateway.services import draft_passport
from tests.helpers import APPROVAL, RECORDS, covering_everything

MAPPING = "cn-trace-to-eu-passport@1.0.0"
NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"kind": "permit"}, "/kind"),
        ({"categories": []}, "/categories"),
        ({"categories": ["state_of_health", "vin"]}, "/categories/1"),
        ({"reference": "  "}, "/reference"),
        ({"reference": "A" * 101}, "/reference"),
        ({"authority": "CAC\u202e"}, "/authority"),
        ({"authority": "C\nAC"}, "/authority"),
        ({"validFrom": "2026-13-01"}, "/validFrom"),
        ({"validFrom": "yesterday"}, "/validFrom"),
        ({"validUntil": "2026-01-01T00:00:00"}, "/validUntil"),
        ({"validFrom": "2027-01-01", "validUntil": "2026-12-31"}, "/validUntil"),
        ({"documentSha256": "5" * 63}, "/documentSha256"),
        ({"documentSha256": "A" * 64}, "/documentSha256"),
    ],
)
def test_a_malformed_approval_is_refused_naming_the_field(change, pointer):
    with pytest.raises(InvalidInput) as refused:
        check_approval({**APPROVAL, **change})
    assert refused.value.pointer == pointer


def test_a_date_is_that_whole_day_in_china_standard_time():
    new = check_approval({**APPROVAL, "validFrom": "2026-03-01", "validUntil": "2026-03-01"})
    assert new.valid_from == datetime(2026, 2, 28, 16, tzinfo=UTC)
    assert new.valid_until == datetime(2026, 3, 1, 16, tzinfo=UTC)
    exact = check_approval(
        {**APPROVAL, "validFrom": "2026-03-01T08:00:00+08:00", "validUntil": "2026-03-02T00:00:00Z"}
    )
    assert exact.valid_from == datetime(2026, 3, 1, tzinfo=UTC)


def test_in_force_within_its_validity_until_revoked():
    approval = covering_everything(
        valid_from=NOW - timedelta(days=1), valid_until=NOW + timedelta(days=1)
    )
    assert approval.in_force(NOW)
    assert not approval.in_force(NOW - timedelta(days=2))
    assert not approval.in_force(approval.valid_until), "the end is excluded"
    revoked = covering_everything(
        valid_from=approval.valid_from, valid_until=approval.valid_until, revoked_at=NOW
    )
    assert not revoked.in_force(NOW)
    assert revoked.in_force(NOW - timedelta(hours=1)), "it was in force before its revocation"
    assert covered([revoked], NOW) == frozenset()
    assert covered([approval], NOW) == frozenset(APPROVAL["categories"])


def test_a_passport_names_the_approvals_it_relies_on_and_where():
    first = covering_everything(id=1, categories=("state_of_health",), reference="A-1")
    second = covering_everything(id=2, categories=("temperature",), reference="B-2")
    released = {"annex-xiii-4": {"state_of_health"}, "annex-xiii-2": set()}
    relied = relied_on([second, first], released, NOW)
    assert [r.as_dict() for r in relied] == [
        {
            "id": 1,
            "reference": "A-1",
            "kind": "security_assessment",
            "authority": "Cyberspace Administration of China",
            "categories": ["state_of_health"],
            "sections": ["annex-xiii-4"],
        }
    ]
    assert section_references(relied) == {"annex-xiii-4": ("A-1",)}


def test_draft_names_the_approval_in_the_gap_report_and_by_section():
    record = read_record_file(RECORDS / "ncm-ev-pack.json")
    approval = covering_everything()
    draft = draft_passport(
        record, mapping=MAPPING, base_url="https://gw.example", approvals=[approval]
    )
    [named] = draft.gaps["policy"]["approvals"]
    assert named["reference"] == APPROVAL["reference"] and named["id"] == 1
    health = {a["key"]: a for a in draft.gaps["attributes"]}["state_of_health"]
    assert health["status"] in ("filled", "partial")
    assert health["access_group"] in named["sections"]
    assert draft.approvals == {s: (APPROVAL["reference"],) for s in named["sections"]}
    carrying = {s for s, document in draft.documents.items() if "stateOfHealth" in document}
    assert carrying and carrying <= set(draft.approvals)


def test_an_expired_approval_releases_nothing():
    record = read_record_file(RECORDS / "ncm-ev-pack.json")
    expired = covering_everything(
        valid_from=NOW - timedelta(days=30), valid_until=NOW - timedelta(days=1)
    )
    draft = draft_passport(
        record, mapping=MAPPING, base_url="https://gw.example", approvals=[expired], at=NOW
    )
    assert draft.gaps["policy"]["approvals"] == [] and draft.approvals == {}
    health = {a["key"]: a for a in draft.gaps["attributes"]}["state_of_health"]
    assert health["status"] == "withheld"
    assert health["reason"].startswith("export of BMS health data needs an approval")
    assert health["source"] == "usage.soh"
