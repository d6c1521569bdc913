"""The pages tell the whole truth: readiness and missing attributes on the public page,
national errors as a notice, revoked and suspended said in words (on the page and by
``gateway verify``), verify results in plain words in both languages, Chinese attribute
labels, HTML error pages for browsers, a favicon, and a mapping table in pages."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.compliance.rules import RULES
from gateway.vocab.catalog import load_catalog
from gateway.web.i18n import CATALOG_DIR
from gateway.web.mappings import PAGE_SIZE
from tests.helpers import RECORDS, assert_problem, issue_keys

CODE = "Z9ZPEN8K52S96AE740000319"  # fixtures/records/ncm-ev-pack.json
NON_LISTED = "4A6PEPM27KLPCLE741000001"  # compliance/late-report.json
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
ZH = {**HTML, "Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.fixture
def keys(app: Flask) -> dict[str, dict[str, str]]:
    return issue_keys(app.extensions["gateway.settings"])


def _issue(client: FlaskClient, header: dict[str, str], name: str = "ncm-ev-pack.json") -> dict:
    created = client.post(
        "/passports",
        data=(RECORDS / name).read_bytes(),
        content_type="application/json",
        headers=header,
    )
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def _text(html: str) -> str:
    """The visible text of a page, tags dropped and white space folded."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.DOTALL)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def _page(client: FlaskClient, path: str, headers: dict[str, str] = HTML) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


@pytest.fixture
def issued(client: FlaskClient, keys) -> dict:
    return _issue(client, keys["exporter"])


def _gaps(client: FlaskClient, keys, code: str) -> dict:
    return client.get(f"/passports/{code}/gaps", headers=keys["exporter"]).get_json()


# -- the public passport page ------------------------------------------------------------


def test_public_page_shows_readiness_and_missing_count_from_the_gap_report(
    client, keys, issued
) -> None:
    summary = _gaps(client, keys, CODE)["summary"]
    applicable, filled = summary["mandatory_applicable"], summary["mandatory_filled"]
    text = _text(_page(client, f"/passports/{CODE}"))
    assert f"{round(100 * filled / applicable)} % ready" in text
    assert f"{filled} of the {applicable} mandatory EU attributes" in text
    assert f"{applicable - filled} mandatory attributes are missing." in text
    # Counts only: nothing of points 2 to 4 reaches an anonymous reader.
    for restricted in ("LiNi0.8Co0.1Mn0.1O2", "State of health", "Annex XIII point 4"):
        assert restricted not in text


def test_national_errors_are_a_notice_with_rule_titles_never_the_message(client, keys) -> None:
    _issue(client, keys["exporter"], "compliance/late-report.json")
    findings = _gaps(client, keys, NON_LISTED)["national"]["findings"]
    errors = [f for f in findings if f["severity"] == "error"]
    assert errors
    html = _page(client, f"/passports/{NON_LISTED}")
    notice = re.search(
        r'<section class="notice warn"[^>]*id="national">(.*?)</section>', html, re.S
    )
    assert notice, "no national notice"
    text = _text(notice.group(1))
    assert f"national traceability checks: {len(errors)}" in text
    assert "Reported to the national platform after the deadline" in text
    # The recycler's name and the finding's wording stay with the issuer and authorities.
    page = _text(html)
    for finding in findings:
        assert finding["message"] not in page
    assert "某某再生资源科技有限公司" not in page
    # The badge no longer shows a plain green "Verified".
    assert 'class="badge warn"' in html
    assert "Signature verified, but the record failed national checks" in page


def test_unsettled_national_checks_are_a_notice_not_a_breach(client, keys) -> None:
    """A rule whose table is incomplete (the white-list) leaves compliance unknown: the
    page says so in words, neither a green badge nor "failed"."""
    issued = _issue(client, keys["exporter"], "compliance/non-whitelisted-recycler.json")
    code = issued["batteryCode"]
    national = _gaps(client, keys, code)["national"]
    assert national["summary"]["compliant"] == "unknown"
    html = _page(client, f"/passports/{code}")
    notice = re.search(
        r'<section class="notice warn"[^>]*id="national">(.*?)</section>', html, re.S
    )
    assert notice, "no national notice"
    assert "could not be settled" in _text(notice.group(1))
    page = _text(html)
    assert "compliance with national checks could not be established" in page
    assert "failed national checks" not in page
    assert 'class="badge warn"' in html
    chinese = _text(_page(client, f"/passports/{code}", ZH))
    assert "无法确定结论的国内溯源检查" in chinese


