"""Browser tests: a real gateway over real HTTP on a loopback port, driven by Debian's
chromium through Playwright's Python package (never its bundled browsers).

Each test saves screenshots and page measurements (transferred bytes, first contentful
paint) to ``<pytest basetemp>/web-artifacts``; ``metrics.json`` there collects them.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from gateway.app import create_app
from gateway.services import prepare_instance
from gateway.settings import Settings
from gateway.store import Tenants, init_db

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_configure(config: pytest.Config) -> None:
    # Also declared in pyproject's marker list; repeated here so --strict-markers holds
    # in any checkout of this folder.
    config.addinivalue_line("markers", "browser: drives a real browser (Debian's chromium)")


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    keys: dict[str, str]
    home: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A fresh instance served by werkzeug in a thread; passport ids point at it, so the
    QR code's URL opens in the browser."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    home = tmp_path_factory.mktemp("instance")
    overrides = {"home": home, "base_url": url}
    settings = Settings.load(overrides)
    prepare_instance(settings)
    db = init_db(settings)
    with db.transaction() as session:
        tenants = Tenants(session)
        tenants.create("acme")
        keys = {role: tenants.issue_key("acme", role).secret
                for role in ("exporter", "editor", "importer", "authority")}
    db.dispose()
    app = create_app(overrides)
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
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed")
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
        _unavailable("npm is missing (needed for axe-core)")
    folder = tmp_path_factory.mktemp("axe")
    done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent", "axe-core"],
                          cwd=folder, capture_output=True, text=True, timeout=300)
    script = folder / "node_modules" / "axe-core" / "axe.min.js"
    if done.returncode != 0 or not script.exists():
        _unavailable(f"npm install axe-core failed: {done.stderr[-500:]}")
    return script.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.getbasetemp() / "web-artifacts"
    folder.mkdir(exist_ok=True)
    return folder


FCP = """() => new Promise((done) => {
  const found = () => performance.getEntriesByName("first-contentful-paint")[0];
  if (found()) return done(found().startTime);
  new PerformanceObserver(() => found() && done(found().startTime))
    .observe({ type: "paint", buffered: true });
  setTimeout(() => done(found() ? found().startTime : null), 3000);
})"""

# axe is defined and run in one evaluation: it then works in a context whose page
# scripts are off too (the no-script upload).
AXE_RUN = """async () => {
  %s
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }));
}"""


# Reports each CSP violation on the console, where the Pages object collects it.
CSP_LISTENER = """document.addEventListener("securitypolicyviolation", (e) =>
  console.error(`csp-violation ${e.effectiveDirective} ${e.blockedURI}`));"""


class Pages:
    """Opens pages in one browser context and records what each costs.

    :param browser: the launched chromium.
    :param server: the gateway under test.
    """

    def __init__(self, browser: Any, server: Server, artifacts: Path, axe: str,
                 **context: Any) -> None:
        self.server = server
        self.artifacts = artifacts
        self.axe = axe
        self.context = browser.new_context(viewport=DESKTOP, **context)
        self.page = self.context.new_page()
        self._requests: list[Any] = []
        self.page.on("requestfinished", lambda request: self._requests.append(request))
        #: What the browser refused under the Content-Security-Policy (console errors and
        #: the violation events), checked to be empty when the pages close.
        self.csp_violations: list[str] = []
        self.page.on("console", self._console)
        self.context.add_init_script(CSP_LISTENER)

    def _console(self, message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or text.startswith("csp-violation"):
            self.csp_violations.append(f"{self.page.url}: {text}")

    def goto(self, path: str) -> Any:
        self._requests.clear()
        return self.page.goto(path if path.startswith("http") else self.server.url + path)

    def measure(self, name: str, *, phone: bool = True) -> dict[str, Any]:
        """Screenshots at desktop and phone width, transferred bytes since the last
        navigation, first contentful paint; appended to ``metrics.json``."""
        page = self.page
        page.wait_for_load_state("load")
        fcp = page.evaluate(FCP)
        total = 0
        for request in self._requests:
            sizes = request.sizes()
            total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        page.screenshot(path=str(self.artifacts / f"{name}-desktop.png"), full_page=True)
        overflow = None
        if phone:
            page.set_viewport_size(PHONE)
            page.screenshot(path=str(self.artifacts / f"{name}-phone.png"), full_page=True)
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - window.innerWidth")
            page.set_viewport_size(DESKTOP)
        entry = {"page": name, "url": page.url.replace(self.server.url, ""),
                 "kb": round(total / 1024, 1), "requests": len(self._requests),
                 "fcp_ms": round(fcp, 1) if fcp is not None else None,
                 "phone_overflow_px": overflow}
        path = self.artifacts / "metrics.json"
        metrics = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        metrics[name] = entry
        path.write_text(json.dumps(metrics, indent=1), encoding="utf-8")
        if phone:
            assert overflow is not None and overflow <= 0, f"{name} scrolls sideways on a phone"
        return entry

    def submit(self, button_name: str) -> None:
        """Click a form's submit button and wait for the page it loads."""
        self._requests.clear()
        with self.page.expect_navigation():
            self.page.get_by_role("button", name=button_name).click()

    def check_accessibility(self, name: str) -> None:
        """axe-core finds no serious or critical violation on the current page."""
        self.page.wait_for_load_state("load")
        violations = self.page.evaluate(AXE_RUN % self.axe)
        bad = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert not bad, f"{name}: " + json.dumps(bad, indent=1)

    def sign_in(self, role: str) -> None:
        self.goto("/login")
        self.page.get_by_label("API key").fill(self.server.keys[role])
        self.submit("Sign in")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def pages(playwright_chromium: Any, server: Server, artifacts: Path,
          axe_script: str) -> Iterator[Any]:
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
