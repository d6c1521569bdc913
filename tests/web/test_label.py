"""The printable label without a browser: what it carries (QR code or DataMatrix with
its error correction and quiet zone, the GB/T 34014 code, the battery's unique product
identifier), which fields fit, and how codes, e-mail addresses and URLs are kept whole."""

from __future__ import annotations

import io
import re
from html import unescape

import pytest
import segno

from gateway.web.label import (
    DATAMATRIX_BORDER,
    LINES,
    LabelField,
    datamatrix_svg,
    fitting,
    lines,
    url_parts,
    width,
)
from gateway.web.passport import QR_BORDER, QR_ERROR, QR_SCALE
from tests.helpers import RECORDS, issue_keys

CODE = "Z9ZPEN8K52S96AE740000319"
#: The battery's identifier: its tenant set no scheme, so an identification link of the
#: gateway (tests' base URL) embedding the code.
UPI = f"http://127.0.0.1:8080/id/{CODE}"
HTML = {"Accept": "text/html"}


@pytest.fixture
def issued(app, client) -> dict:
    keys = issue_keys(app.extensions["gateway.settings"])
    created = client.post(
        "/passports",
        data=(RECORDS / "ncm-ev-pack.json").read_bytes(),
        content_type="application/json",
        headers=keys["exporter"],
    )
    assert created.status_code == 201
    return created.get_json()


def _label_of(client, query: str) -> str:
    response = client.get(f"/passports/{CODE}/label{query}", headers=HTML)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _label(client, headers=HTML) -> str:
    response = client.get(f"/passports/{CODE}/label", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_label_carries_the_code_the_identifier_and_the_qr_settings(client, issued) -> None:
    html = _label(client)
    article = re.search(r'<article class="label".*?</article>', html, re.S)[0]
    assert f'<code class="nobreak">{CODE}</code>' in article
    assert "GB/T 34014" in article
    assert issued["credentials"]["annex-xiii-1"]["credentialSubject"][
        "uniqueProductIdentifier"
    ] == (url := UPI)
    # The URL, cut only after its slashes.
    shown = re.search(r'<p class="label-url">(.*?)</p>', article, re.S)[1]
    assert unescape(re.sub(r"<[^>]+>", "", shown)) == url
    assert shown.count("<wbr>") == url.count("/") - (1 if url.endswith("/") else 0)
    assert "QR code, error correction M, quiet zone 4 modules" in article
    # Fields that only repeat the code are left off; the chemistry is on.
    assert re.search(r"<dt>Battery chemistry</dt> <dd><span class=\"nobreak\">NCM811", article)
    assert "Serial number" not in article
    # E-mail addresses and other one-word values are never broken inside.
    for token in re.findall(r'<span class="nobreak">([^<]*)</span>', article):
        assert " " not in token


def test_label_in_chinese_uses_the_chinese_attribute_labels(client, issued) -> None:
    html = _label(client, {**HTML, "Accept-Language": "zh-CN"})
    assert "<dt>电池化学体系</dt>" in html and "二维码，纠错等级 M，静区 4 模块" in html


def test_qr_code_has_the_stated_error_correction_and_quiet_zone(client, issued) -> None:
    svg = client.get(f"/passports/{CODE}/qr.svg").get_data(as_text=True)
    # The QR code carries the battery's unique product identifier, which the resolver
    # answers with the passport.
    symbol = segno.make(UPI, error=QR_ERROR, micro=False)
    assert symbol.error == QR_ERROR and QR_BORDER == 4
    side = (symbol.symbol_size(scale=1, border=0)[0] + 2 * QR_BORDER) * QR_SCALE
    assert re.search(rf'width="{side}" height="{side}"', svg)
    expected = io.BytesIO()
    symbol.save(expected, kind="png", scale=QR_SCALE, border=QR_BORDER)
    assert client.get(f"/passports/{CODE}/qr.png").data == expected.getvalue()


def test_the_datamatrix_label_states_its_symbol(client, issued) -> None:
    html = _label_of(client, "?symbol=datamatrix")
    assert f'src="/passports/{CODE}/datamatrix.svg"' in html
    assert f"DataMatrix ECC 200, quiet zone {DATAMATRIX_BORDER} modules" in html
    assert "qr.svg" not in html
    bad = client.get(f"/passports/{CODE}/label?symbol=aztec", headers=HTML)
    assert 400 <= bad.status_code < 500 and bad.mimetype == "text/html"


def _modules(svg: str) -> tuple[int, int, set[tuple[int, int]]]:
    """The symbol size and the dark modules of a DataMatrix SVG, quiet zone included."""
    width, height = map(int, re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).groups())
    dark = {(int(x), int(y)) for x, y in re.findall(r"M(\d+),(\d+)h1v1h-1z", svg)}
    return width, height, dark


def test_datamatrix_has_the_ecc200_finder_and_its_quiet_zone(client, issued) -> None:
    svg = client.get(f"/passports/{CODE}/datamatrix.svg").get_data(as_text=True)
    assert svg == datamatrix_svg(UPI)
    width, height, dark = _modules(svg)
    b = DATAMATRIX_BORDER
    size = width - 2 * b
    # ISO/IEC 16022 square ECC 200 sizes, and a 51-character URL needs at least 26x26.
    assert size in (26, 32, 36, 40, 44) and height == width
    # The quiet zone is light all round.
    assert not {(x, y) for x, y in dark if min(x, y) < b or max(x, y) >= width - b}
    # The finder pattern: solid left column and bottom row, alternating top row and
    # right column (one data region per side below 32x32; this checks the outer edges).
    assert all((b, b + y) in dark for y in range(size))
    assert all((b + x, b + size - 1) in dark for x in range(size))
    assert all(((b + x, b) in dark) == (x % 2 == 0) for x in range(size))
    assert all(((b + size - 1, b + y) in dark) == (y % 2 == 1) for y in range(size))


def test_label_of_an_unknown_code_is_a_404_page(client) -> None:
    response = client.get("/passports/Z9ZPEN8K52S96AE740009999/label", headers=HTML)
    assert response.status_code == 404 and response.mimetype == "text/html"
    for symbol in ("datamatrix.svg", "qr.svg"):
        image = client.get(f"/passports/Z9ZPEN8K52S96AE740009999/{symbol}", headers=HTML)
        assert image.status_code == 404


def _field(label: str, text: str) -> LabelField:
    return LabelField(label, text, "", "text")


def test_fields_are_taken_in_order_while_they_fit() -> None:
    short = [_field("Chemistry", "LFP")] * LINES
    fields, more = fitting(short)
    assert len(fields) == LINES and more == 0
    fields, more = fitting([*short, _field("Mass", "1 kg")])
    assert len(fields) == LINES and more == 1
    # A long field that does not fit ends the label: the next short one is not squeezed in.
    long = _field("Address", "x " * 1000)
    fields, more = fitting([_field("A", "b"), long, _field("C", "d")])
    assert fields == [_field("A", "b")] and more == 2


def test_wide_characters_count_twice() -> None:
    assert width("电池") == 4 and width("LFP") == 3
    assert lines(_field("电池化学体系", "x" * 40)) > lines(_field("Battery", "x" * 40)) - 1


def test_urls_break_only_after_a_slash() -> None:
    assert url_parts("https://gw.example/passports/ABC") == (
        "https:/",
        "/",
        "gw.example/",
        "passports/",
        "ABC",
    )
    assert "".join(url_parts("https://a/b/")) == "https://a/b/"
