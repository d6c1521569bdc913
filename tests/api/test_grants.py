"""Access grants and the access table over the API: who may give, list and revoke grants,
what a malformed grant gets, who may change the table, and that both are audited."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway import services
from tests.helpers import RECORDS, assert_problem, issue_secrets

CODE = "Z9ZPEN8K52S96AE740000319"
BETA_CODE = "Z9ZPEB3SPRS001E9R0000456"  # sparse-pack.json, issued by beta
GOOD: dict[str, Any] = {
    "grantee": {"tenant": "recycler"},
    "scope": "passport",
    "batteryCode": CODE,
    "points": [2, 4],
    "purpose": "dismantling_repair_remanufacturing",
    "validFrom": "2026-01-01",
    "validUntil": "2030-12-31T23:59:59+08:00",
    "reason": "dismantling at the recycler's plant",
}


@pytest.fixture
def world(api: FlaskClient, api_app: Flask, keys: dict[str, dict[str, str]]) -> dict[str, Any]:
    """acme's passport of CODE, beta's of BETA_CODE, and an EU recycler tenant."""
    secret = issue_secrets(api_app.extensions["gateway.settings"], {"recycler": ("importer",)})
    keys = {**keys, "recycler": {"Authorization": f"Bearer {secret['recycler']['importer']}"}}
    for who, name in (("exporter", "ncm-ev-pack.json"), ("beta", "sparse-pack.json")):
        created = api.post(
            "/passports",
            data=(RECORDS / name).read_bytes(),
            content_type="application/json",
            headers=keys[who],
        )
        assert created.status_code == 201, created.get_json()
    return keys


def _audit(api_app: Flask, subject: str) -> list[Any]:
    return services.audit_entries(api_app.extensions["gateway.instance"].db, subject=subject)


def test_give_list_and_revoke_a_grant(api, api_app, world) -> None:
    created = api.post("/grants", json=GOOD, headers=world["exporter"])
    assert created.status_code == 201, created.get_json()
    grant = created.get_json()
    assert grant["issuer"] == "acme" and grant["grantee"] == {"tenant": "recycler"}
    assert grant["points"] == [2, 4] and grant["state"] == "active"
    assert grant["validFrom"] == "2025-12-31T16:00:00Z"
    assert grant["validUntil"] == "2030-12-31T15:59:59Z"
    assert api.get("/grants", headers=world["exporter"]).get_json()["given"] == [grant]
    assert api.get("/grants", headers=world["recycler"]).get_json() == {
        "given": [],
        "received": [grant],
    }
    # beta neither gave nor received it; an admin sees every tenant's grants.
    assert api.get("/grants", headers=world["beta"]).get_json() == {"given": [], "received": []}
    assert [g["id"] for g in api.get("/grants", headers=world["admin"]).get_json()["given"]] == [
        grant["id"]
    ]
    url = f"/grants/{grant['id']}/revoke"
    # Only the issuing exporter or an admin revokes; another issuer does not find it.
    assert_problem(api.post(url, json={"reason": "x"}), 401, "unauthorized")
    assert_problem(api.post(url, json={"reason": "x"}, headers=world["recycler"]), 403)
    assert_problem(api.post(url, json={"reason": "x"}, headers=world["beta"]), 404, "not-found")
    assert_problem(api.post(url, json={}, headers=world["exporter"]), 422, "invalid-input")
    revoked = api.post(url, json={"reason": "contract ended"}, headers=world["exporter"])
    assert revoked.status_code == 200
    assert revoked.get_json()["state"] == "revoked"
    assert revoked.get_json()["revokeReason"] == "contract ended"
    assert_problem(
        api.post(url, json={"reason": "again"}, headers=world["exporter"]), 409, "conflict"
    )
    assert_problem(
        api.post("/grants/999/revoke", json={"reason": "x"}, headers=world["admin"]), 404
    )
    events = _audit(api_app, f"grant:{grant['id']}")
    assert [e.action for e in events] == ["grant.added", "grant.revoked"]
    assert events[0].data["points"] == [2, 4] and events[0].data["grantee"] == {
        "tenant": "recycler"
    }
    assert events[1].data == {"reason": "contract ended"}


def test_who_may_give_grants(api, world) -> None:
    assert_problem(api.post("/grants", json=GOOD), 401, "unauthorized")
    for role in ("importer", "authority", "editor", "recycler"):
        assert_problem(api.post("/grants", json=GOOD, headers=world[role]), 403, "forbidden")
    assert_problem(api.get("/grants"), 401, "unauthorized")
    # An admin grants for the passport's issuer; for a batch or all it names the issuer.
    by_admin = api.post("/grants", json=GOOD, headers=world["admin"])
    assert by_admin.status_code == 201 and by_admin.get_json()["issuer"] == "acme"
    batch = {**GOOD, "scope": "batch", "batch": "B2024-07-04-01", "issuer": "beta"}
    del batch["batteryCode"]
    assert api.post("/grants", json=batch, headers=world["admin"]).get_json()["issuer"] == "beta"
    # An exporter names only itself as the issuer.
    assert_problem(api.post("/grants", json=batch, headers=world["exporter"]), 403, "forbidden")


@pytest.mark.parametrize(
    ("change", "status", "pointer"),
    [
        ({"purpose": "marketing"}, 422, "/purpose"),
        ({"points": [1]}, 422, "/points"),
        ({"points": [3]}, 422, "/points"),
        ({"points": [2, 3]}, 422, "/points"),
        ({"points": []}, 422, "/points"),
        ({"points": ["2"]}, 422, "/points/0"),
        ({"validFrom": "2030-01-01", "validUntil": "2029-01-01"}, 422, "/validUntil"),
        ({"validFrom": "2026-01-01", "validUntil": "2025-12-31"}, 422, "/validUntil"),
        ({"validFrom": "2020-01-01", "validUntil": "2031-01-01"}, 422, "/validUntil"),
        ({"validFrom": "2020-01-01", "validUntil": "2021-01-01"}, 422, "/validUntil"),
        ({"validUntil": "next year"}, 422, "/validUntil"),
        ({"validUntil": "2030-12-31T12:00:00"}, 422, "/validUntil"),
        ({"validFrom": "２０２６-01-01"}, 422, "/validFrom"),
        ({"validFrom": "0001-01-01T00:00:00+14:00"}, 422, "/validFrom"),
        ({"validUntil": "9999-12-31T23:59:59-14:00"}, 422, "/validUntil"),
        ({"validUntil": "9999-12-31T24:00:00Z"}, 422, "/validUntil"),
        ({"grantee": {"tenant": "nobody"}}, 422, "/grantee/tenant"),
        ({"grantee": {"key": 999}}, 422, "/grantee/key"),
        ({"grantee": {"tenant": "recycler", "key": 1}}, 422, "/grantee"),
        ({"grantee": {}}, 422, "/grantee"),
        ({"scope": "everything"}, 422, "/scope"),
        ({"batteryCode": BETA_CODE}, 404, "/batteryCode"),
        ({"batteryCode": "Z9ZPEN8K52S96AE740009999"}, 404, "/batteryCode"),
        ({"scope": "batch"}, 422, "/batteryCode"),
        ({"scope": "all", "batteryCode": None, "batch": "B1"}, 422, "/batch"),
        ({"scope": "batch", "batteryCode": None}, 422, "/batch"),
        ({"reason": " "}, 422, "/reason"),
        ({"reason": "x" * 1001}, 422, "/reason"),
        ({"extra": True}, 422, "/"),
    ],
)
def test_malformed_grants_are_refused_naming_the_field(
    api, world, change: dict[str, Any], status: int, pointer: str
) -> None:
    body = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    problem = assert_problem(api.post("/grants", json=body, headers=world["exporter"]), status)
    assert problem["pointer"] == pointer, problem
    assert api.get("/grants", headers=world["exporter"]).get_json()["given"] == []


def test_a_missing_field_or_a_body_that_is_not_json_is_refused(api, world) -> None:
    for field in ("grantee", "points", "purpose", "validUntil", "reason"):
        body = {k: v for k, v in GOOD.items() if k != field}
        assert_problem(api.post("/grants", json=body, headers=world["exporter"]), 422)
    bad = api.post(
        "/grants",
        data=b'{"reason": "a", "reason": "b"}',
        content_type="application/json",
        headers=world["exporter"],
    )
    assert_problem(bad, 400, "malformed-body")
    assert_problem(
        api.post("/grants", data=b"x", content_type="text/plain", headers=world["exporter"]), 415
    )


# -- the access table ----------------------------------------------------------------------


def _rows(table: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(row) for row in table["audiences"]]


def test_the_shipped_table_is_the_letter_of_article_77_2(api) -> None:
    table = api.get("/access-table").get_json()  # anyone may read it
    assert table["ref"] == "art77-2@1.0.0" and table["source"] == "shipped"
    points = {row["audience"]: row["points"] for row in table["audiences"]}
    assert points == {
        "public": [1],
        "authority": [1, 2, 3],
        "legitimate_interest": [1, 2, 4],
        "issuer": [1, 2, 3, 4],
    }
    roles = {row["audience"]: row["roles"] for row in table["audiences"]}
    assert roles == {
        "public": ["anonymous", "exporter", "editor", "importer"],
        "authority": ["authority"],
        "legitimate_interest": [],
        "issuer": ["admin"],
    }


def test_changing_the_table_needs_an_admin_and_is_audited(api, api_app, keys) -> None:
    table = api.get("/access-table").get_json()
    rows = _rows(table)
    # Authorities read points 1 and 2 only (say, until notified bodies are identified).
    rows[1]["points"] = [1, 2]
    body = {"version": "1.1.0", "reason": "narrower authority access", "audiences": rows}
    assert_problem(api.put("/access-table", json=body), 401, "unauthorized")
    for role in ("exporter", "importer", "authority", "editor"):
        assert_problem(api.put("/access-table", json=body, headers=keys[role]), 403, "forbidden")
    changed = api.put("/access-table", json=body, headers=keys["admin"])
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["ref"] == "art77-2@1.1.0"
    assert changed.get_json()["source"] == "database"
    assert api.get("/access-table").get_json() == changed.get_json()
    [event] = _audit(api_app, "access-table:art77-2@1.1.0")
    assert event.action == "access_table.set" and event.actor.startswith("tenant:acme/key:")
    assert event.data == {"sha256": changed.get_json()["sha256"], "reason": body["reason"]}
    assert_problem(api.put("/access-table", json=body, headers=keys["admin"]), 409, "conflict")
    # The new table decides at once.
    created = api.post(
        "/passports",
        data=(RECORDS / "ncm-ev-pack.json").read_bytes(),
        content_type="application/json",
        headers=keys["exporter"],
    )
    assert created.status_code == 201
    seen = api.get(f"/passports/{CODE}", headers=keys["authority"]).get_json()
    assert sorted(c["accessGroup"] for c in seen["verifiableCredential"]) == [
        "annex-xiii-1",
        "annex-xiii-2",
    ]


def _broken(change: Any) -> list[dict[str, Any]]:
    rows = [
        {
            "audience": "public",
            "points": [1],
            "roles": ["anonymous", "exporter", "editor", "importer"],
            "legalBasis": "a",
        },
        {"audience": "authority", "points": [1, 2, 3], "roles": ["authority"], "legalBasis": "b"},
        {"audience": "legitimate_interest", "points": [1, 2, 4], "roles": [], "legalBasis": "c"},
        {"audience": "issuer", "points": [1, 2, 3, 4], "roles": ["admin"], "legalBasis": "d"},
    ]
    change(rows)
    return rows


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        (lambda r: r[0].update(points=[1, 2]), "/audiences/0/points"),
        (lambda r: r[1].update(points=[2, 3]), "/audiences/1/points"),
        (lambda r: r[3].update(points=[1, 2, 3]), "/audiences/3/points"),
        (lambda r: r[2].update(roles=["importer"]), "/audiences/2/roles"),
        (lambda r: r[0].update(roles=["exporter", "editor", "importer"]), "/audiences/0/roles"),
        (lambda r: r[1].update(roles=["authority", "importer"]), "/audiences"),
        (lambda r: r[3].update(roles=[]), "/audiences"),
        (lambda r: r[3].update(audience="public"), "/audiences/3/audience"),
        (lambda r: r[3].update(legalBasis=" "), "/audiences/3/legalBasis"),
    ],
)
def test_a_table_breaking_a_rule_is_refused(api, keys, change, pointer) -> None:
    body = {"version": "2.0.0", "reason": "try", "audiences": _broken(change)}
    problem = assert_problem(api.put("/access-table", json=body, headers=keys["admin"]), 422)
    assert problem["pointer"] == pointer, problem
    assert api.get("/access-table").get_json()["ref"] == "art77-2@1.0.0"


@pytest.mark.parametrize(
    "body",
    [
        {"version": "2.0", "reason": "x", "audiences": _broken(lambda r: None)},
        {"version": "1.0.0", "reason": "x", "audiences": _broken(lambda r: None)},
        {"version": "2.0.0", "reason": "x", "audiences": _broken(lambda r: None)[:3]},
        {"version": "2.0.0", "reason": "", "audiences": _broken(lambda r: None)},
        {"version": "2.0.0", "reason": "x", "name": "Art 77", "audiences": _broken(lambda r: None)},
    ],
)
def test_a_malformed_table_request_is_refused(api, keys, body) -> None:
    assert_problem(api.put("/access-table", json=body, headers=keys["admin"]), 422)
