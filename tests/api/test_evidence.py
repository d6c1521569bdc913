"""GET /passports/{code}/evidence: a deterministic ZIP an inspector can check alone."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import zipfile
from base64 import b64encode
from pathlib import Path

import pytest

from gateway.paths import MAPPINGS_DIR
from gateway.policy.table import TABLES_DIR
from gateway.records.reader import read_record_file
from gateway.services.evidence_check import check
from tests.helpers import RECORDS, assert_no_leak, assert_problem, issue_keys, make_app

VIN_RECORD = RECORDS / "vin-repair-pack.json"
CODE = "4A6PCPM27KLPCLE742946319"
PASSPORT = f"https://gw.example/passports/{CODE}"


@pytest.fixture
def issued(api, keys) -> dict:
    created = api.post(
        "/passports",
        data=VIN_RECORD.read_bytes(),
        content_type="application/json",
        headers=keys["exporter"],
    )
    assert created.status_code == 201, created.json
    return created.json


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _evidence(api, keys, role: str = "exporter") -> bytes:
    response = api.get(f"/passports/{CODE}/evidence", headers=keys[role])
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/zip"
    return response.data


def test_who_may_export(api, keys, issued) -> None:
    for role in ("exporter", "authority", "admin"):
        assert api.get(f"/passports/{CODE}/evidence", headers=keys[role]).status_code == 200
    for role in ("importer", "editor", "beta"):
        assert_problem(api.get(f"/passports/{CODE}/evidence", headers=keys[role]), 403)
    assert_problem(api.get(f"/passports/{CODE}/evidence"), 401)
    assert_problem(
        api.get("/passports/Z9ZPEN8K52S96AE740000319/evidence", headers=keys["admin"]), 404
    )


def test_same_passport_same_bytes_and_every_checksum_holds(api, keys, issued) -> None:
    first = _evidence(api, keys)
    response = api.get(f"/passports/{CODE}/evidence", headers=keys["exporter"])
    # Byte-identical for the same reader while nothing new happened to the passport
    # (the issuer's own reads are not disclosures, so its log does not grow).
    assert response.data == first
    authority = _members(_evidence(api, keys, "authority"))
    # An authority's package follows its entitlement: never point 4 (Art. 77(2)(b)).
    assert not any("annex-xiii-4" in name for name in authority)
    assert any("annex-xiii-4" in name for name in _members(first))
    digest = hashlib.sha256(first).digest()
    assert response.headers["Repr-Digest"] == f"sha-256=:{b64encode(digest).decode()}:"

    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names[:7] == [
        "manifest.json",
        "README.txt",
        "check.py",
        "passport.json",
        "status.json",
        "gaps.json",
        "audit.json",
    ]
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.external_attr >> 16 == 0o100644
        assert info.compress_type == zipfile.ZIP_STORED
    files = _members(first)
    manifest = json.loads(files["manifest.json"])
    assert [f["path"] for f in manifest["files"]] == names[1:]
    for item in manifest["files"]:  # recomputed here, independently of check.py
        assert hashlib.sha256(files[item["path"]]).hexdigest() == item["sha256"]
        assert len(files[item["path"]]) == item["bytes"]
    assert check(files) == []


def test_contents_match_what_was_issued(api, keys, issued) -> None:
    files = _members(_evidence(api, keys))
    passport = json.loads(files["passport.json"])
    record = read_record_file(VIN_RECORD)
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert passport["record"] == {
        "sha256": hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        "included": False,
        "hashed_as": passport["record"]["hashed_as"],
    }
    assert passport["policy"]["ref"] == "cn-export@1.2.0"
    assert "vehicle" in passport["policy"]["withheld"]
    mapping = "mapping/cn-trace-to-eu-passport/1.2.0.sssom.tsv"
    assert passport["mapping"]["file"] == mapping
    assert (
        files[mapping]
        == (MAPPINGS_DIR / "cn-trace-to-eu-passport" / "1.2.0.sssom.tsv").read_bytes()
    )
    assert files["policy/cn-export-1.2.0.csv"] == (TABLES_DIR / "cn-export-1.2.0.csv").read_bytes()
    for group, credential in issued["credentials"].items():
        assert json.loads(files[f"credentials/{group}.vc.jsonld"]) == credential
    gaps = json.loads(files["gaps.json"])
    assert gaps == issued["gaps"] and "national" in gaps
    status = json.loads(files["status.json"])
    assert status["status"] == "active"
    assert len(status["entries"]) == 2 * len(issued["credentials"])
    assert {e["bit"] for e in status["entries"]} == {0}
    actions = [e["action"] for e in json.loads(files["audit.json"])["entries"]]
    assert actions == ["passport.issued"]
    assert PASSPORT in files["README.txt"].decode()


def test_no_vin_owner_or_coordinates_in_any_file(api, keys, issued) -> None:
    record = read_record_file(VIN_RECORD)
    assert record["vehicle"]["vin"]  # the record does carry them
    data = _evidence(api, keys)
    assert_no_leak(data.decode("utf-8", errors="replace"), record)
    for content in _members(data).values():
        assert_no_leak(content.decode("utf-8"), record)


def test_a_status_change_shows_in_the_next_package(api, keys, issued) -> None:
    before = _evidence(api, keys)
    revoked = api.post(
        f"/passports/{CODE}/revoke", json={"reason": "recall"}, headers=keys["exporter"]
    )
    assert revoked.status_code == 200
    after = _evidence(api, keys)
    assert after != before and after == _evidence(api, keys)
    files = _members(after)
    status = json.loads(files["status.json"])
    assert status["status"] == "revoked"
    assert {e["bit"] for e in status["entries"]} == {1}
    events = json.loads(files["audit.json"])["entries"]
    assert events[-1]["action"] == "passport.revoked"
    assert events[-1]["data"] == {"from": "active", "to": "revoked", "reason": "recall"}
    assert check(files) == []


def test_shipped_check_script_finds_tampering(api, keys, issued, tmp_path: Path) -> None:
    folder = tmp_path / "evidence"
    with zipfile.ZipFile(io.BytesIO(_evidence(api, keys))) as archive:
        archive.extractall(folder)
    run = [sys.executable, str(folder / "check.py"), str(folder)]
    ok = subprocess.run(run, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "intact" in ok.stdout

    audit = json.loads((folder / "audit.json").read_text(encoding="utf-8"))
    audit["entries"][0]["data"]["record_sha256"] = "0" * 64
    (folder / "audit.json").write_text(json.dumps(audit), encoding="utf-8")
    (folder / "extra.txt").write_text("x", encoding="utf-8")
    bad = subprocess.run(run, capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert "audit.json: SHA-256 is" in bad.stdout
    assert "(passport.issued): its fields do not give its hash" in bad.stdout
    assert "extra.txt: not listed" in bad.stdout


def test_export_is_audited_outside_the_passport_subject(api, keys, issued) -> None:
    data = _evidence(api, keys, "authority")
    app_db = api.application.extensions["gateway.instance"].db
    from gateway.services import audit_entries

    [event] = audit_entries(app_db, subject=f"evidence:{PASSPORT}")
    assert event.action == "evidence.exported"
    assert event.actor.startswith("tenant:acme/key:")
    assert event.data == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def test_each_backend_gives_the_same_kind_of_package(tmp_path: Path, backend_url: str) -> None:
    app = make_app(tmp_path / "instance", backend_url)
    try:
        api = app.test_client()
        keys = issue_keys(app.extensions["gateway.settings"])
        created = api.post(
            "/passports",
            data=VIN_RECORD.read_bytes(),
            content_type="application/json",
            headers=keys["exporter"],
        )
        assert created.status_code == 201, created.json
        assert api.post(f"/passports/{CODE}/suspend", headers=keys["exporter"]).status_code == 200
        first = _evidence(api, keys)
        assert _evidence(api, keys, "admin") == first
        files = _members(first)
        assert check(files) == []
        status = json.loads(files["status.json"])
        assert {(e["statusPurpose"], e["bit"]) for e in status["entries"]} == {
            ("revocation", 0),
            ("suspension", 1),
        }
    finally:
        app.extensions["gateway.instance"].db.dispose()
