"""Export approvals over the API: who may record, list and revoke them, malformed
bodies, and what issuance does with approvals in force, expired or revoked."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway import services
from gateway.vocab.forms import plain_value
from tests.helpers import APPROVAL, RECORDS, assert_problem, issue_keys, make_app

ROUTES = (("get", "/approvals"), ("post", "/approvals"), ("post", "/approvals/1/revoke"))


def _add(api, headers, tenant: str | None = None, **changes: Any):
    return api.post(
        "/approvals",
        headers=headers,
        json={**APPROVAL, **changes},
        query_string={"tenant": tenant} if tenant else None,
    )


def _issue(api, headers, name: str = "ncm-ev-pack.json", serial: str | None = None) -> dict:
    record = json.loads((RECORDS / name).read_text(encoding="utf-8"))
    if serial is not None:
        record["battery"]["code"] = record["battery"]["code"][:17] + serial
    created = api.post("/passports", headers=headers, json=record)
    assert created.status_code == 201, created.get_json()
    body: dict = created.get_json()
    return body


def _health(issued: dict) -> dict[str, Any]:
    """The health attributes of an issued passport's credentials, by term (their
    values: context v3 writes each as a node with its unit and measurement time)."""
    found: dict[str, Any] = {}
    for credential in issued["credentials"].values():
        subject = credential["credentialSubject"]
        for term in ("stateOfHealth", "stateOfCharge", "numberOfFullCycles", "remainingCapacity"):
            if term in subject:
                found[term] = plain_value(subject[term])
    return found


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anonymous_callers_are_refused(api, method, path):
    response = getattr(api, method)(path, json=APPROVAL)
    assert_problem(response, 401, "unauthorized")


@pytest.mark.parametrize("role", ["importer", "authority", "editor"])
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_other_roles_are_refused_before_the_body_is_read(api, keys, role, method, path):
    response = getattr(api, method)(path, headers=keys[role], data=b"{not json")
    assert_problem(response, 403, "forbidden")


def test_an_exporter_records_lists_and_revokes_its_own(api, keys):
    created = _add(api, keys["exporter"])
    assert created.status_code == 201, created.get_json()
    approval = created.get_json()
    assert approval["tenant"] == "acme" and approval["inForce"] is True
    assert approval["categories"] == APPROVAL["categories"]
    assert approval["validFrom"] == "2025-12-31T16:00:00Z"  # 2026-01-01 00:00 CST
    listed = api.get("/approvals", headers=keys["exporter"]).get_json()["items"]
    assert [a["id"] for a in listed] == [approval["id"]]
    revoked = api.post(f"/approvals/{approval['id']}/revoke", headers=keys["exporter"])
    assert revoked.status_code == 200
    assert revoked.get_json()["inForce"] is False and revoked.get_json()["revokedAt"]
    again = api.post(f"/approvals/{approval['id']}/revoke", headers=keys["exporter"])
    assert_problem(again, 409, "conflict")
    assert_problem(_add(api, keys["exporter"]), 409, "conflict")  # same kind and reference


def test_tenants_never_reach_each_others_approvals(api, keys):
    approval = _add(api, keys["exporter"]).get_json()
    assert api.get("/approvals", headers=keys["beta"]).get_json() == {"items": []}
    other = api.get("/approvals", headers=keys["beta"], query_string={"tenant": "acme"})
    assert_problem(other, 403, "forbidden")
    assert_problem(_add(api, keys["beta"], tenant="acme"), 403, "forbidden")
    stolen = api.post(f"/approvals/{approval['id']}/revoke", headers=keys["beta"])
    assert_problem(stolen, 404, "not-found")
    assert api.get("/approvals", headers=keys["exporter"]).get_json()["items"][0]["inForce"]


def test_an_admin_manages_any_tenants_approvals(api, keys):
    _add(api, keys["exporter"])
    for_beta = _add(api, keys["admin"], tenant="beta")
    assert for_beta.status_code == 201 and for_beta.get_json()["tenant"] == "beta"
    every = api.get("/approvals", headers=keys["admin"]).get_json()["items"]
    assert sorted(a["tenant"] for a in every) == ["acme", "beta"]
    only = api.get("/approvals", headers=keys["admin"], query_string={"tenant": "beta"})
    assert [a["tenant"] for a in only.get_json()["items"]] == ["beta"]
    assert_problem(_add(api, keys["admin"], tenant="nobody"), 404, "not-found")
    too_long = api.get("/approvals", headers=keys["admin"], query_string={"tenant": "x" * 101})
    assert_problem(too_long, 422, "invalid-input")
    revoked = api.post(f"/approvals/{for_beta.get_json()['id']}/revoke", headers=keys["admin"])
    assert revoked.status_code == 200


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"documentSha256": "not-a-digest"}, "/documentSha256"),
        ({"documentSha256": "A" * 64}, "/documentSha256"),
        ({"validFrom": "2027-01-01", "validUntil": "2026-12-31"}, "/validUntil"),
        ({"validFrom": "01/01/2026"}, "/validFrom"),
        ({"validFrom": "0001-01-01"}, "/validFrom"),
        ({"validFrom": "0001-01-01T00:00:00+14:00"}, "/validFrom"),
        ({"validUntil": "9999-12-31"}, "/validUntil"),
        ({"validUntil": "9999-12-31T23:59:59-14:00"}, "/validUntil"),
        ({"categories": ["state_of_health", "vin_history"]}, "/categories/1"),
        ({"categories": []}, "/categories"),
        ({"kind": "verbal_assurance"}, "/kind"),
        ({"reference": ""}, "/reference"),
        ({"authority": "CAC\u200b"}, "/authority"),
        ({"extra": 1}, "/"),
    ],
)
def test_a_malformed_approval_is_a_422_naming_the_field(api, keys, change, pointer):
    body = assert_problem(_add(api, keys["exporter"], **change), 422, "invalid-input")
    assert body["pointer"] == pointer, body
    assert api.get("/approvals", headers=keys["exporter"]).get_json() == {"items": []}


def test_a_body_that_is_not_json_is_refused(api, keys):
    broken = api.post(
        "/approvals", headers=keys["exporter"], data=b'{"kind": ', content_type="application/json"
    )
    assert_problem(broken, 400, "malformed-body")
    form = api.post("/approvals", headers=keys["exporter"], data={"kind": "exemption"})
    assert_problem(form, 415, "unsupported-media-type")
    missing = api.post("/approvals", headers=keys["exporter"], json={"kind": "exemption"})
    assert_problem(missing, 422, "invalid-input")
    assert_problem(api.post("/approvals/999/revoke", headers=keys["exporter"]), 404)
    assert (
        api.post("/approvals/99999999999999999999/revoke", headers=keys["admin"]).status_code == 404
    )


def test_adding_and_revoking_are_audited(api_app, api, keys):
    approval = _add(api, keys["exporter"]).get_json()
    api.post(f"/approvals/{approval['id']}/revoke", headers=keys["exporter"])
    db = api_app.extensions["gateway.instance"].db
    events = services.audit_entries(db, subject=f"approval:{approval['id']}")
    assert [e.action for e in events] == ["approval.added", "approval.revoked"]
    assert events[0].data["reference"] == APPROVAL["reference"]
    assert events[0].actor.startswith("tenant:acme/key:")
    assert services.check_audit(db).intact


def test_health_data_leaves_only_under_an_approval_in_force(api, keys):
    without = _issue(api, keys["exporter"], serial="0000801")
    assert _health(without) == {}
    gaps = {a["key"]: a for a in without["gaps"]["attributes"]}
    assert gaps["state_of_health"]["status"] == "withheld"
    assert gaps["state_of_health"]["reason"].startswith(
        "export of BMS health data needs an approval"
    )
    approval = _add(api, keys["exporter"]).get_json()
    under = _issue(api, keys["exporter"], serial="0000802")
    subjects = [c["credentialSubject"] for c in under["credentials"].values()]
    [soh] = [s["stateOfHealth"] for s in subjects if "stateOfHealth" in s]
    assert soh["measuredAt"] == "2026-04-30T00:00:00Z"  # the record's usage.as_of
    assert _health(under) == {
        "stateOfHealth": "96.8",
        "stateOfCharge": "80",
        "numberOfFullCycles": 210,
        "remainingCapacity": "145.2",
    }
    [named] = under["gaps"]["policy"]["approvals"]
    assert (named["id"], named["reference"]) == (approval["id"], APPROVAL["reference"])
    for section, credential in under["credentials"].items():
        carries = any(t in credential["credentialSubject"] for t in ("stateOfHealth",))
        if carries:
            assert section in named["sections"]
            assert credential["exportApproval"] == APPROVAL["reference"]
    # Another tenant's approval does nothing for beta's passports.
    assert _health(_issue(api, keys["beta"], serial="0000803")) == {}


def test_an_expired_or_revoked_approval_is_not_relied_on(api, keys):
    expired = _add(api, keys["exporter"], validFrom="2025-01-01", validUntil="2025-12-31")
    assert expired.status_code == 201 and expired.get_json()["inForce"] is False
    issued = _issue(api, keys["exporter"], serial="0000811")
    assert _health(issued) == {} and issued["gaps"]["policy"]["approvals"] == []
    current = _add(api, keys["exporter"], reference="CAC-SA-2026-0043").get_json()
    assert _health(_issue(api, keys["exporter"], serial="0000812"))
    api.post(f"/approvals/{current['id']}/revoke", headers=keys["exporter"])
    after = _issue(api, keys["exporter"], serial="0000813")
    assert _health(after) == {} and after["gaps"]["policy"]["approvals"] == []
    assert all("exportApproval" not in c for c in after["credentials"].values())


def test_approvals_on_postgresql_too(tmp_path, backend_url):
    app = make_app(tmp_path / "instance", backend_url)
    try:
        keys = issue_keys(app.extensions["gateway.settings"])
        api = app.test_client()
        approval = _add(api, keys["exporter"]).get_json()
        assert _health(_issue(api, keys["exporter"], serial="0000821"))
        revoked = api.post(f"/approvals/{approval['id']}/revoke", headers=keys["exporter"])
        assert revoked.get_json()["inForce"] is False
        assert _health(_issue(api, keys["exporter"], serial="0000822")) == {}
    finally:
        app.extensions["gateway.instance"].db.dispose()
