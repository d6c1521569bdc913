"""A battery's identifier through the real server and Chromium: the QR target (a GS1
Digital Link and an identification link) answers the browser with the passport page and
machines with JSON-LD or the link set; the DataMatrix label prints as one page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.browser

RECORDS = Path(__file__).resolve().parents[2] / "fixtures" / "records"
LFP = "Z9ZPBS2ESS2801F5A0000088"  # lfp-storage-pack.json, GTIN 09506000134352
DIGITAL_LINK = f"/01/09506000134352/21/{LFP[4:]}"
#: 100 mm x 70 mm in PDF points.
LABEL_POINTS = (100 / 25.4 * 72, 70 / 25.4 * 72)


def _api(server, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {server.keys['exporter']}", **kwargs.pop("headers", {})}
    return requests.request(method, server.url + path, headers=headers, timeout=60, **kwargs)


@pytest.fixture(scope="module")
def issued(server) -> dict:
    scheme = {"scheme": "gs1-digital-link", "domain": "id.mindong.cn"}
    assert _api(server, "PUT", "/identifier-scheme", json=scheme).status_code == 200
    response = _api(
        server,
        "POST",
        "/passports",
        data=(RECORDS / "lfp-storage-pack.json").read_bytes(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code in (201, 409), response.text
    return response.json()


def test_the_qr_target_opens_the_passport_page_in_a_browser(server, issued, pages, artifacts):
    visitor = pages()
    for path in (DIGITAL_LINK, f"/id/{LFP}"):
        response = visitor.page.goto(server.url + path)
        assert response is not None and response.status == 200
        assert response.headers["content-type"].startswith("text/html")
        assert "linkset" in response.headers["link"]
        assert LFP in visitor.page.inner_text("main")
    visitor.page.screenshot(path=str(artifacts / "resolver-page.png"))


def test_machines_get_json_ld_and_the_linkset_over_http(server, issued):
    anonymous = requests.get(
        server.url + DIGITAL_LINK, headers={"Accept": "application/linkset+json"}, timeout=60
    )
    assert anonymous.status_code == 200
    assert anonymous.headers["Content-Type"].startswith("application/linkset+json")
    [context] = anonymous.json()["linkset"]
    assert context["anchor"] == "https://id.mindong.cn" + DIGITAL_LINK
    credentials = context["https://www.w3.org/2018/credentials#verifiableCredential"]
    assert [c["href"].rsplit("/", 1)[1] for c in credentials] == ["annex-xiii-1"]
    own = _api(server, "GET", DIGITAL_LINK, headers={"Accept": "application/linkset+json"})
    assert (
        len(own.json()["linkset"][0]["https://www.w3.org/2018/credentials#verifiableCredential"])
        > 1
    )
    ld = requests.get(
        server.url + DIGITAL_LINK, headers={"Accept": "application/ld+json"}, timeout=60
    )
    assert ld.json()["id"] == f"{server.url}/passports/{LFP}"
    assert 'rel="dpp"' in ld.headers["Link"] and 'rel="cite-as"' in ld.headers["Link"]


def test_the_datamatrix_label_prints_as_one_page(server, issued, pages, artifacts, capsys):
    browser = pages()
    browser.goto(f"/passports/{LFP}/label?symbol=datamatrix")
    page = browser.page
    page.wait_for_load_state("load")
    assert page.locator("img[src$='datamatrix.svg']").evaluate("i => i.naturalWidth") > 0
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    (artifacts / "label-datamatrix.pdf").write_bytes(pdf)
    pages_in_pdf = re.findall(rb"/Type\s*/Page(?![s\w])", pdf)
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    assert len(pages_in_pdf) == 1, f"the label prints as {len(pages_in_pdf)} pages"
    width, height = (float(v) for v in boxes[0])
    assert abs(width - LABEL_POINTS[0]) < 1.5 and abs(height - LABEL_POINTS[1]) < 1.5
    page.emulate_media(media="print")
    text = page.inner_text(".label")
    assert LFP in text and "id.mindong.cn" in text.replace("\n", "")
    shot = artifacts / "label-datamatrix-print.png"
    page.screenshot(path=str(shot))
    with capsys.disabled():
        print(f"\nscreenshot: {shot}")