def test_clean_record_has_no_national_notice_and_a_green_badge(client, issued) -> None:
    html = _page(client, f"/passports/{CODE}")
    assert 'id="national"' not in html
    assert 'class="badge good"' in html and "✓ Verified" in _text(html)


@pytest.mark.parametrize(
    ("action", "said", "unsaid"),
    [
        ("revoke", "Revoked by the issuer", "Suspended by the issuer"),
        ("suspend", "Suspended by the issuer", "Revoked by the issuer"),
    ],
)
def test_revoked_and_suspended_are_said_in_words(
    client, keys, issued, action, said, unsaid
) -> None:
    assert (
        client.post(f"/passports/{CODE}/{action}", json={}, headers=keys["exporter"]).status_code
        == 200
    )
    html = _page(client, f"/passports/{CODE}")
    badge = _text(re.search(r'<section class="badge bad"[^>]*>(.*?)</section>', html, re.S)[1])
    assert badge.startswith(f"✗ {said}")
    assert f"Status: ✗ {said}" in badge
    assert unsaid not in badge and "Status list" not in badge
    # The EN 18223 block as signed at issue says "active": the page never shows it.
    assert "dppStatus" not in html and "active" not in _text(html).lower().split()


def test_superseded_passport_says_it_was_replaced(client, keys, issued) -> None:
    _issue(client, keys["exporter"], "echelon-pack.json")
    successor = json.loads((RECORDS / "echelon-pack.json").read_text())["battery"]["code"]
    done = client.post(
        f"/passports/{CODE}/supersede", json={"successor": successor}, headers=keys["exporter"]
    )
    assert done.status_code == 200, done.get_json()
    text = _text(_page(client, f"/passports/{CODE}"))
    assert "Replaced by a newer passport" in text and "Suspended by the issuer" not in text


def test_chinese_page_translates_attribute_labels_and_key_facts(client, issued) -> None:
    html = _page(client, f"/passports/{CODE}", ZH)
    facts = _text(re.search(r'<dl class="facts">(.*?)</dl>', html, re.S)[1])
    assert "制造商名称" in facts and "电池化学体系" in facts and "额定容量" in facts
    assert "Manufacturer name" not in facts and "Rated capacity" not in facts
    text = _text(html)
    assert "护照完整度" in text and "Battery chemistry" not in text


def test_every_catalog_attribute_has_a_chinese_label() -> None:
    labels = json.loads((CATALOG_DIR / "attributes.zh.json").read_text(encoding="utf-8"))
    assert set(labels) == {a.key for a in load_catalog()}
    assert len(labels) == 119
    for key, label in labels.items():
        assert label.strip() and re.search(r"[\u4e00-\u9fff]", label), key


def test_error_rules_have_titles_in_both_languages() -> None:
    en = json.loads((CATALOG_DIR / "en.json").read_text(encoding="utf-8"))
    zh = json.loads((CATALOG_DIR / "zh.json").read_text(encoding="utf-8"))
    for rule in RULES.values():
        if rule.severity == "error":
            assert f"rule.{rule.id}" in en and f"rule.{rule.id}" in zh, rule.id


# -- gateway verify ----------------------------------------------------------------------


def test_cli_reports_a_revoked_credential_as_revoked_only(
    client, keys, issued, runner, tmp_path
) -> None:
    assert (
        client.post(f"/passports/{CODE}/revoke", json={}, headers=keys["exporter"]).status_code
        == 200
    )
    path = tmp_path / "public.json"
    path.write_text(json.dumps(issued["credentials"]["annex-xiii-1"]), encoding="utf-8")
    result = runner.invoke(args=["verify", path])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("NOT VERIFIED") and lines[0].endswith("revoked by the issuer")
    assert any(line.startswith("  x status.revocation: revoked") for line in lines)
    assert "suspended" not in result.output
    # The JSON form keeps every check, the suspension entry's included.
    data = json.loads(runner.invoke(args=["verify", "--json", path]).output)
    failed = {c["id"] for c in data[0]["checks"] if not c["ok"]}
    assert failed == {"status.revocation", "status.suspension"}


