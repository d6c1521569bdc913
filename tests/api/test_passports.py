"""Convert, read, list and change passports through the API."""

from __future__ import annotations

import json

import pytest

from gateway.annex_xiii import SECTIONS
from tests.helpers import RECORDS, assert_problem, issue_keys, make_app

CODE = "Z9ZPEN8K52S96AE740000319"


def _create(api, keys, body, role="exporter", **kw):
    return api.post(
        "/passports",
        data=body,
        content_type="application/json",
        headers={**keys[role], **kw.pop("headers", {})},
        **kw,
    )


def test_create_verify_revoke(tmp_path, backend_url) -> None:
    app = make_app(tmp_path / "instance", backend_url)
    try:
        api = app.test_client()
        keys = issue_keys(app.extensions["gateway.settings"])
        created = _create(api, keys, (RECORDS / "ncm-ev-pack.json").read_bytes())
        assert created.status_code == 201, created.json
        assert created.headers["Location"] == f"/passports/{CODE}"
        body = created.json
        assert body["id"] == f"https://gw.example/passports/{CODE}"
        # One credential per Annex XIII point; the NCM pack fills all four.
        assert list(body["credentials"]) == list(SECTIONS)
        assert body["gaps"]["summary"]["by_status"]["filled"] > 0
        public = body["credentials"]["annex-xiii-1"]
        status_urls = {e["statusListCredential"] for e in public["credentialStatus"]}
        assert all(u.startswith("https://gw.example/status-lists/") for u in status_urls)
        for url in status_urls:  # every list URL resolves to a signed list
            listed = api.get(url.removeprefix("https://gw.example"))
            assert listed.status_code == 200 and listed.mimetype == "application/vc"
            document = json.loads(listed.data)
            assert "BitstringStatusListCredential" in document["type"]
            assert document["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
        verdict = api.post("/credentials/verify", json={"verifiableCredential": public})
        assert verdict.status_code == 200 and verdict.json["verified"], verdict.json
        revoked = api.post(
            f"/passports/{CODE}/revoke", json={"reason": "recall"}, headers=keys["exporter"]
        )
        assert revoked.status_code == 200 and revoked.json["status"] == "revoked"
        verdict = api.post("/credentials/verify", json={"verifiableCredential": public})
        body = assert_problem(verdict, 400, "verification-failed")
        assert body["verified"] is False
        failed = {c["id"] for c in body["checks"] if not c["ok"]}
        assert failed == {"status.revocation", "status.suspension"}
        assert_problem(
            api.post(f"/passports/{CODE}/unsuspend", headers=keys["exporter"]), 409, "conflict"
        )
    finally:
        app.extensions["gateway.instance"].db.dispose()


def test_xml_record_and_jwt_format(api, keys) -> None:
    created = api.post(
        "/passports?format=jwt",
        data=(RECORDS / "ncm-ev-pack.xml").read_bytes(),
        content_type="application/xml",
        headers=keys["exporter"],
    )
    assert created.status_code == 201, created.json
    token = created.json["credentials"]["annex-xiii-1"]
    assert isinstance(token, str) and token.count(".") == 2
    verdict = api.post("/credentials/verify", data=token, content_type="application/vc+jwt")
    assert verdict.json["verified"], verdict.json
    verdict = api.post("/credentials/verify", json={"verifiableCredential": token})
    assert verdict.json["verified"]


def test_battery_with_a_passport_is_a_conflict(api, keys, record_json) -> None:
    assert _create(api, keys, record_json).status_code == 201
    body = assert_problem(_create(api, keys, record_json), 409, "conflict")
    assert body["pointer"] == "/battery/code"
    assert_problem(_create(api, keys, record_json, role="beta"), 409, "conflict")


def test_idempotency_key(api, keys, record_json) -> None:
    key = {"Idempotency-Key": "order-17"}
    first = _create(api, keys, record_json, headers=key)
    again = _create(api, keys, record_json, headers=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["created"] is False
    assert again.json["credentials"] == first.json["credentials"]
    other = (RECORDS / "sparse-pack.json").read_bytes()
    assert_problem(_create(api, keys, other, headers=key), 409, "conflict")
    listed = api.get("/passports", headers=keys["exporter"]).json["items"]
    assert [p["batteryCode"] for p in listed] == [first.json["batteryCode"]]


def test_what_each_role_sees(api, keys, record_json) -> None:
    assert _create(api, keys, record_json).status_code == 201

    def points(headers):
        response = api.get(f"/passports/{CODE}", headers=headers)
        assert response.status_code == 200 and response.mimetype == "application/ld+json"
        assert response.json["type"] == ["VerifiablePresentation"]
        names = sorted(c["accessGroup"] for c in response.json["verifiableCredential"])
        return [int(name.removeprefix("annex-xiii-")) for name in names]

    assert points({}) == [1]
    assert points(keys["beta"]) == [1]  # another tenant's exporter
    assert points(keys["editor"]) == [1]
    assert points(keys["importer"]) == [1]  # legitimate interest is granted, not assumed
    assert points(keys["authority"]) == [1, 2, 3]  # never point 4 (Art. 77(2)(b))
    assert points(keys["admin"]) == [1, 2, 3, 4]
    assert points(keys["exporter"]) == [1, 2, 3, 4]  # the issuing tenant


def test_html_page_for_browsers(api, keys, record_json) -> None:
    assert _create(api, keys, record_json).status_code == 201
    page = api.get(f"/passports/{CODE}", headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert CODE in text and "Annex XIII point 1: public information" in text
    assert "Annex XIII point 2" not in text and "Annex XIII point 3" not in text


def test_tenant_isolation(api, keys, record_json) -> None:
    assert _create(api, keys, record_json).status_code == 201
    other = json.loads((RECORDS / "sparse-pack.json").read_text())
    assert _create(api, keys, json.dumps(other), role="beta").status_code == 201

    def listed(role):
        response = api.get("/passports", headers=keys[role])
        assert response.status_code == 200, response.json
        return sorted(p["batteryCode"] for p in response.json["items"])

    assert listed("exporter") == [CODE]
    assert listed("beta") == [other["battery"]["code"]]
    assert len(listed("authority")) == len(listed("admin")) == 2
    assert_problem(api.get("/passports"), 401, "unauthorized")
    # Only the issuing exporter (and admins) may change a passport's status.
    assert_problem(api.post(f"/passports/{CODE}/revoke", headers=keys["beta"]), 403)
    assert_problem(api.post(f"/passports/{CODE}/suspend", headers=keys["importer"]), 403)
    assert_problem(api.post(f"/passports/{CODE}/suspend"), 401)
    # Gap reports: the issuing tenant, authorities and admins.
    assert api.get(f"/passports/{CODE}/gaps", headers=keys["exporter"]).status_code == 200
    assert api.get(f"/passports/{CODE}/gaps", headers=keys["authority"]).status_code == 200
    assert_problem(api.get(f"/passports/{CODE}/gaps", headers=keys["beta"]), 403, "forbidden")
    assert_problem(api.get(f"/passports/{CODE}/gaps"), 401, "unauthorized")


@pytest.mark.parametrize("role", ["importer", "authority", "editor"])
def test_only_exporters_and_admins_issue(api, keys, record_json, role) -> None:
    assert_problem(_create(api, keys, record_json, role=role), 403, "forbidden")


def test_suspend_unsuspend_and_supersede(api, keys, record_json) -> None:
    created = _create(api, keys, record_json).json
    successor = _create(api, keys, (RECORDS / "echelon-pack.json").read_bytes())
    assert successor.status_code == 201, successor.json
    public = created["credentials"]["annex-xiii-1"]

    def verified():
        # A failed verification is a 400 problem that still carries the checks.
        return api.post("/credentials/verify", json={"verifiableCredential": public}).json

    assert (
        api.post(f"/passports/{CODE}/suspend", headers=keys["exporter"]).json["status"]
        == "suspended"
    )
    assert [c["id"] for c in verified()["checks"] if not c["ok"]] == ["status.suspension"]
    assert api.post(f"/passports/{CODE}/unsuspend", headers=keys["admin"]).status_code == 200
    assert verified()["verified"]
    assert_problem(
        api.post(f"/passports/{CODE}/supersede", json={}, headers=keys["exporter"]),
        422,
        "invalid-input",
    )
    changed = api.post(
        f"/passports/{CODE}/supersede",
        json={"successor": successor.json["batteryCode"]},
        headers=keys["exporter"],
    )
    assert changed.status_code == 200 and changed.json["supersededBy"] == successor.json["id"]
    reasons = [c["reason"] for c in verified()["checks"] if c["id"] == "status.revocation"]
    assert "superseded by " + successor.json["id"] in reasons[0]
