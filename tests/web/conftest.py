"""Browser tests: a real gateway over real HTTP on a loopback port, driven by Debian's
chromium through Playwright's Python package (never its bundled browsers).

Each test saves screenshots and page measurements (transferred bytes, first contentful
paint) to ``<pytest basetemp>/web-artifacts``; ``metrics.json`` there collects them.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.helpers import issue_secrets, make_app, skip_or_fail
from tests.live_server import free_port
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, Pages, Server


def pytest_configure(config: pytest.Config) -> None:
    # Also declared in pyproject's marker list; repeated here so --strict-markers holds
    # in any checkout of this folder.
    config.addinivalue_line("markers", "browser: drives a real browser (Debian's chromium)")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A fresh instance served by werkzeug in a thread; passport ids point at it, so the
    QR code's URL opens in the browser."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    home = tmp_path_factory.mktemp("instance")
    app = make_app(home, base_url=url)
    keys = issue_secrets(
        app.extensions["gateway.settings"],
        {"acme": ("exporter", "editor", "importer", "authority")},
    )["acme"]
    httpd = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(url, keys, home)
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        httpd.server_close()


@pytest.fixture(scope="session")
def playwright_chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the playwright Python package is not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def axe_script(tmp_path_factory: pytest.TempPathFactory) -> str:
    """axe-core's ``axe.min.js``, installed from npm into a throw-away folder."""
    npm = shutil.which("npm")
    if npm is None:
        skip_or_fail("npm is missing (needed for axe-core)")
    folder = tmp_path_factory.mktemp("axe")
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--silent", "axe-core"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    script = folder / "node_modules" / "axe-core" / "axe.min.js"
    if done.returncode != 0 or not script.exists():
        skip_or_fail(f"npm install axe-core failed: {done.stderr[-500:]}")
    return script.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.getbasetemp() / "web-artifacts"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def pages(
    playwright_chromium: Any, server: Server, artifacts: Path, axe_script: str
) -> Iterator[Any]:
    """A factory of :class:`Pages` (one browser context each), closed after the test."""
    opened: list[Pages] = []

    def open_pages(**context: Any) -> Pages:
        opened.append(Pages(playwright_chromium, server, artifacts, axe_script, **context))
        return opened[-1]

    yield open_pages
    violations = [v for p in opened for v in p.csp_violations]
    for p in opened:
        p.close()
    assert not violations, "the Content-Security-Policy refused:\n" + "\n".join(violations)