def test_cli_reports_a_suspended_credential_as_suspended(
    client, keys, issued, runner, tmp_path
) -> None:
    assert (
        client.post(f"/passports/{CODE}/suspend", json={}, headers=keys["exporter"]).status_code
        == 200
    )
    path = tmp_path / "public.json"
    path.write_text(json.dumps(issued["credentials"]["annex-xiii-1"]), encoding="utf-8")
    result = runner.invoke(args=["verify", path])
    assert result.exit_code == 1
    assert result.output.splitlines()[0].endswith("suspended by the issuer")
    assert "  x status.suspension: suspended" in result.output
    assert "revoked" not in result.output


# -- the verify page ---------------------------------------------------------------------


def _verify(client: FlaskClient, credential: dict, headers: dict[str, str] = HTML) -> str:
    response = client.post("/verify", data={"credential": json.dumps(credential)}, headers=headers)
    return response.get_data(as_text=True)


def test_verify_page_says_what_a_valid_credential_states(client, issued) -> None:
    html = _verify(client, issued["credentials"]["annex-xiii-1"])
    stated = _text(re.search(r'<dl class="stated"[^>]*>(.*?)</dl>', html, re.S)[1])
    assert "Issued by did:web:" in stated
    assert f"Battery code (GB/T 34014) {CODE}" in stated
    assert "Holds Annex XIII point 1 ·" in stated and "Valid from 20" in stated


def test_verify_page_plain_words_one_line_per_outcome(client, issued) -> None:
    html = _verify(client, issued["credentials"]["annex-xiii-1"])
    outcomes = re.search(r'<table class="checks outcomes">(.*?)</table>', html, re.S)[1]
    names = [_text(n) for n in re.findall(r'<th scope="row">(.*?)</th>', outcomes, re.S)]
    assert names[:2] == ["Credential format", "Signature"]
    assert "Not revoked or suspended" in names and len(names) == len(set(names))
    assert not any("." in name and " " not in name for name in names), names  # no raw ids
    # In the technical table every id is shown once, beside its plain name.
    technical = re.search(r'<details class="technical">(.*?)</details>', html, re.S)[1]
    for check_id in ("proof.cryptosuite", "vc.typed-objects", "status.suspension"):
        assert _text(technical).count(check_id) == 1, check_id
    assert "proof.cryptosuite proof.cryptosuite" not in _text(html)
    # "✓ passed" never wraps: each mark is one no-wrap span.
    assert '<span class="check ok">✓ passed</span>' in html


def test_verify_page_in_chinese_translates_names_and_reasons(client, issued) -> None:
    tampered = json.loads(json.dumps(issued["credentials"]["annex-xiii-1"]))
    tampered["credentialSubject"]["batteryChemistry"] = "LFP"
    text = _text(_verify(client, tampered, ZH))
    assert "凭证未通过验证" in text
    assert "签名与内容不符" in text and "signature does not match" not in text
    assert "既未被撤销，也未被暂停。" in text and "bit " not in text.split("全部技术检查")[0]
    assert "✓ 通过" in text


def test_verify_page_says_revoked_by_the_issuer(client, keys, issued) -> None:
    assert (
        client.post(f"/passports/{CODE}/revoke", json={}, headers=keys["exporter"]).status_code
        == 200
    )
    html = _verify(client, issued["credentials"]["annex-xiii-1"])
    heading = _text(re.search(r'<h2 id="result-h">(.*?)</h2>', html, re.S)[1])
    assert heading == "✗ Revoked by the issuer"
    zh = _text(_verify(client, issued["credentials"]["annex-xiii-1"], ZH))
    assert "已被签发方撤销" in zh and "已被签发方暂停" not in zh


def test_verify_page_stated_summary_only_for_a_valid_credential(client, issued) -> None:
    tampered = json.loads(json.dumps(issued["credentials"]["annex-xiii-1"]))
    tampered["credentialSubject"]["manufacturerName"] = "Someone Else"
    html = _verify(client, tampered)
    assert 'class="stated"' not in html and "did not verify" in html


# -- error pages and favicon -------------------------------------------------------------


def test_unknown_url_is_a_page_for_browsers_and_a_problem_for_clients(client) -> None:
    page = client.get("/no/such/page", headers=HTML)
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "Page not found" in _text(page.get_data(as_text=True))
    assert "Content-Security-Policy" in page.headers
    zh = client.get("/no/such/page", headers=ZH)
    assert zh.status_code == 404 and "未找到页面" in zh.get_data(as_text=True)
    for accept in ("*/*", "application/json", "application/problem+json"):
        assert_problem(client.get("/no/such/page", headers={"Accept": accept}), 404)
    # Not a page: a POST from anyone is an API call.
    assert_problem(client.post("/no/such/page", headers=HTML), 404)
    # Nothing of the request comes back.
    hostile = client.get("/%3Cscript%3Ealert(1)%3C/script%3E", headers=HTML)
    assert hostile.status_code == 404 and "<script>alert" not in hostile.get_data(as_text=True)


