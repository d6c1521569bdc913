"""The disclosure log: an entry for every response that gives point 2, 3 or 4 data of a
passport to a party other than its issuing tenant, none for the issuer's own reads or
point-1 reads; listed by the issuer (API and CLI), in the evidence package."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.services.evidence_check import check
from tests.helpers import (
    PLAIN_URL,
    RECORDS,
    GatewayRunner,
    assert_problem,
    grant_body,
    issue_secrets,
    make_app,
)

CODE = "Z9ZPEN8K52S96AE740000319"
BETA_CODE = "Z9ZPBS2ESS2801F5A0000088"  # lfp-storage-pack.json


def _keys(app: Flask) -> dict[str, dict[str, str]]:
    secrets = issue_secrets(
        app.extensions["gateway.settings"],
        {
            "acme": ("exporter", "importer", "admin"),
            "beta": ("exporter",),
            "recycler": ("importer",),
            "msa": ("authority",),
            "operator": ("admin",),
        },
    )
    return {
        "exporter": secrets["acme"]["exporter"],
        "acme-importer": secrets["acme"]["importer"],
        "acme-admin": secrets["acme"]["admin"],
        "beta": secrets["beta"]["exporter"],
        "recycler": secrets["recycler"]["importer"],
        "msa": secrets["msa"]["authority"],
        "operator": secrets["operator"]["admin"],
    }


@pytest.fixture
def parties(api_app: Flask) -> dict[str, dict[str, str]]:
    return {who: {"Authorization": f"Bearer {s}"} for who, s in _keys(api_app).items()}


def _issue(api: FlaskClient, headers: dict[str, str], name: str) -> None:
    created = api.post(
        "/passports",
        data=(RECORDS / name).read_bytes(),
        content_type="application/json",
        headers=headers,
    )
    assert created.status_code == 201, created.get_json()


def _grant(api: FlaskClient, headers: dict[str, str], code: str = CODE) -> int:
    body = grant_body(batteryCode=code, reason="recycling")
    created = api.post("/grants", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    return int(created.get_json()["id"])


def _log(api: FlaskClient, headers: dict[str, str], **query: Any) -> list[dict[str, Any]]:
    response = api.get("/disclosures", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return list(response.get_json()["items"])


def test_restricted_reads_by_others_are_logged_and_no_other_read_is(api, parties) -> None:
    _issue(api, parties["exporter"], "ncm-ev-pack.json")
    grant = _grant(api, parties["exporter"])
    # Not disclosures: anonymous, point 1 only, the issuing tenant's own keys.
    for who in (None, "beta", "exporter", "acme-admin", "acme-importer"):
        assert api.get(f"/passports/{CODE}", headers=parties[who] if who else {}).status_code == 200
    assert _log(api, parties["exporter"]) == []
    # Disclosures: a grant holder, a market surveillance authority, another tenant's admin.
    for who in ("recycler", "msa", "operator"):
        assert api.get(f"/passports/{CODE}", headers=parties[who]).status_code == 200
    entries = _log(api, parties["exporter"])
    summary = [
        (e["reader"]["tenant"], e["points"], e["basis"], e["channel"], e["batteryCode"])
        for e in entries
    ]
    assert summary == [
        ("recycler", [2, 4], [f"grant:{grant}"], "api", CODE),
        ("msa", [2, 3], ["role:authority"], "api", CODE),
        ("operator", [2, 3, 4], ["role:issuer"], "api", CODE),
    ]
    assert all(e["issuer"] == "acme" and e["actor"].startswith("tenant:") for e in entries)
    # A gap report carries no point data: not a disclosure.
    assert api.get(f"/passports/{CODE}/gaps", headers=parties["msa"]).status_code == 200
    assert len(_log(api, parties["exporter"])) == 3


def test_each_issuer_lists_its_own_log_and_admins_every_log(api, parties) -> None:
    _issue(api, parties["exporter"], "ncm-ev-pack.json")
    _issue(api, parties["beta"], "lfp-storage-pack.json")
    api.get(f"/passports/{CODE}", headers=parties["msa"])
    api.get(f"/passports/{BETA_CODE}", headers=parties["msa"])
    assert [e["batteryCode"] for e in _log(api, parties["exporter"])] == [CODE]
    assert [e["batteryCode"] for e in _log(api, parties["beta"])] == [BETA_CODE]
    assert len(_log(api, parties["operator"])) == 2
    assert [e["batteryCode"] for e in _log(api, parties["operator"], tenant="beta")] == [BETA_CODE]
    assert_problem(
        api.get("/disclosures", query_string={"tenant": "beta"}, headers=parties["exporter"]), 403
    )
    assert_problem(api.get("/disclosures"), 401, "unauthorized")
    for who in ("recycler", "msa", "acme-importer"):
        assert_problem(api.get("/disclosures", headers=parties[who]), 403, "forbidden")
    assert_problem(
        api.get("/disclosures", query_string={"tenant": "nobody"}, headers=parties["operator"]),
        404,
    )


def test_filters_and_pages(api, parties) -> None:
    _issue(api, parties["exporter"], "ncm-ev-pack.json")
    _issue(api, parties["exporter"], "lfp-storage-pack.json")
    for code in (CODE, "Z9ZPBS2ESS2801F5A0000088", CODE):
        api.get(f"/passports/{code}", headers=parties["msa"])
    mine = parties["exporter"]
    assert len(_log(api, mine, batteryCode=CODE)) == 2
    assert _log(api, mine, since="2999-01-01") == []
    assert _log(api, mine, until="2000-01-01") == []
    assert len(_log(api, mine, since="2000-01-01T00:00:00Z", until="2999-01-01")) == 3
    first = api.get("/disclosures", query_string={"limit": 2}, headers=mine).get_json()
    assert len(first["items"]) == 2 and first["next"] == first["items"][-1]["id"]
    rest = _log(api, mine, after=first["next"], limit=2)
    assert len(rest) == 1
    for query, pointer in (
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"since": "0001-01-01T00:00:00+14:00"}, "since"),
        ({"limit": 0}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"after": "-1"}, "after"),
        ({"after": "9" * 30}, "after"),
        ({"batteryCode": "Z" * 65}, "batteryCode"),
    ):
        problem = assert_problem(api.get("/disclosures", query_string=query, headers=mine), 422)
        assert problem["pointer"] == pointer


def test_an_evidence_package_holds_the_log_and_exporting_it_abroad_is_logged(api, parties) -> None:
    _issue(api, parties["exporter"], "ncm-ev-pack.json")
    api.get(f"/passports/{CODE}", headers=parties["msa"])
    response = api.get(f"/passports/{CODE}/evidence", headers=parties["msa"])
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    assert check(files) == []
    # An authority's package: no point-4 credential, and it says what was left out.
    assert "credentials/annex-xiii-4.vc.jsonld" not in files
    assert "credentials/annex-xiii-3.vc.jsonld" in files
    passport = json.loads(files["passport.json"])
    assert passport["access"]["left_out"] == ["annex-xiii-4"]
    assert {r["access_group"] for r in json.loads(files["gaps.json"])["attributes"]} <= {
        "annex-xiii-1",
        "annex-xiii-2",
        "annex-xiii-3",
    }
    log = json.loads(files["disclosures.json"])
    assert [(e["reader"]["tenant"], e["channel"]) for e in log["entries"]] == [("msa", "api")]
    channels = [e["channel"] for e in _log(api, parties["exporter"])]
    assert channels == ["api", "evidence"]
    # The issuer's own package holds every credential and both entries.
    mine = api.get(f"/passports/{CODE}/evidence", headers=parties["exporter"])
    with zipfile.ZipFile(io.BytesIO(mine.data)) as archive:
        names = archive.namelist()
        entries = json.loads(archive.read("disclosures.json"))["entries"]
    assert "credentials/annex-xiii-4.vc.jsonld" in names
    assert [e["channel"] for e in entries] == ["api", "evidence"]
    assert len(_log(api, parties["exporter"])) == 2
    # Anyone else gets no package at all.
    for who in ("recycler", "beta", "acme-importer"):
        assert_problem(api.get(f"/passports/{CODE}/evidence", headers=parties[who]), 403)


def test_the_console_lists_grants_and_disclosures(
    runner: GatewayRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(runner.home, base_url=PLAIN_URL)
    try:
        api = app.test_client()
        parties = {who: {"Authorization": f"Bearer {s}"} for who, s in _keys(app).items()}
        _issue(api, parties["exporter"], "ncm-ev-pack.json")
        added = runner.invoke(
            args=[
                "grants",
                "add",
                "--issuer",
                "acme",
                "--to-tenant",
                "recycler",
                "--passport",
                CODE,
                "--points",
                "2,4",
                "--purpose",
                "dismantling_repair_remanufacturing",
                "--until",
                "2030-12-31",
                "--reason",
                "recycling",
                "--json",
            ]
        )
        assert added.exit_code == 0, added.output
        grant = json.loads(added.output)
        assert grant["issuer"] == "acme" and grant["points"] == [2, 4]
        listed = runner.invoke(args=["grants", "list", "--tenant", "recycler", "--json"])
        assert json.loads(listed.output)["received"][0]["id"] == grant["id"]
        assert api.get(f"/passports/{CODE}", headers=parties["recycler"]).status_code == 200
        out = runner.invoke(args=["disclosures", "list", "--tenant", "acme", "--json"])
        assert out.exit_code == 0, out.output
        [entry] = json.loads(out.output)
        assert entry["basis"] == [f"grant:{grant['id']}"] and entry["points"] == [2, 4]
        text = runner.invoke(args=["disclosures", "list", "--tenant", "acme"]).output
        assert CODE in text and "tenant:recycler" in text
        assert runner.invoke(args=["disclosures", "list", "--tenant", "beta"]).exit_code == 0
        revoked = runner.invoke(args=["grants", "revoke", str(grant["id"]), "--reason", "done"])
        assert revoked.exit_code == 0 and "revoked" in revoked.output
        again = runner.invoke(args=["grants", "revoke", str(grant["id"]), "--reason", "done"])
        assert again.exit_code == 1 and "revoked already" in again.output
        bad = runner.invoke(
            args=[
                "grants",
                "add",
                "--issuer",
                "acme",
                "--to-tenant",
                "recycler",
                "--all",
                "--points",
                "3",
                "--purpose",
                "dismantling_repair_remanufacturing",
                "--until",
                "2030-12-31",
                "--reason",
                "x",
            ]
        )
        assert bad.exit_code == 1 and "/points" in bad.output
    finally:
        app.extensions["gateway.instance"].db.dispose()


def test_the_console_shows_and_sets_the_access_table(runner: GatewayRunner, tmp_path) -> None:
    app = make_app(runner.home, base_url=PLAIN_URL)
    try:
        shown = runner.invoke(args=["access", "show"])
        assert shown.exit_code == 0 and "art77-2@1.0.0 (shipped)" in shown.output
        assert "legitimate_interest\tpoints 1 2 4\t(granted only)" in shown.output
        as_json = json.loads(runner.invoke(args=["access", "show", "--json"]).output)
        assert as_json["ref"] == "art77-2@1.0.0"
        text = runner.invoke(args=["access", "show", "--csv"]).output
        table = tmp_path / "table.csv"
        table.write_text(text.replace("authority,1 2 3,", "authority,1 2,"), encoding="utf-8")
        changed = runner.invoke(
            args=["access", "set", table, "--version", "1.1.0", "--reason", "narrower"]
        )
        assert changed.exit_code == 0, changed.output
        assert "art77-2@1.1.0 in force" in changed.output
        assert "authority\tpoints 1 2\t" in runner.invoke(args=["access", "show"]).output
        table.write_text(text.replace("public,1,", "public,1 2,"), encoding="utf-8")
        refused = runner.invoke(
            args=["access", "set", table, "--version", "1.2.0", "--reason", "wider"]
        )
        assert refused.exit_code == 1 and "line 2" in refused.output
        table.write_text("audience,points\n", encoding="utf-8")
        refused = runner.invoke(
            args=["access", "set", table, "--version", "1.2.0", "--reason", "x"]
        )
        assert refused.exit_code == 1 and "header" in refused.output
        events = runner.invoke(args=["audit", "list", "--json"]).output
        assert "access_table.set" in events
    finally:
        app.extensions["gateway.instance"].db.dispose()
