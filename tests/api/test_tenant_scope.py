"""Tenants stay apart in mapping impact and supersede; ``?mapping=`` reaches only
published versions."""

from __future__ import annotations

import json
import os

from gateway.paths import MAPPINGS_DIR
from gateway.store import Tenants, init_db
from tests.helpers import RECORDS, assert_problem

SET = "cn-trace-to-eu-passport"
ACME_CODE = "Z9ZPEN8K52S96AE740000319"  # ncm-ev-pack.json


def _issue(api, headers, name: str, serial: str | None = None) -> dict:
    """Issue a fixture record; with ``serial``, under a code of its own (the fixtures
    themselves are always part of an impact analysis)."""
    data = (RECORDS / name).read_bytes()
    if serial is not None:
        code = json.loads(data)["battery"]["code"]
        data = data.replace(code.encode(), (code[:17] + serial).encode())
    created = api.post("/passports", data=data, content_type="application/json", headers=headers)
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def _key(api_app, tenant: str, role: str) -> dict[str, str]:
    db = init_db(api_app.extensions["gateway.settings"])
    with db.transaction() as session:
        secret = Tenants(session).issue_key(tenant, role).secret
    db.dispose()
    return {"Authorization": f"Bearer {secret}"}


def _draft(api, editor) -> None:
    created = api.post(
        f"/mappings/{SET}/versions",
        headers=editor,
        json={"version": "1.3.0", "base_version": "1.2.0"},
    )
    assert created.status_code == 201, created.get_json()


# -- impact ----------------------------------------------------------------------------


def test_impact_shows_an_editor_only_the_passports_of_its_own_tenant(api_app, api, keys):
    acme = _issue(api, keys["exporter"], "ncm-ev-pack.json", "0000701")
    beta = _issue(api, keys["beta"], "ncm-ev-pack.json", "0000702")
    _draft(api, keys["editor"])
    url = f"/mappings/{SET}/versions/1.3.0/impact"

    seen = api.get(url, headers=keys["editor"])
    assert seen.status_code == 200, seen.get_json()
    text = seen.get_data(as_text=True)
    assert beta["batteryCode"] not in text and beta["id"] not in text
    stored = [r["record"] for r in seen.get_json()["records"] if r["record"].startswith("https")]
    assert stored == [acme["id"]]
    assert seen.get_json()["page"]["total"] == 1

    beta_editor = _key(api_app, "beta", "editor")
    theirs = api.get(url, headers=beta_editor)
    assert acme["batteryCode"] not in theirs.get_data(as_text=True)
    assert [
        r["record"] for r in theirs.get_json()["records"] if r["record"].startswith("https")
    ] == [beta["id"]]

    # Admins list every passport anyway, so they see every tenant's.
    everything = api.get(url, headers=keys["admin"]).get_json()
    assert {r["record"] for r in everything["records"] if r["record"].startswith("https")} == {
        acme["id"],
        beta["id"],
    }


def test_impact_is_paged(api, keys):
    first = _issue(api, keys["exporter"], "ncm-ev-pack.json")
    second = _issue(api, keys["exporter"], "lfp-storage-pack.json")
    _draft(api, keys["editor"])
    url = f"/mappings/{SET}/versions/1.3.0/impact"
    ordered = sorted([first, second], key=lambda p: p["id"])

    page1 = api.get(url + "?limit=1", headers=keys["editor"]).get_json()
    assert page1["page"] == {
        "limit": 1,
        "after": None,
        "next": ordered[0]["batteryCode"],
        "count": 1,
        "total": 2,
    }
    assert any(r["record"].startswith("fixtures/") for r in page1["records"])
    stored = [r["record"] for r in page1["records"] if r["record"].startswith("https")]
    assert stored == [ordered[0]["id"]]

    page2 = api.get(
        f"{url}?limit=1&after={page1['page']['next']}", headers=keys["editor"]
    ).get_json()
    # The fixtures come with the first page only.
    assert [r["record"] for r in page2["records"]] == [ordered[1]["id"]]
    assert page2["page"]["next"] == ordered[1]["batteryCode"]
    page3 = api.get(
        f"{url}?limit=1&after={page2['page']['next']}", headers=keys["editor"]
    ).get_json()
    assert page3["records"] == [] and page3["page"]["next"] is None


def test_impact_refuses_bad_paging_parameters(api, keys):
    _draft(api, keys["editor"])
    url = f"/mappings/{SET}/versions/1.3.0/impact"
    for query, pointer in (
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=-1", "limit"),
        ("limit=abc", "limit"),
        ("after=../x", "after"),
        ("after=" + "A" * 25, "after"),
    ):
        body = assert_problem(api.get(f"{url}?{query}", headers=keys["editor"]), 422)
        assert body["pointer"] == pointer, query


# -- supersede -------------------------------------------------------------------------


