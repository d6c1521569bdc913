"""A tenant's tightening of the data policy over the API: who may read and set it,
malformed and loosening rules, versions, audit, and its effect on issuance."""

from __future__ import annotations

import json

import pytest

from gateway import services
from tests.helpers import RECORDS, assert_problem


def _put(api, headers, rules, tenant: str | None = None):
    return api.put(
        "/tenant-policy",
        headers=headers,
        json={"rules": rules},
        query_string={"tenant": tenant} if tenant else None,
    )


def _issue(api, headers, serial: str) -> dict:
    record = json.loads((RECORDS / "ncm-ev-pack.json").read_text(encoding="utf-8"))
    record["battery"]["code"] = record["battery"]["code"][:17] + serial
    created = api.post("/passports", headers=headers, json=record)
    assert created.status_code == 201, created.get_json()
    body: dict = created.get_json()
    return body


def _status(issued: dict, key: str) -> str:
    return next(a["status"] for a in issued["gaps"]["attributes"] if a["key"] == key)


@pytest.mark.parametrize("method", ["get", "put"])
def test_anonymous_callers_are_refused(api, method):
    assert_problem(getattr(api, method)("/tenant-policy", json={"rules": {}}), 401, "unauthorized")


@pytest.mark.parametrize("role", ["importer", "authority", "editor"])
@pytest.mark.parametrize("method", ["get", "put"])
def test_other_roles_are_refused_before_the_body_is_read(api, keys, role, method):
    response = getattr(api, method)("/tenant-policy", headers=keys[role], data=b"[")
    assert_problem(response, 403, "forbidden")


def test_an_exporter_reads_and_sets_its_tenants_policy_in_versions(api_app, api, keys):
    shipped = api.get("/tenant-policy", headers=keys["exporter"]).get_json()
    assert shipped == {
        "tenant": "acme",
        "version": 0,
        "base": "cn-export@1.2.0",
        "applied": "cn-export@1.2.0",
        "rules": {},
        "setBy": None,
        "setAt": None,
    }
    first = _put(api, keys["exporter"], {"usage.soc": "withhold", "events.party": "aggregate_only"})
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["version"] == 1
    assert first.get_json()["applied"] == "cn-export@1.2.0+tenant:acme@1"
    second = _put(api, keys["exporter"], {"specs": "withhold"}).get_json()
    assert (second["version"], second["rules"]) == (2, {"specs": "withhold"})
    assert api.get("/tenant-policy", headers=keys["exporter"]).get_json() == second
    cleared = _put(api, keys["exporter"], {}).get_json()
    assert (cleared["version"], cleared["rules"]) == (3, {})
    db = api_app.extensions["gateway.instance"].db
    events = services.audit_entries(db, subject="tenant-policy:acme")
    assert [e.data["version"] for e in events] == [1, 2, 3]
    assert events[0].data["rules"] == {"events.party": "aggregate_only", "usage.soc": "withhold"}


def test_tenants_never_reach_each_others_policy(api, keys):
    _put(api, keys["exporter"], {"specs": "withhold"})
    beta = api.get("/tenant-policy", headers=keys["beta"]).get_json()
    assert (beta["tenant"], beta["rules"]) == ("beta", {})
    other = api.get("/tenant-policy", headers=keys["beta"], query_string={"tenant": "acme"})
    assert_problem(other, 403, "forbidden")
    assert_problem(_put(api, keys["beta"], {}, tenant="acme"), 403, "forbidden")
    assert api.get("/tenant-policy", headers=keys["exporter"]).get_json()["version"] == 1


def test_an_admin_names_the_tenant(api, keys):
    set_ = _put(api, keys["admin"], {"usage": "withhold"}, tenant="beta")
    assert set_.status_code == 200 and set_.get_json()["tenant"] == "beta"
    seen = api.get("/tenant-policy", headers=keys["admin"], query_string={"tenant": "beta"})
    assert seen.get_json()["rules"] == {"usage": "withhold"}
    missing = api.get("/tenant-policy", headers=keys["admin"], query_string={"tenant": "nobody"})
    assert_problem(missing, 404, "not-found")


@pytest.mark.parametrize(
    ("rules", "status", "slug", "pointer"),
    [
        ({"vehicle.vin": "export"}, 422, "policy-invalid", "/rules/vehicle.vin"),
        ({"usage.soh": "aggregate_only"}, 422, "policy-invalid", "/rules/usage.soh"),
        ({"events": "withhold", "events.party": "export"}, 422, "policy-invalid",
         "/rules/events.party"),
        ({"specs.mass": "approval_required"}, 422, "policy-invalid", "/rules/specs.mass"),
        ({"usage.sohh": "withhold"}, 422, "invalid-input", "/rules/usage.sohh"),
        ({"Usage/soh": "withhold"}, 422, "invalid-input", "/rules"),
        ({"usage.soh": "secret"}, 422, "invalid-input", "/rules/usage.soh"),
        ({"x" * 201: "withhold"}, 422, "invalid-input", None),
    ],
)  # fmt: skip
def test_loosening_and_malformed_rules_are_refused_naming_the_path(
    api, keys, rules, status, slug, pointer
):
    body = assert_problem(_put(api, keys["exporter"], rules), status, slug)
    if pointer is not None:
        assert body["pointer"] == pointer, body
    assert api.get("/tenant-policy", headers=keys["exporter"]).get_json()["version"] == 0


def test_malformed_bodies_are_refused(api, keys):
    headers = keys["exporter"]
    broken = api.put("/tenant-policy", headers=headers, data=b"{", content_type="application/json")
    assert_problem(broken, 400, "malformed-body")
    assert_problem(api.put("/tenant-policy", headers=headers, data="x"), 415)
    assert_problem(api.put("/tenant-policy", headers=headers, json={"rule": {}}), 422)
    assert_problem(api.put("/tenant-policy", headers=headers, json={"rules": []}), 422)
    many = {f"usage.soc{i}": "withhold" for i in range(501)}
    assert_problem(api.put("/tenant-policy", headers=headers, json={"rules": many}), 422)


def test_every_conversion_of_the_tenant_follows_its_newest_policy(api, keys):
    assert _status(_issue(api, keys["exporter"], "0000901"), "manufacturing_date") == "filled"
    _put(api, keys["exporter"], {"production.date": "withhold"})
    tightened = _issue(api, keys["exporter"], "0000902")
    assert _status(tightened, "manufacturing_date") == "withheld"
    assert tightened["gaps"]["policy"]["applied"] == "cn-export@1.2.0+tenant:acme@1"
    assert _status(_issue(api, keys["beta"], "0000903"), "manufacturing_date") == "filled"
    _put(api, keys["exporter"], {})
    assert _status(_issue(api, keys["exporter"], "0000904"), "manufacturing_date") == "filled"
