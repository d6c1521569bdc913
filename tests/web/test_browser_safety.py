"""The safety headers in a real browser: Swagger UI works under its Content-Security-Policy,
and no page of the gateway can be framed by another site. (Every browser test also fails
on any CSP violation: see the ``pages`` fixture.)"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_swagger_ui_renders_the_contract_under_its_policy(pages) -> None:
    browser = pages()
    browser.goto("/docs/")
    page = browser.page
    page.wait_for_selector(".opblock", timeout=20_000)
    assert page.locator(".opblock").count() > 10
    assert "Battery Passport Gateway API" in page.title()


@pytest.mark.parametrize("path", ["/dashboard", "/mapping-editor", "/verify", "/login", "/docs/"])
def test_pages_refuse_to_be_framed(pages, server, path) -> None:
    browser = pages()
    page = browser.page
    page.set_content(f'<iframe src="{server.url}{path}" width="400" height="300"></iframe>')
    page.wait_for_timeout(1500)
    framed = [frame for frame in page.frames if frame is not page.main_frame]
    assert framed, "the iframe was not created"
    # A refused frame is left blank (Chromium's error page), never the gateway's page.
    for frame in framed:
        assert not frame.url.startswith(server.url) or frame.content().count("<form") == 0
        body = frame.evaluate("() => document.body ? document.body.innerText : ''")
        assert "Sign in" not in body and "Verify" not in body
    refused = [v for v in browser.csp_violations if "frame-ancestors" in v]
    assert refused, browser.csp_violations
    browser.csp_violations.clear()  # expected here; any other refusal still fails
