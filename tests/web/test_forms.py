"""The pages' logic without a browser: CSV records, catalogs, CSRF, sessions, verify input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gateway.errors import GatewayError, InvalidInput, InvalidRecord
from gateway.records.reader import read_record_file
from gateway.services.web import read_csv_records, read_upload, upload_format
from gateway.web.i18n import CATALOG_DIR
from gateway.web.verify import parse_submission

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"


def test_catalogs_have_the_same_keys() -> None:
    en = json.loads((CATALOG_DIR / "en.json").read_text(encoding="utf-8"))
    zh = json.loads((CATALOG_DIR / "zh.json").read_text(encoding="utf-8"))
    assert set(en) == set(zh)
    for key in en:  # the same {fields} in both languages
        assert set(re.findall(r"{(\w+)}", en[key])) == set(re.findall(r"{(\w+)}", zh[key])), key


def test_csv_rows_become_records_by_the_record_rules() -> None:
    items = list(read_csv_records((DATA / "platform-export.csv").read_bytes()))
    assert [n for n, _ in items] == [1, 2, 3]
    first = items[0][1]
    assert first["specs"]["rated_capacity"] == {"value": "60", "unit": "Ah"}
    assert first["eu_supplement"]["carbon_footprint_per_fu"] == "0.061"
    assert "eu_supplement" not in items[1][1]  # an empty cell is an absent field
    error = items[2][1]
    assert isinstance(error, InvalidRecord)
    assert str(error).startswith("row 3, /battery/code")


def test_csv_header_must_name_single_value_paths() -> None:
    with pytest.raises(InvalidRecord, match="column 2 'battery.modules'"):
        list(read_csv_records(b"battery.code,battery.modules\nX,Y\n"))
    with pytest.raises(InvalidRecord, match="not UTF-8"):
        list(read_csv_records(b"battery.code\n\xff\n"))
    rows = list(read_csv_records(b"battery.code,battery.category\nX\n"))
    assert "has 1 cells; the header has 2" in str(rows[0][1])


def test_upload_formats_read_like_the_api() -> None:
    record = ROOT / "fixtures" / "records" / "ncm-ev-pack.json"
    expected = read_record_file(record)
    line = record.read_bytes().replace(b"\n", b"")
    assert [r for _, r in read_upload(line + b"\n\n" + line, "ndjson")] == [expected, expected]
    array = b"[" + line + b"," + line + b"]"
    assert [r for _, r in read_upload(array, "json")] == [expected, expected]
    xml = (ROOT / "fixtures" / "records" / "ncm-ev-pack.xml").read_bytes()
    assert isinstance(next(read_upload(xml, "xml"))[1], dict)
    bad = list(read_upload(b'{"battery": 1}\n', "ndjson"))
    assert isinstance(bad[0][1], GatewayError)
    assert upload_format("Batch.CSV") == "csv"
    with pytest.raises(GatewayError, match="upload a .json"):
        upload_format("records.xlsx")


def test_verify_input_forms() -> None:
    credential = {"@context": [], "proof": {}}
    assert parse_submission(json.dumps(credential)) == credential
    assert parse_submission(json.dumps({"verifiableCredential": credential})) == credential
    assert parse_submission(" a.b.c \n") == "a.b.c"
    enveloped = {"type": "EnvelopedVerifiableCredential", "id": "data:application/vc+jwt,a.b.c"}
    assert parse_submission(json.dumps(enveloped)) == "a.b.c"
    for bad in ("", "{nope", "[1, 2]", "hello world"):
        with pytest.raises(InvalidInput):
            parse_submission(bad)


def test_forms_need_the_session_csrf_token(client) -> None:
    refused = client.post("/login", data={"api_key": "x"})
    assert refused.status_code == 400 and "CSRF" in refused.get_data(as_text=True)
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    wrong = client.post("/login", data={"api_key": "x", "csrf_token": token + "x"})
    assert wrong.status_code == 400
    unknown = client.post("/login", data={"api_key": "x", "csrf_token": token})
    assert unknown.status_code == 401
    # The verify form acts for nobody: no token needed.
    assert client.post("/verify", data={"credential": "a.b.c"}).status_code == 200


def test_session_cookie_and_secret(app, client) -> None:
    # The signing key is kept wrapped in the database, never in clear on the disk.
    home = Path(app.extensions["gateway.settings"].home)
    assert not (home / "web-session.key").exists()
    for stored in home.glob("gateway.sqlite*"):
        assert app.secret_key.encode() not in stored.read_bytes()
    response = client.get("/login")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_pages_need_sign_in_and_pick_a_language(client) -> None:
    response = client.get("/dashboard")
    assert response.status_code == 303 and "/login?next=/dashboard" in response.location
    assert client.get("/mapping-editor").status_code == 303
    zh = client.get("/verify", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "验证电池护照凭证" in zh.get_data(as_text=True)
    picked = client.get("/language/en?next=/verify")
    assert picked.status_code == 303 and picked.location.endswith("/verify")
    again = client.get("/verify", headers={"Accept-Language": "zh-CN"})
    assert "Verify a battery passport credential" in again.get_data(as_text=True)
    offsite = client.get("/language/zh?next=//evil.example/")
    assert offsite.location.endswith("/") and "evil" not in offsite.location
