"""Browser safety headers on every response: pages, ``/docs/``, API answers and problems.

* ``Content-Security-Policy``: pages run only scripts that carry this response's nonce
  (the page templates mark their own ``<script>`` tags) and load styles, images and
  fetches from this origin; nothing may frame them (``frame-ancestors 'none'``) and forms
  post only here. Swagger UI at ``/docs/`` has one inline start-up script of its own,
  allowed by its hash (computed from the page as served, so an upgrade of the package
  cannot silently widen it); its logo is an SVG whose two colours are an inline
  ``<style>``, allowed by that style's hash; its stylesheet's icons are ``data:``
  images. Anything
  else (JSON, problems, SVG, files) gets ``default-src 'none'``: rendered as a document
  it can run and load nothing.
* ``X-Frame-Options: DENY`` for browsers that predate ``frame-ancestors``.
* ``X-Content-Type-Options: nosniff``: a JSON or CSV answer is never run as script.
* ``Referrer-Policy: no-referrer``: passport and editor URLs do not leak to other sites.
* ``Strict-Transport-Security`` when the gateway is served over TLS (its public base URL
  is ``https://``; docs/operations.md, Behind a TLS proxy).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

from flask import Flask, Response, current_app, g, request

from gateway.settings import Settings

#: One year, the HSTS preload lists' minimum.
HSTS_MAX_AGE = 365 * 24 * 3600
PAGE_POLICY = (
    "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
#: Swagger UI's logo colours, ``.logo_small_svg__cls-2{fill:#fff}...`` (the browser
#: tests fail on any refusal, so a Swagger UI upgrade that changes them shows).
SWAGGER_LOGO_STYLE = "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='"
DOCS_POLICY = (
    "default-src 'none'; script-src 'self' {hashes}; "
    f"style-src 'self' {SWAGGER_LOGO_STYLE}; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def behind_tls(settings: Settings) -> bool:
    """Whether browsers reach this gateway over TLS (its public base URL is https): then
    every cookie is ``Secure`` and responses carry HSTS."""
    return settings.base_url.startswith("https://")


def csp_nonce() -> str:
    """This response's script nonce (made on first use; templates call it)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return str(g.csp_nonce)


def _script_hashes(body: bytes) -> str:
    return " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode("ascii") + "'"
        for script in _INLINE_SCRIPT.findall(body)
    )


def _policy(response: Response) -> str:
    if response.mimetype != "text/html":
        return OTHER_POLICY
    if request.blueprint == "docs" and not response.direct_passthrough:
        return DOCS_POLICY.format(hashes=_script_hashes(response.get_data()))
    return PAGE_POLICY.format(nonce=csp_nonce())


def add_headers(response: Response) -> Response:
    """Set the safety headers on a response (kept where a view already chose one)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", _policy(response))
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if behind_tls(current_app.extensions["gateway.settings"]):
        headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_MAX_AGE}")
    return response


def register(app: Flask) -> None:
    """Add the headers to every response of the app, errors included."""
    app.after_request(add_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
