"""The pages in a real browser: the passport behind the QR code, verify, the exporter
dashboard and the mapping editor, each checked with axe-core and measured."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
import requests
import segno

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
RECORDS = ROOT / "fixtures" / "records"
DATA = Path(__file__).resolve().parent / "data"
CODE = "Z9ZPEN8K52S96AE740000319"  # fixtures/records/ncm-ev-pack.json


def _issue(server, record: str, fmt: str = "di") -> dict:
    response = requests.post(
        f"{server.url}/passports?format={fmt}",
        data=(RECORDS / record).read_bytes(),
        headers={
            "Authorization": f"Bearer {server.keys['exporter']}",
            "Content-Type": "application/json",
        },
        timeout=60,
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


@pytest.fixture(scope="module")
def issued(server) -> dict:
    return _issue(server, "ncm-ev-pack.json")


def test_qr_code_opens_the_public_passport(server, issued, pages) -> None:
    passport_url = issued["id"]
    assert passport_url == f"{server.url}/passports/{CODE}"
    # The QR symbol the gateway serves is the one that encodes the passport URL.
    png = requests.get(f"{passport_url}/qr.png", timeout=10)
    assert png.headers["Content-Type"] == "image/png"
    svg = requests.get(f"{passport_url}/qr.svg", timeout=10).text
    # Same symbol as encoding the battery's unique product identifier afresh (the
    # tenant set no scheme: the gateway's identification link, which the resolver
    # answers with the passport): the QR code holds that URL.
    identifier = f"{server.url}/id/{CODE}"
    assert (
        requests.get(identifier, timeout=10, headers={"Accept": "application/ld+json"}).json()["id"]
        == passport_url
    )
    expected = io.BytesIO()
    segno.make(identifier, error="m", micro=False).save(
        expected,
        kind="svg",
        scale=6,
        border=4,
        xmldecl=False,
        title=f"QR code of the battery passport {CODE}",
    )
    assert svg == expected.getvalue().decode()

    anonymous = pages()
    anonymous.goto(passport_url)
    page = anonymous.page
    text = page.inner_text("main")
    assert CODE in text
    for public in (
        "Mindong Example Power Battery Co., Ltd.",
        "NCM811",
        "Rated capacity",
        "350.4",
        "Carbon footprint",
        "0.047",
        "Verified",
        "Annex XIII point 1: public information",
    ):
        assert public in text, public
    # Points 2, 3 and 4 stay hidden from anonymous readers.
    for restricted in (
        "LiNi0.8Co0.1Mn0.1O2",
        "Annex XIII point 2",
        "Annex XIII point 3",
        "Annex XIII point 4",
        "State of health",
        "96.8",
    ):
        assert restricted not in text, restricted
    anonymous.measure("passport")
    anonymous.check_accessibility("passport")

    anonymous.page.get_by_role("link", name="Printable label").click()
    label = anonymous.page.inner_text("main")
    assert CODE in label and identifier in label and "Battery chemistry" in label
    assert anonymous.page.locator("img[src$='qr.svg']").evaluate("i => i.naturalWidth") > 0
    anonymous.measure("label")
    anonymous.check_accessibility("label")

    # An importer without a grant reads point 1 only; an authority reads points 2 and 3
    # under headings that say who they are for, never point 4.
    importer = pages()
    importer.sign_in("importer")
    importer.goto(passport_url)
    text = importer.page.inner_text("main")
    assert "Annex XIII point 1" in text and "LiNi0.8Co0.1Mn0.1O2" not in text
    assert "Annex XIII point 2" not in text and "Annex XIII point 4" not in text
    authority = pages()
    authority.sign_in("authority")
    authority.goto(passport_url)
    text = authority.page.inner_text("main")
    assert "Annex XIII point 2: model data for legitimate interest and authorities" in text
    assert "LiNi0.8Co0.1Mn0.1O2" in text
    assert "Annex XIII point 3: test results for authorities" in text
    assert "Annex XIII point 4" not in text and "State of health" not in text
    authority.check_accessibility("passport-authority")

    chinese = pages(locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    chinese.goto(passport_url)
    assert "电池护照" in chinese.page.inner_text("h1")
    assert chinese.page.get_attribute("html", "lang") == "zh-Hans"
    chinese.measure("passport-zh")
    chinese.check_accessibility("passport-zh")


def test_verify_good_and_tampered_credentials(server, issued, pages) -> None:
    presentation = requests.get(
        f"{server.url}/passports/{CODE}", headers={"Accept": "application/ld+json"}, timeout=10
    ).json()
    credential = presentation["verifiableCredential"][0]
    visitor = pages()
    visitor.goto("/verify")
    visitor.measure("verify")
    visitor.check_accessibility("verify")

    visitor.page.get_by_label("Credential text").fill(json.dumps(credential))
    visitor.submit("Verify")
    result = visitor.page.locator("#result")
    assert "The credential is valid" in result.inner_text()
    visitor.measure("verify-result")
    visitor.check_accessibility("verify-result")

    tampered = json.loads(json.dumps(credential))
    tampered["credentialSubject"]["batteryChemistry"] = "LFP"
    visitor.page.get_by_label("Credential text").fill(json.dumps(tampered))
    visitor.submit("Verify")
    text = visitor.page.locator("#result").inner_text()
    assert "did not verify" in text
    assert "Signature\n✗ failed" in text or "Signature\t✗ failed" in text
    assert "The signature does not match the content" in text
    visitor.check_accessibility("verify-failed")

    # A vc+jwt credential uploaded as a file.
    jwt = _issue(server, "lfp-storage-pack.json", fmt="jwt")["credentials"]["annex-xiii-1"]
    visitor.goto("/verify")
    visitor.page.set_input_files(
        "#file", files=[{"name": "passport.jwt", "mimeType": "text/plain", "buffer": jwt.encode()}]
    )
    visitor.submit("Verify")
    assert "The credential is valid" in visitor.page.locator("#result").inner_text()


def test_a_page_without_a_paint_is_measured_with_scripts_off(pages) -> None:
    # With page scripts off, timers and observers in an evaluation never fire: the
    # measurement must not wait on them for a paint that has not come (or never will).
    plain = pages(java_script_enabled=False)
    plain.page.set_content("<html><body></body></html>")
    entry = plain.measure("blank-no-script", phone=False)
    assert entry["fcp_ms"] is None


def test_dashboard_upload_shows_gaps(server, pages) -> None:
    exporter = pages()
    exporter.goto("/login")
    exporter.measure("login")
    exporter.check_accessibility("login")
    exporter.sign_in("exporter")
    assert exporter.page.url.endswith("/dashboard")
    exporter.measure("dashboard")
    exporter.check_accessibility("dashboard")

    # With scripts: streamed progress, then the batch link.
    page = exporter.page
    page.set_input_files("#file", str(DATA / "platform-export.csv"))
    page.get_by_role("button", name="Upload and issue").click()
    page.wait_for_selector("#batch-link", timeout=60_000)
    log = page.inner_text("#progress-log")
    assert "Z9ZPEB3SPRS001E9R0000457" in log and "NOT-A-CODE" in log
    assert "2 / 3" in page.inner_text("#progress-text") or "3 / 3" in page.inner_text(
        "#progress-text"
    )
    page.click("#batch-link")
    page.wait_for_load_state("load")
    batch_url = page.url
    main = page.inner_text("main")
    assert "Z9ZPEB3SPRS001E9R0000457" in main and "Z9ZPEB3SPRS001E9R0000458" in main
    heat = page.locator("table.heatmap")
    row = heat.locator("tbody tr", has=page.locator("th", has_text="Battery chemistry"))
    assert row.locator("td").first.inner_text().strip().startswith("F")
    assert "filled" in row.locator("td").first.get_attribute("class")
    footprint = heat.locator(
        "tbody tr", has=page.locator("th", has_text="Battery carbon footprint per functional")
    )
    statuses = [c.get_attribute("class") for c in footprint.locator("td").all()]
    assert "st-filled" in statuses[0] and "st-filled" not in statuses[1]
    assert "National compliance findings" in main
    exporter.measure("batch")
    exporter.check_accessibility("batch")

    gaps = page.request.get(batch_url + "/gaps.csv")
    rows = list(csv.DictReader(io.StringIO(gaps.text().lstrip("\ufeff"))))
    chemistry = [r for r in rows if r["key"] == "battery_chemistry"]
    assert {r["battery_code"] for r in chemistry} == {
        "Z9ZPEB3SPRS001E9R0000457",
        "Z9ZPEB3SPRS001E9R0000458",
    }
    assert {r["status"] for r in chemistry} == {"filled"}
    passports = page.request.get(batch_url + "/passports.json").json()
    assert len(passports["passports"]) == 2

    # Without scripts the same form posts and answers with a result page.
    plain = pages(java_script_enabled=False)
    plain.sign_in("exporter")
    # A recycled battery gets no passport (Art. 77(8)): refused with the event named.
    recycled = (RECORDS / "end-of-life-pack.json").read_bytes().replace(b"\n", b"") + b"\n"
    plain.page.set_input_files(
        "#file",
        files=[{"name": "eol.ndjson", "mimeType": "application/x-ndjson", "buffer": recycled}],
    )
    plain.submit("Upload and issue")
    result = plain.page.inner_text("main")
    assert "0 of 1 records became passports" in result
    assert "/events/5" in result and "Art. 77(8)" in result
    plain.goto("/dashboard")
    ndjson = (RECORDS / "vin-repair-pack.json").read_bytes().replace(b"\n", b"") + b"\n"
    plain.page.set_input_files(
        "#file",
        files=[{"name": "records.ndjson", "mimeType": "application/x-ndjson", "buffer": ndjson}],
    )
    plain.submit("Upload and issue")
    assert "1 of 1 records became passports" in plain.page.inner_text("main")
    plain.measure("upload-result")

    # axe needs scripts: the same result page, the form cloned without its listener.
    exporter.goto("/dashboard")
    page.evaluate(
        "() => { const f = document.getElementById('upload-form');"
        " f.replaceWith(f.cloneNode(true)); }"
    )
    page.set_input_files(
        "#file",
        files=[{"name": "records.ndjson", "mimeType": "application/x-ndjson", "buffer": ndjson}],
    )
    exporter.submit("Upload and issue")
    assert "already uploaded" in page.inner_text("main") or "refused" in page.inner_text("main")
    exporter.check_accessibility("upload-result")


def test_mapping_editor_edit_validate_publish(server, pages) -> None:
    editor = pages()
    editor.sign_in("editor")
    page = editor.page
    assert page.url.endswith("/mapping-editor")
    editor.measure("mapping-editor")
    editor.check_accessibility("mapping-editor")

    page.get_by_label("New version").fill("1.0.1")
    editor.submit("Create draft")
    assert page.url.endswith("/mapping-editor/cn-trace-to-eu-passport/1.0.1")

    # Filters narrow the table (no script needed: a GET form).
    page.get_by_label("Text", exact=True).fill("batteryModelIdentifier")
    editor.submit("Apply")
    assert "Showing 1 of" in page.inner_text("main")
    editor.measure("mapping-table")
    editor.check_accessibility("mapping-table")

    # Inline edit with a mistake: the row shows its validation message.
    row = page.locator("#row-3")
    row.locator("summary").click()
    row.get_by_label("Source path (subject_id)").fill("cntrace:battery.nope")
    row.get_by_role("button", name="Save row").click()
    page.wait_for_selector("#problems-3")
    assert "not in the record model" in page.inner_text("#problems-3")

    row = page.locator("#row-3")
    row.locator("summary").click()
    row.get_by_label("Source path (subject_id)").fill("cntrace:battery.model")
    row.get_by_label("Comment").fill("Model designation as printed on the label.")
    row.get_by_role("button", name="Save row").click()
    page.wait_for_function("() => !document.querySelector('#problems-3')")
    assert "valid" in page.locator("#row-3").inner_text()

    page.goto(f"{server.url}/mapping-editor/cn-trace-to-eu-passport/1.0.1/diff")
    diff = page.inner_text("main")
    assert "patch" in diff and "Model designation as printed on the label." in diff
    editor.measure("mapping-diff")
    editor.check_accessibility("mapping-diff")

    editor.goto("/mapping-editor/cn-trace-to-eu-passport/1.0.1/impact")
    assert "fixtures/records/ncm-ev-pack.json" in page.inner_text("main")
    editor.measure("mapping-impact")
    editor.check_accessibility("mapping-impact")

    editor.goto("/mapping-editor/cn-trace-to-eu-passport/1.0.1/publish")
    editor.measure("mapping-publish")
    editor.check_accessibility("mapping-publish")
    page.get_by_role("checkbox").check()
    editor.submit("Publish")
    assert re.search(r"published", page.inner_text("main"))
    assert "Edit row" not in page.inner_text("main")
