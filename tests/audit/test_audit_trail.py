"""The audit trail: what issuance, status changes and white-list imports record, how
`gateway audit verify` finds a tampered log, and CLI issuance into the API's store."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from gateway.compliance.whitelist import COLUMNS
from gateway.records.reader import read_record_file
from tests.helpers import (
    RECORDS,
    GatewayRunner,
    assert_no_leak,
    assert_problem,
    issue_keys,
    make_app,
)

BASE = "https://gw.example"
NCM = "Z9ZPEN8K52S96AE740000319"
VIN = "4A6PCPM27KLPCLE742946319"
WHITELIST_ROW = (
    "5,公告2024年第X号,2024-01-17,江苏,甲梯次利用有限公司,,echelon_use,listed,,MIIT-2024-X-01\n"
)


class Instance:
    """One instance folder served by the API and used by the CLI at the same time."""

    def __init__(self, runner: GatewayRunner, client: FlaskClient, keys: dict[str, dict[str, str]]):
        self.home = runner.home
        self.api = client
        self.keys = keys
        self.runner = runner

    def cli(self, *args: object, code: int = 0) -> Any:
        result = self.runner.invoke(args=args)
        assert result.exit_code == code, result.output
        return result

    def events(self, subject: str | None = None) -> list[dict[str, Any]]:
        options = ["--subject", subject] if subject else []
        return json.loads(self.cli("audit", "list", "--json", *options).stdout)

    def issue(self, record: Path, role: str = "exporter") -> Any:
        return self.api.post(
            "/passports",
            data=record.read_bytes(),
            content_type="application/json",
            headers=self.keys[role],
        )


@pytest.fixture
def instance(runner: GatewayRunner, monkeypatch: pytest.MonkeyPatch) -> Iterator[Instance]:
    app = make_app(runner.home)
    monkeypatch.setenv("GATEWAY_BASE_URL", BASE)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    try:
        yield Instance(runner, app.test_client(), issue_keys(app.extensions["gateway.settings"]))
    finally:
        app.extensions["gateway.instance"].db.dispose()


def test_issuance_and_status_changes_are_recorded_without_values(instance: Instance) -> None:
    created = instance.issue(RECORDS / "vin-repair-pack.json")
    assert created.status_code == 201, created.json
    assert instance.issue(RECORDS / "ncm-ev-pack.json").status_code == 201
    passport = f"{BASE}/passports/{VIN}"
    for action, body in (
        ("suspend", {}),
        ("unsuspend", {}),
        ("supersede", {"successor": NCM, "reason": "repurposed"}),
    ):
        response = instance.api.post(
            f"/passports/{VIN}/{action}", json=body, headers=instance.keys["exporter"]
        )
        assert response.status_code == 200, response.json

    events = instance.events(passport)
    assert [e["action"] for e in events] == [
        "passport.issued",
        "passport.suspended",
        "passport.active",
        "passport.superseded",
    ]
    # One event per passport: what was stored, and what its issue discloses.
    issued = events[0]["data"]
    disclosure = issued["disclosure"]
    record = read_record_file(RECORDS / "vin-repair-pack.json")
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert issued["record_sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert issued["battery_code"] == VIN
    assert issued["mapping"] == created.json["mapping"]
    assert issued["mapping_hash"].startswith("sha256:")
    credentials = created.json["credentials"]
    assert sorted(issued["credentials"]) == sorted(c["id"] for c in credentials.values())
    assert disclosure["policy"] == "cn-export@1.2.0"
    assert {"vehicle", "events.vin"} <= set(disclosure["withheld"])
    assert {(c["access_group"], c["format"]) for c in disclosure["credentials"]} == {
        (group, "di") for group in credentials
    }
    assert events[0]["actor"].startswith("tenant:acme/key:")
    assert [e["data"].get("to") for e in events[1:]] == ["suspended", "active", "superseded"]
    assert events[3]["data"]["superseded_by"] == f"{BASE}/passports/{NCM}"
    assert events[3]["data"]["reason"] == "repurposed"
    assert_no_leak(json.dumps(instance.events()), record)


@pytest.mark.parametrize(
    ("tamper", "named", "reason"),
    [
        ("UPDATE audit_events SET actor = 'someone-else' WHERE id = 4", 4, "altered"),
        ('UPDATE audit_events SET data = \'{"role":"admin"}\' WHERE id = 4', 4, "altered"),
        ("DELETE FROM audit_events WHERE id = 4", 5, "deleted, inserted or moved"),
        # Rows 4 and 5 swap places.
        (
            "UPDATE audit_events SET id = -4 WHERE id = 4; "
            "UPDATE audit_events SET id = 4 WHERE id = 5; "
            "UPDATE audit_events SET id = 5 WHERE id = -4",
            4,
            "deleted, inserted or moved",
        ),
    ],
)
def test_verify_names_the_first_broken_event(
    instance: Instance, tamper: str, named: int, reason: str
) -> None:
    intact = instance.cli("audit", "verify")
    assert "audit chain intact: 8 events, head 8 " in intact.stdout
    with sqlite3.connect(instance.home / "gateway.sqlite") as conn:
        conn.executescript(tamper)
    for command in (("audit", "verify"), ("db", "verify-audit")):  # one implementation
        broken = instance.cli(*command, code=1)
        assert f"audit chain broken at event {named} (" in broken.output
        assert reason in broken.output


def test_whitelist_imports_are_recorded(instance: Instance, tmp_path: Path) -> None:
    source = tmp_path / "batch5.csv"
    source.write_text(",".join(COLUMNS) + "\n" + WHITELIST_ROW, encoding="utf-8")
    assert "1 added" in instance.cli("whitelist", "import", source).stdout
    instance.cli("whitelist", "import", "--dry-run", source)
    [by_cli] = instance.events("whitelist")
    assert by_cli["action"] == "whitelist.imported" and by_cli["actor"] == "console"
    assert by_cli["data"] == {
        "source": "batch5.csv",
        "sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
        "added": ["MIIT-2024-X-01"],
        "changed": [],
        "unchanged": 0,
    }

    changed = ",".join(COLUMNS) + "\n" + WHITELIST_ROW.replace("江苏", "浙江")
    post = instance.api.post(
        "/whitelist", data=changed.encode(), content_type="text/csv", headers=instance.keys["admin"]
    )
    assert post.status_code == 200, post.json
    assert post.json["changed"] == [
        {"licence_no": "MIIT-2024-X-01", "fields": {"province": {"old": "江苏", "new": "浙江"}}}
    ]
    again = instance.api.post(
        "/whitelist", data=changed.encode(), content_type="text/csv", headers=instance.keys["admin"]
    )
    assert again.json["unchanged"] == ["MIIT-2024-X-01"]
    assert_problem(
        instance.api.post(
            "/whitelist",
            data=changed.encode(),
            content_type="text/csv",
            headers=instance.keys["exporter"],
        ),
        403,
    )
    assert_problem(
        instance.api.post("/whitelist", data=changed.encode(), content_type="text/csv"), 401
    )
    assert_problem(
        instance.api.post("/whitelist", json={"x": 1}, headers=instance.keys["admin"]), 415
    )
    bad = changed.replace("2024-01-17", "2024-13-40")
    problem = assert_problem(
        instance.api.post(
            "/whitelist", data=bad.encode(), content_type="text/csv", headers=instance.keys["admin"]
        ),
        422,
    )
    assert problem["errors"][0]["line"] == 2
    by_cli, by_api = instance.events("whitelist")  # nothing recorded for the refusals
    assert by_api["actor"].startswith("tenant:acme/key:")
    assert by_api["data"]["source"] == "api"
    assert by_api["data"]["changed"] == [{"licence_no": "MIIT-2024-X-01", "fields": ["province"]}]
    assert "MIIT-2024-X-01\t" in instance.cli("whitelist", "list").stdout
    assert instance.cli("audit", "verify").exit_code == 0


def test_cli_issues_into_the_api_store(instance: Instance, tmp_path: Path) -> None:
    record = RECORDS / "ncm-ev-pack.json"
    instance.cli("convert", record, "--store", "--tenant", "acme", code=2)  # needs --sign
    stored = instance.cli(
        "convert",
        record,
        "--sign",
        "--store",
        "--tenant",
        "acme",
        "--quiet",
        "--out",
        tmp_path / "out",
    )
    assert f"stored {BASE}/passports/{NCM} (4 credentials, di, " in stored.stdout
    assert (tmp_path / "out" / NCM / "passport-annex-xiii-1.vc.jsonld").is_file()

    listed = json.loads(instance.cli("passports", "list", "--json").stdout)
    assert [(p["batteryCode"], p["status"]) for p in listed] == [(NCM, "active")]
    assert instance.cli("passports", "list", "--tenant", "beta", "--json").stdout.strip() == "[]"
    assert NCM in instance.cli("passports", "list", "--status", "active").stdout
    assert NCM not in instance.cli("passports", "list", "--status", "revoked").stdout

    # Same store: the API refuses a second passport and serves the CLI's one.
    assert_problem(instance.issue(record), 409, "conflict")
    listed_api = instance.api.get("/passports", headers=instance.keys["exporter"]).json
    assert [p["batteryCode"] for p in listed_api["items"]] == [NCM]
    credential = json.loads(
        (tmp_path / "out" / NCM / "passport-annex-xiii-1.vc.jsonld").read_text(encoding="utf-8")
    )
    verdict = instance.api.post("/credentials/verify", json={"verifiableCredential": credential})
    assert verdict.json["verified"], verdict.json
    again = instance.cli("convert", record, "--sign", "--store", "--tenant", "acme", code=1)
    assert "already has a passport" in again.output

    events = instance.events(f"{BASE}/passports/{NCM}")
    assert [e["action"] for e in events] == ["passport.issued"]
    assert {e["actor"] for e in events} == {"console/tenant:acme"}
    revoked = instance.api.post(f"/passports/{NCM}/revoke", headers=instance.keys["exporter"])
    assert revoked.status_code == 200
    verdict = instance.api.post("/credentials/verify", json={"verifiableCredential": credential})
    assert not verdict.json["verified"]


def test_cli_store_needs_a_named_tenant_when_there_are_several(instance: Instance) -> None:
    result = instance.cli("convert", RECORDS / "ncm-ev-pack.json", "--sign", "--store", code=1)
    assert "name the tenant with --tenant (one of acme, beta)" in result.output


def test_cli_evidence_is_the_api_package(instance: Instance, tmp_path: Path) -> None:
    assert instance.issue(RECORDS / "vin-repair-pack.json").status_code == 201
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    out = instance.cli("evidence", VIN, "--out", first).stdout
    instance.cli("evidence", VIN, "--out", second)
    digest = hashlib.sha256(first.read_bytes()).hexdigest()
    assert f"sha256 {digest}" in out
    assert first.read_bytes() == second.read_bytes()
    api = instance.api.get(f"/passports/{VIN}/evidence", headers=instance.keys["exporter"])
    assert api.data == first.read_bytes()
    exports = instance.events(f"evidence:{BASE}/passports/{VIN}")
    assert [e["actor"] for e in exports] == ["console", "console", exports[2]["actor"]]
    assert {e["data"]["sha256"] for e in exports} == {digest}
    assert (
        "no passport for battery code"
        in instance.cli("evidence", NCM, "--out", first, code=1).output
    )