def test_a_passport_cannot_be_superseded_by_another_tenants_passport(api, keys):
    acme = _issue(api, keys["exporter"], "ncm-ev-pack.json")
    beta = _issue(api, keys["beta"], "echelon-pack.json")
    unknown = api.post(
        f"/passports/{ACME_CODE}/supersede",
        json={"successor": "Z9ZPEN8K52S96AE749999999"},
        headers=keys["exporter"],
    )
    unknown_body = assert_problem(unknown, 404)
    for who in ("exporter", "admin"):
        refused = api.post(
            f"/passports/{ACME_CODE}/supersede",
            json={"successor": beta["batteryCode"]},
            headers=keys[who],
        )
        body = assert_problem(refused, 404)
        # Told apart from an unknown successor by nothing but the code the caller sent.
        assert body["pointer"] == unknown_body["pointer"] == "/successor"
        assert body["type"] == unknown_body["type"]
        assert beta["id"] not in refused.get_data(as_text=True)
    listed = api.get("/passports", headers=keys["exporter"]).get_json()["items"]
    assert [(p["batteryCode"], p["status"]) for p in listed] == [(acme["batteryCode"], "active")]


def test_supersede_within_the_tenant_still_works(api, keys):
    _issue(api, keys["exporter"], "ncm-ev-pack.json")
    successor = _issue(api, keys["exporter"], "echelon-pack.json")
    changed = api.post(
        f"/passports/{ACME_CODE}/supersede",
        json={"successor": successor["batteryCode"]},
        headers=keys["exporter"],
    )
    assert changed.status_code == 200 and changed.get_json()["supersededBy"] == successor["id"]


# -- ?mapping= ---------------------------------------------------------------------------


def _planted_table(tmp_path) -> str:
    """A valid mapping table outside ``mappings/``; returns a traversal reference to it."""
    shipped = (MAPPINGS_DIR / SET / "1.0.0.sssom.tsv").read_text(encoding="utf-8")
    folder = tmp_path / "planted"
    folder.mkdir()
    (folder / "9.9.9.sssom.tsv").write_text(
        shipped.replace(f"mappings/{SET}", "mappings/planted")
        .replace("mapping_set_version: 1.0.0", "mapping_set_version: 9.9.9")
        .replace("mapping_set_version: '1.0.0'", "mapping_set_version: '9.9.9'")
        .replace('mapping_set_version: "1.0.0"', 'mapping_set_version: "9.9.9"'),
        encoding="utf-8",
    )
    return os.path.relpath(folder, MAPPINGS_DIR) + "@9.9.9"


def test_mapping_parameter_cannot_reach_files_outside_the_shipped_folder(api, keys, tmp_path):
    ref = _planted_table(tmp_path)
    assert ".." in ref
    for value in (
        ref,
        f"{SET}@../../{SET}/1.0.0",
        f"{SET}@1.0.0/../1.0.0",
        "../x@1.0.0",
        f"{SET}@01.0.0",
        f"{SET}@1.0.0\n",
        f"{SET}@1.0",
        "a@b@1.0.0",
        "@1.0.0",
    ):
        refused = api.post(
            "/passports",
            query_string={"mapping": value},
            data=(RECORDS / "ncm-ev-pack.json").read_bytes(),
            content_type="application/json",
            headers=keys["exporter"],
        )
        body = assert_problem(refused, 422, "invalid-input")
        assert body["pointer"] == "mapping", value
    batch = api.post(
        "/passports/batch",
        query_string={"mapping": ref},
        data=(RECORDS / "ncm-ev-pack.json").read_bytes().replace(b"\n", b"") + b"\n",
        content_type="application/x-ndjson",
        headers=keys["exporter"],
    )
    assert_problem(batch, 422, "invalid-input")
    assert api.get("/passports", headers=keys["exporter"]).get_json()["items"] == []


def test_mapping_parameter_refuses_a_draft(api, keys):
    _draft(api, keys["editor"])
    refused = api.post(
        f"/passports?mapping={SET}@1.3.0",
        data=(RECORDS / "ncm-ev-pack.json").read_bytes(),
        content_type="application/json",
        headers=keys["exporter"],
    )
    body = assert_problem(refused, 404, "mapping-not-found")
    assert body["pointer"] == "mapping"
    issued = api.post(
        f"/passports?mapping={SET}@1.0.0",
        data=(RECORDS / "ncm-ev-pack.json").read_bytes(),
        content_type="application/json",
        headers=keys["exporter"],
    )
    assert issued.status_code == 201


def test_api_refuses_draft_versions_that_break_the_version_rule(api, keys):
    for version in ("../../x<script>", "1.0", "01.0.0", "1.0.0-rc.1"):
        refused = api.post(
            f"/mappings/{SET}/versions",
            headers=keys["editor"],
            json={"version": version, "base_version": "1.0.0"},
        )
        assert_problem(refused, 422)
    listed = api.get("/mappings").get_json()["versions"]
    assert [v for v in listed if v["status"] == "draft"] == []