def test_pages_link_a_favicon_that_is_served(client) -> None:
    html = _page(client, "/verify")
    href = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html)[1]
    with client.get(href) as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
        assert b"<script" not in icon.data


# -- the mapping table in pages ----------------------------------------------------------


def _editor(app: Flask, keys, role: str = "editor") -> FlaskClient:
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    secret = keys[role]["Authorization"].removeprefix("Bearer ")
    assert client.post("/login", data={"api_key": secret, "csrf_token": token}).status_code == 303
    return client


TABLE = "/mapping-editor/cn-trace-to-eu-passport/1.0.0"


def _rows(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tbody id="row-(\d+)"', html)]


def test_mapping_table_is_paged_and_keeps_its_filters(app, keys) -> None:
    editor = _editor(app, keys)
    first = editor.get(TABLE).get_data(as_text=True)
    total = int(re.search(r"of the (\d+) that match \((\d+) rows", _text(first))[2])
    assert len(_rows(first)) == PAGE_SIZE and total > PAGE_SIZE
    pages = -(-total // PAGE_SIZE)
    assert f"Page 1 of {pages}" in _text(first) and 'rel="next"' in first
    second = editor.get(TABLE + "?page=2").get_data(as_text=True)
    assert set(_rows(second)).isdisjoint(_rows(first)) and len(_rows(second)) == PAGE_SIZE
    last = editor.get(TABLE + "?page=999").get_data(as_text=True)
    assert f"Page {pages} of {pages}" in _text(last) and 'rel="next"' not in last
    seen = set()
    for n in range(1, pages + 1):
        seen.update(_rows(editor.get(f"{TABLE}?page={n}").get_data(as_text=True)))
    assert len(seen) == total
    # Filters ride along in the pager's links.
    filtered = editor.get(TABLE + "?point=1").get_data(as_text=True)
    links = re.findall(r'<a rel="next" href="([^"]+)"', filtered)
    assert links and all("point=1" in unescape(link) for link in links)


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1e3", "9" * 40, "２"])
def test_mapping_table_refuses_a_malformed_page(app, keys, page) -> None:
    response = _editor(app, keys).get(TABLE, query_string={"page": page})
    assert response.status_code == 422
    alert = re.search(r'role="alert">(.*?)</p>', response.get_data(as_text=True))[1]
    assert alert == "page must be a whole number from 1"


def test_mapping_table_pages_need_an_editor(app, keys) -> None:
    anonymous = app.test_client().get(TABLE + "?page=2")
    assert anonymous.status_code == 303 and "/login" in anonymous.headers["Location"]
    assert _editor(app, keys, "importer").get(TABLE + "?page=2").status_code == 403


def test_validation_messages_span_the_table(app, keys) -> None:
    editor = _editor(app, keys)
    form = editor.get("/mapping-editor").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    created = editor.post(
        "/mapping-editor/drafts",
        data={
            "set": "cn-trace-to-eu-passport",
            "base_version": "1.0.0",
            "version": "1.0.1",
            "csrf_token": token,
        },
    )
    assert created.status_code == 303
    draft = "/mapping-editor/cn-trace-to-eu-passport/1.0.1"
    # Row 60 sits on page 3; a failed save shows its page with the message in full.
    edited = editor.post(
        f"{draft}/rows/60",
        data={"subject_id": "cntrace:battery.nope", "csrf_token": token},
        headers={"X-Fragment": "row"},
    )
    html = edited.get_data(as_text=True)
    assert edited.status_code == 200, html
    row = re.search(r'<tr class="messages"><td colspan="7">(.*?)</td></tr>', html, re.S)
    assert row and "not in the record model" in row.group(1)
    page = editor.get(f"{draft}?status=problem").get_data(as_text=True)
    assert 60 in _rows(page) and 'id="problems-60"' in page
    missing = editor.post(
        f"{draft}/rows/9999",
        data={"subject_id": "cntrace:battery.code", "csrf_token": token},
        headers={"X-Fragment": "row"},
    )
    assert missing.status_code in (404, 422)
