"""The label, the public passport page and the verify page in a real browser: the label
prints as one page of 100 mm x 70 mm with nothing broken inside a code, the passport
page shows readiness, national errors and revocation in words, the verify page speaks
plainly in English and Chinese. Screenshots (and the label's PDF) are saved in the
pytest temporary folder's ``web-artifacts`` and their paths printed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
RECORDS = ROOT / "fixtures" / "records"
CODE = "Z9ZPEN8K52S96AE740000319"  # ncm-ev-pack.json
REVOKED = "Z9ZPBS2ESS2801F5A0000088"  # lfp-storage-pack.json
NON_LISTED = "4A6PEPM27KLPCLE741000001"  # compliance/late-report.json
ZH = {"locale": "zh-CN", "extra_http_headers": {"Accept-Language": "zh-CN,zh;q=0.9"}}
#: 100 mm x 70 mm in PDF points (1 pt = 1/72 in).
LABEL_POINTS = (100 / 25.4 * 72, 70 / 25.4 * 72)


def _api(server, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {server.keys['exporter']}", **kwargs.pop("headers", {})}
    return requests.request(method, server.url + path, headers=headers, timeout=60, **kwargs)


@pytest.fixture(scope="module")
def passports(server) -> dict[str, dict]:
    issued = {}
    for name in ("ncm-ev-pack.json", "lfp-storage-pack.json"):
        response = _api(
            server,
            "POST",
            "/passports",
            data=(RECORDS / name).read_bytes(),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 201, response.text
        issued[name] = response.json()
    response = _api(
        server,
        "POST",
        "/passports",
        data=(RECORDS / "compliance" / "late-report.json").read_bytes(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert _api(server, "POST", f"/passports/{REVOKED}/revoke", json={}).status_code == 200
    return issued


def _saved(capsys, *paths: Path) -> None:
    with capsys.disabled():
        for path in paths:
            print(f"\nscreenshot: {path}")


def _pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """The size of each page of a PDF (Chromium writes one ``/Type /Page`` object with a
    ``/MediaBox`` per page)."""
    pages = re.findall(rb"/Type\s*/Page(?![s\w])", pdf)
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    assert len(boxes) >= len(pages)
    return [(float(w), float(h)) for w, h in boxes[: len(pages)]]


def _whole(page, selector: str) -> list[str]:
    """The texts of the elements that a line break cuts in two (more than one line box)."""
    return page.evaluate(
        """(sel) => [...document.querySelectorAll(sel)]
            .filter((e) => e.getClientRects().length > 1 ||
                    Math.round(e.getBoundingClientRect().height) >
                    Math.ceil(parseFloat(getComputedStyle(e).lineHeight) * 1.5))
            .map((e) => e.textContent)""",
        selector,
    )


@pytest.mark.parametrize("language", ["en", "zh"])
def test_label_prints_as_one_page_of_100_by_70_mm(
    server, passports, pages, artifacts, capsys, language
) -> None:
    browser = pages(**(ZH if language == "zh" else {}))
    browser.goto(f"/passports/{CODE}/label")
    page = browser.page
    page.wait_for_load_state("load")
    assert page.locator("img[src$='qr.svg']").evaluate("i => i.naturalWidth") > 0
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    pdf_path = artifacts / f"label-{language}.pdf"
    pdf_path.write_bytes(pdf)
    sizes = _pdf_pages(pdf)
    assert len(sizes) == 1, f"the label prints as {len(sizes)} pages"
    width, height = sizes[0]
    assert abs(width - LABEL_POINTS[0]) < 1.5 and abs(height - LABEL_POINTS[1]) < 1.5, sizes

    # As printed: the code, e-mail addresses and URL parts on one line each, and the
    # fields that were chosen all shown (the label clips rather than spill over).
    page.emulate_media(media="print")
    assert _whole(page, ".label .nobreak, .label code") == []
    fits = page.evaluate(
        "() => { const i = document.querySelector('.label-info');"
        " return i.scrollHeight <= i.clientHeight + 1; }"
    )
    assert fits, "the label's fields overflow the label"
    text = page.inner_text(".label")
    assert CODE in text and "GB/T 34014" in text
    shot = artifacts / f"label-print-{language}.png"
    page.screenshot(path=str(shot))
    page.emulate_media(media="screen")
    browser.measure(f"label-{language}")
    browser.check_accessibility(f"label-{language}")
    assert _whole(page, ".label .nobreak, .label code") == []  # on screen too
    _saved(capsys, pdf_path, shot, artifacts / f"label-{language}-phone.png")


def test_public_page_shows_readiness_national_errors_and_revocation(
    server, passports, pages, artifacts, capsys
) -> None:
    visitor = pages()
    visitor.goto(f"/passports/{CODE}")
    page = visitor.page
    readiness = page.inner_text("#readiness")
    assert re.search(r"\d+ % ready", readiness)
    assert re.search(r"\d+ of the \d+ mandatory EU attributes", readiness)
    assert re.search(r"\d+ mandatory attributes are missing", readiness)
    assert page.inner_text("#badge-h").startswith("✓ Verified")
    visitor.measure("passport-readiness")
    visitor.check_accessibility("passport-readiness")

    visitor.goto(f"/passports/{REVOKED}")
    badge = page.inner_text("#badge")
    assert badge.startswith("✗ Revoked by the issuer")
    assert "Status: ✗ Revoked by the issuer" in badge
    assert "Suspended" not in badge and "Status list" not in badge
    visitor.measure("passport-revoked")
    visitor.check_accessibility("passport-revoked")

    visitor.goto(f"/passports/{NON_LISTED}")
    notice = page.inner_text("#national")
    assert "Reported to the national platform after the deadline" in notice
    assert "某某再生资源科技有限公司" not in page.inner_text("main")
    assert page.inner_text("#badge-h").startswith("⚠")
    visitor.measure("passport-national")
    visitor.check_accessibility("passport-national")

    chinese = pages(**ZH)
    chinese.goto(f"/passports/{REVOKED}")
    assert chinese.page.inner_text("#badge-h") == "✗ 已被签发方撤销"
    facts = chinese.page.inner_text("dl.facts")
    assert "电池化学体系" in facts and "Battery chemistry" not in facts
    chinese.measure("passport-revoked-zh")
    _saved(
        capsys,
        *(
            artifacts / f"{name}-{size}.png"
            for name in ("passport-readiness", "passport-revoked", "passport-national")
            for size in ("desktop", "phone")
        ),
        artifacts / "passport-revoked-zh-desktop.png",
    )


@pytest.mark.parametrize("language", ["en", "zh"])
def test_verify_page_speaks_plainly(server, passports, pages, artifacts, capsys, language) -> None:
    credential = passports["ncm-ev-pack.json"]["credentials"]["annex-xiii-1"]
    visitor = pages(**(ZH if language == "zh" else {}))
    visitor.goto("/verify")
    page = visitor.page
    page.fill("#credential", json.dumps(credential))
    visitor.submit("验证" if language == "zh" else "Verify")
    result = page.inner_text("#result")
    rows = page.locator("table.outcomes tbody th").all_inner_texts()
    if language == "en":
        assert result.startswith("✓ The credential is valid")
        assert "What the credential states" in result and CODE in result
        assert rows[:2] == ["Credential format", "Signature"] and "Not revoked or suspended" in rows
        assert "Neither revoked nor suspended." in result
    else:
        assert result.startswith("✓ 凭证有效")
        assert "凭证声明的内容" in result and CODE in result
        assert rows[:2] == ["凭证格式", "签名"] and "未被撤销或暂停" in rows
        assert "既未被撤销，也未被暂停。" in result and "bit " not in result
    assert not any(re.fullmatch(r"[\w-]+(\.[\w-]+)+", row) for row in rows)  # no raw ids
    # "✓ passed" (and "✓ 通过") on one line, at desktop and at phone width.
    assert _whole(page, "#result .check") == []
    visitor.measure(f"verify-plain-{language}")
    assert _whole(page, "#result .check") == []
    page.set_viewport_size({"width": 375, "height": 740})
    assert _whole(page, "#result .check") == []
    page.set_viewport_size({"width": 1280, "height": 900})
    visitor.check_accessibility(f"verify-plain-{language}")

    # The revoked passport's credential: revoked, in words, never also "suspended".
    revoked = passports["lfp-storage-pack.json"]["credentials"]["annex-xiii-1"]
    visitor.goto("/verify")
    page.fill("#credential", json.dumps(revoked))
    visitor.submit("验证" if language == "zh" else "Verify")
    heading = page.inner_text("#result-h")
    assert heading == ("✗ 已被签发方撤销" if language == "zh" else "✗ Revoked by the issuer")
    summary = page.inner_text("table.outcomes")
    assert ("已被签发方暂停" if language == "zh" else "Suspended by the issuer") not in summary
    visitor.measure(f"verify-revoked-{language}")
    _saved(
        capsys,
        *(
            artifacts / f"verify-{kind}-{language}-{size}.png"
            for kind in ("plain", "revoked")
            for size in ("desktop", "phone")
        ),
    )


def test_browsers_get_an_error_page_and_a_favicon(server, pages, artifacts, capsys) -> None:
    visitor = pages()
    response = visitor.goto("/no/such/page")
    assert response.status == 404
    assert "Page not found" in visitor.page.inner_text("h1")
    icon = visitor.page.evaluate(
        "() => fetch(document.querySelector('link[rel=icon]').href)"
        ".then((r) => r.ok && r.headers.get('content-type'))"
    )
    assert icon.startswith("image/svg+xml")
    visitor.measure("not-found")
    visitor.check_accessibility("not-found")
    _saved(capsys, artifacts / "not-found-desktop.png")
