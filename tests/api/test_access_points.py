"""Who reads which Annex XIII point of a passport, over the API: the role x point matrix
of Art. 77(2), grants, the gap report, passports issued under the three earlier access
groups, and sections that relied on an export approval no longer in force."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway import services
from gateway.policy.categories import CATEGORIES
from tests.helpers import RECORDS, assert_problem, grant_body, issue_secrets, store_legacy_passport

CODE = "Z9ZPEN8K52S96AE740000319"  # ncm-ev-pack.json: all four points filled
OTHER = "Z9ZPBS2ESS2801F5A0000088"  # lfp-storage-pack.json, another batch of acme
BATCH = "B2024-07-04-01"  # production.batch of ncm-ev-pack.json
ALL = ["annex-xiii-1", "annex-xiii-2", "annex-xiii-3", "annex-xiii-4"]
PUBLIC = ["annex-xiii-1"]


@pytest.fixture
def parties(api_app: Flask, keys: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """acme's keys (every role) and beta's exporter, plus an EU recycler (importer), a
    market surveillance authority and an admin of tenants of their own."""
    secrets = issue_secrets(
        api_app.extensions["gateway.settings"],
        {"recycler": ("importer",), "msa": ("authority",), "operator": ("admin",)},
    )
    more = {
        "recycler": secrets["recycler"]["importer"],
        "msa": secrets["msa"]["authority"],
        "operator": secrets["operator"]["admin"],
    }
    return {**keys, **{name: {"Authorization": f"Bearer {s}"} for name, s in more.items()}}


def _issue(api: FlaskClient, headers: dict[str, str], name: str = "ncm-ev-pack.json") -> str:
    created = api.post(
        "/passports",
        data=(RECORDS / name).read_bytes(),
        content_type="application/json",
        headers=headers,
    )
    assert created.status_code == 201, created.get_json()
    return str(created.get_json()["batteryCode"])


def _sections(api: FlaskClient, code: str, headers: dict[str, str] | None = None) -> list[str]:
    response = api.get(f"/passports/{code}", headers=headers or {})
    assert response.status_code == 200, response.get_json()
    return sorted(c["accessGroup"] for c in response.get_json()["verifiableCredential"])


def _grant(api: FlaskClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = api.post("/grants", json=grant_body(**fields), headers=headers)
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def test_role_by_point_matrix_without_grants(api, parties) -> None:
    _issue(api, parties["exporter"])
    expected = {
        None: PUBLIC,
        "exporter": ALL,  # the issuing exporter
        "beta": PUBLIC,  # an exporter, foreign to this passport
        "editor": PUBLIC,
        "importer": PUBLIC,  # no grant: point 1 only
        "recycler": PUBLIC,
        "authority": ALL[:3],  # points 1-3, never 4
        "msa": ALL[:3],
        "admin": ALL,
        "operator": ALL,
    }
    for who, sections in expected.items():
        assert _sections(api, CODE, parties[who] if who else None) == sections, who


def test_a_grant_opens_points_2_and_4_of_its_passport_only(api, parties) -> None:
    _issue(api, parties["exporter"])
    _issue(api, parties["exporter"], "lfp-storage-pack.json")
    _grant(api, parties["exporter"])
    assert _sections(api, CODE, parties["recycler"]) == [
        "annex-xiii-1",
        "annex-xiii-2",
        "annex-xiii-4",
    ]
    assert _sections(api, OTHER, parties["recycler"]) == PUBLIC  # another passport
    assert _sections(api, CODE, parties["importer"]) == PUBLIC  # another tenant's key
    # Legitimate-interest holders never read point 3.
    assert "annex-xiii-3" not in _sections(api, CODE, parties["recycler"])


def test_a_grant_to_one_key_opens_for_that_key_only(api, api_app, parties) -> None:
    _issue(api, parties["exporter"])
    second = issue_secrets(api_app.extensions["gateway.settings"], {"recycler-b": ("importer",)})
    one_key = {"Authorization": f"Bearer {second['recycler-b']['importer']}"}
    db = api_app.extensions["gateway.instance"].db
    [key] = services.tenant_keys(db, "recycler-b")
    grant = _grant(api, parties["exporter"], grantee={"key": key.id}, points=[4])
    assert _sections(api, CODE, one_key) == ["annex-xiii-1", "annex-xiii-4"]
    assert _sections(api, CODE, parties["recycler"]) == PUBLIC
    assert api.get("/grants", headers=one_key).get_json()["received"] == [grant]


def test_batch_and_all_grants(api, parties) -> None:
    _issue(api, parties["exporter"])
    _issue(api, parties["exporter"], "lfp-storage-pack.json")
    _grant(api, parties["exporter"], scope="batch", batteryCode=None, batch=BATCH, points=[2])
    assert _sections(api, CODE, parties["recycler"]) == ["annex-xiii-1", "annex-xiii-2"]
    assert _sections(api, OTHER, parties["recycler"]) == PUBLIC  # another batch
    _grant(
        api,
        parties["exporter"],
        scope="all",
        batteryCode=None,
        points=[4],
        purpose="independent_aggregator_energy_market",
    )
    assert _sections(api, CODE, parties["recycler"]) == [
        "annex-xiii-1",
        "annex-xiii-2",
        "annex-xiii-4",
    ]
    assert _sections(api, OTHER, parties["recycler"]) == ["annex-xiii-1", "annex-xiii-4"]


def test_authorities_never_receive_point_4_even_granted(api, parties) -> None:
    _issue(api, parties["exporter"])
    _grant(api, parties["exporter"], grantee={"tenant": "msa"}, points=[4])
    assert _sections(api, CODE, parties["msa"]) == ALL[:3]


def test_expired_pending_and_revoked_grants_open_nothing(api, parties, monkeypatch) -> None:
    _issue(api, parties["exporter"])
    soon = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    grant = _grant(api, parties["exporter"], validUntil=soon)
    assert _sections(api, CODE, parties["recycler"]) != PUBLIC
    # Read again after the grant ended.
    later = datetime.now(UTC) + timedelta(days=31)
    monkeypatch.setattr("gateway.services.passports.utcnow", lambda: later)
    assert _sections(api, CODE, parties["recycler"]) == PUBLIC
    monkeypatch.undo()
    revoked = api.post(
        f"/grants/{grant['id']}/revoke",
        json={"reason": "contract ended"},
        headers=parties["exporter"],
    )
    assert revoked.status_code == 200 and revoked.get_json()["state"] == "revoked"
    assert _sections(api, CODE, parties["recycler"]) == PUBLIC
    pending = _grant(api, parties["exporter"], validFrom="2029-01-01")
    assert pending["state"] == "pending"
    assert _sections(api, CODE, parties["recycler"]) == PUBLIC


def test_a_grant_of_another_issuer_opens_nothing(api, parties) -> None:
    _issue(api, parties["exporter"])
    # beta grants "all its passports" to the recycler: acme's passport stays closed.
    _grant(api, parties["beta"], scope="all", batteryCode=None)
    assert _sections(api, CODE, parties["recycler"]) == PUBLIC
    # And beta cannot name acme's passport: it answers as an unknown one.
    refused = api.post("/grants", json=grant_body(reason="x"), headers=parties["beta"])
    assert_problem(refused, 404, "not-found")


def test_gap_reports_follow_the_points(api, parties) -> None:
    _issue(api, parties["exporter"])
    _grant(api, parties["exporter"])

    def rows(who: str) -> set[str]:
        response = api.get(f"/passports/{CODE}/gaps", headers=parties[who])
        assert response.status_code == 200, response.get_json()
        return {r["access_group"] for r in response.get_json()["attributes"]}

    assert rows("exporter") == set(ALL)
    assert rows("admin") == set(ALL)
    assert rows("msa") == set(ALL[:3])  # authorities: no point-4 rows
    gaps = api.get(f"/passports/{CODE}/gaps", headers=parties["msa"]).get_json()
    assert set(gaps["summary"]["by_section"]) == set(ALL[:3])
    assert gaps["access"] == {
        "table": "art77-2@1.0.0",
        "audience": "authority",
        "points": [1, 2, 3],
        "basis": ["role:authority"],
    }
    mine = api.get(f"/passports/{CODE}/gaps", headers=parties["exporter"]).get_json()
    assert mine["access"]["basis"] == ["issuer"]
    for who in ("recycler", "importer", "beta", "editor"):
        assert_problem(api.get(f"/passports/{CODE}/gaps", headers=parties[who]), 403, "forbidden")
    assert_problem(api.get(f"/passports/{CODE}/gaps"), 401, "unauthorized")


def test_passports_of_the_three_groups_are_served_by_the_same_rules(api, api_app, parties) -> None:
    code = store_legacy_passport(api_app).rsplit("/", 1)[1]
    legacy_all = ["authorities", "legitimate_interest", "public"]
    assert _sections(api, code) == ["public"]
    assert _sections(api, code, parties["exporter"]) == legacy_all
    assert _sections(api, code, parties["admin"]) == legacy_all
    # Authorities read point 3, not the mixed group of points 2 and 4.
    assert _sections(api, code, parties["msa"]) == ["authorities", "public"]
    assert _sections(api, code, parties["recycler"]) == ["public"]
    # A grant of point 2 alone does not open the group that also holds point 4 ...
    _grant(api, parties["exporter"], batteryCode=code, points=[2])
    assert _sections(api, code, parties["recycler"]) == ["public"]
    # ... a grant of both does; the authorities' group stays closed to it.
    _grant(api, parties["exporter"], batteryCode=code, points=[2, 4])
    assert _sections(api, code, parties["recycler"]) == ["legitimate_interest", "public"]


def test_a_section_relying_on_a_lapsed_approval_is_served_to_the_issuer_only(api, parties) -> None:
    approval = api.post(
        "/approvals",
        json={
            "kind": "security_assessment",
            "reference": "CAC-SA-2026-001",
            "authority": "Cyberspace Administration of China",
            "categories": list(CATEGORIES),
            "validFrom": "2026-01-01",
            "validUntil": "2030-12-31",
            "documentSha256": "ab" * 32,
        },
        headers=parties["exporter"],
    )
    assert approval.status_code == 201, approval.get_json()
    _issue(api, parties["exporter"])
    relied = api.get(f"/passports/{CODE}/gaps", headers=parties["exporter"]).get_json()
    sections = {s for a in relied["policy"]["approvals"] for s in a["sections"]}
    assert sections, "the fixture carries BMS health data released by the approval"
    _grant(api, parties["exporter"])
    assert _sections(api, CODE, parties["recycler"]) == [
        "annex-xiii-1",
        "annex-xiii-2",
        "annex-xiii-4",
    ]
    revoked = api.post(
        f"/approvals/{approval.get_json()['id']}/revoke", headers=parties["exporter"]
    )
    assert revoked.status_code == 200, revoked.get_json()
    served = _sections(api, CODE, parties["recycler"])
    assert not sections & set(served)
    assert _sections(api, CODE, parties["exporter"]) == ALL
    assert _sections(api, CODE, parties["admin"]) == ALL
    assert not sections & set(_sections(api, CODE, parties["msa"]))
