"""The browser harness of the page tests: Debian's chromium driven through Playwright's
Python package, and :class:`Pages`, which opens pages and records what each costs.

The fixtures that build these are in this folder's ``conftest.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}


@dataclass
class Server:
    url: str
    keys: dict[str, str]
    home: Path


# Read synchronously and polled from Python: in a context whose page scripts are off
# (the no-script upload) timers and observers never fire, so a promise waiting on them
# would never settle.
FCP = """() => {
  const entry = performance.getEntriesByName("first-contentful-paint")[0];
  return entry ? entry.startTime : null;
}"""
FCP_WAIT_MS = 3000
FCP_POLL_MS = 50

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

    def __init__(
        self, browser: Any, server: Server, artifacts: Path, axe: str, **context: Any
    ) -> None:
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
        for _ in range(FCP_WAIT_MS // FCP_POLL_MS):
            if fcp is not None:
                break
            page.wait_for_timeout(FCP_POLL_MS)
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
                "() => document.documentElement.scrollWidth - window.innerWidth"
            )
            page.set_viewport_size(DESKTOP)
        entry = {
            "page": name,
            "url": page.url.replace(self.server.url, ""),
            "kb": round(total / 1024, 1),
            "requests": len(self._requests),
            "fcp_ms": round(fcp, 1) if fcp is not None else None,
            "phone_overflow_px": overflow,
        }
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
