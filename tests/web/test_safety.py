"""Browser safety without a browser: redirect targets, signing out, the safety headers on
pages, /docs/, API answers and problems, and cookies behind TLS."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.services.sessions import SESSION_LIFETIME
from gateway.store import Tenants, init_db
from gateway.store import sessions as store_sessions
from tests.helpers import PLAIN_URL, make_app


@pytest.fixture
def tls_app(tmp_path: Path):
    """An app served (as its base URL says) over TLS."""
    app = make_app(tmp_path / "instance", base_url="https://gw.example")
    yield app
    app.extensions["gateway.instance"].db.dispose()


def _key(app: Flask, role: str) -> str:
    db = init_db(app.extensions["gateway.settings"])
    try:
        with db.transaction() as session:
            tenants = Tenants(session)
            if not any(t.name == "acme" for t in tenants.listing()):
                tenants.create("acme")
            return tenants.issue_key("acme", role).secret
    finally:
        db.dispose()


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _sign_in(client: FlaskClient, secret: str) -> None:
    token = _token(client.get("/login").get_data(as_text=True))
    signed = client.post("/login", data={"api_key": secret, "csrf_token": token})
    assert signed.status_code == 303


@pytest.mark.parametrize(
    "target",
    [
        "/dashboard\r\nSet-Cookie: stolen=1",
        "/dashboard\nX-Injected: 1",
        "/%0d%0a\r\n",
        "/\\evil.example/",
        "\\\\evil.example",
        "//evil.example/",
        "https://evil.example/",
        "/" + "a" * 5000,
    ],
)
def test_language_switch_redirects_only_to_paths_on_this_site(client, target) -> None:
    response = client.get("/language/zh", query_string={"next": target})
    assert response.status_code == 303
    assert response.location == "/"
    assert "stolen" not in str(response.headers) and "X-Injected" not in response.headers


def test_sign_in_redirects_only_to_paths_on_this_site(app, client) -> None:
    secret = _key(app, "exporter")
    form = client.get("/login", query_string={"next": "/verify\r\nSet-Cookie: x=1"})
    assert form.status_code == 200 and "Set-Cookie: x=1" not in form.get_data(as_text=True)
    token = _token(form.get_data(as_text=True))
    signed = client.post(
        "/login",
        data={"api_key": secret, "csrf_token": token, "next": "/verify\r\nSet-Cookie: x=1"},
    )
    assert signed.status_code == 303 and signed.location == "/dashboard"
    kept = client.get("/login", query_string={"next": "/verify?x=1"})
    assert 'value="/verify?x=1"' in kept.get_data(as_text=True)


def test_a_cookie_saved_before_sign_out_opens_nothing(app, client) -> None:
    _sign_in(client, _key(app, "exporter"))
    assert client.get("/dashboard").status_code == 200
    saved = client.get_cookie("gateway_session").value
    token = _token(client.get("/dashboard").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    replay = app.test_client()
    replay.set_cookie("gateway_session", saved)
    response = replay.get("/dashboard")
    assert response.status_code == 303 and "/login" in response.location


def test_a_session_ends_after_its_lifetime(app, client, monkeypatch) -> None:
    _sign_in(client, _key(app, "exporter"))
    assert client.get("/dashboard").status_code == 200
    later = store_sessions.utcnow() + SESSION_LIFETIME + timedelta(minutes=1)
    monkeypatch.setattr(store_sessions, "utcnow", lambda: later)
    response = client.get("/dashboard")
    assert response.status_code == 303 and "/login" in response.location


def test_the_session_cookie_lasts_as_long_as_the_session(app, client) -> None:
    token = _token(client.get("/login").get_data(as_text=True))
    signed = client.post("/login", data={"api_key": _key(app, "importer"), "csrf_token": token})
    cookie = signed.headers["Set-Cookie"]
    assert "Expires=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_pages_forbid_framing_and_inline_script(client) -> None:
    for path in ("/", "/login", "/verify"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        nonce = re.search(r"script-src 'nonce-([^']+)'", csp).group(1)
        assert "unsafe-inline" not in csp and "'self'" not in csp.split(";")[1]
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        # Every script the page loads carries this response's nonce.
        page = response.get_data(as_text=True)
        assert page.count("<script") == page.count(f'nonce="{nonce}"')
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP here


def test_script_nonces_differ_per_response(client) -> None:
    first = client.get("/").headers["Content-Security-Policy"]
    assert first != client.get("/").headers["Content-Security-Policy"]


def test_api_answers_problems_and_docs_carry_the_headers(client) -> None:
    for response in (
        client.get("/health"),
        client.get("/no/such/route"),
        client.post("/credentials/verify", data=b"{", content_type="application/json"),
        client.get("/openapi.yaml"),
    ):
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
    docs = client.get("/docs/")
    assert docs.status_code == 200
    csp = docs.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    # Swagger UI's one inline start-up script is allowed by its hash, nothing else inline.
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert len(re.findall(r"'sha256-[A-Za-z0-9+/=]+'", script_src)) == 1


def test_behind_tls_every_cookie_is_secure_and_hsts_is_sent(tls_app) -> None:
    client = tls_app.test_client()
    page = client.get("/login")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Secure" in page.headers["Set-Cookie"]
    assert client.get("/health").headers["Strict-Transport-Security"]
    language = client.get("/language/zh?next=/verify")
    assert "Secure" in language.headers["Set-Cookie"]
    assert "HttpOnly" in language.headers["Set-Cookie"]


def test_the_workers_own_answers_carry_the_headers_the_app_sets(tls_app) -> None:
    """``gateway.serving.SAFETY_HEADERS`` (what the gunicorn worker adds to the answers it
    writes itself) must not drift from what the app sets on a problem."""
    from gateway.serving import HSTS_HEADER, SAFETY_HEADERS

    problem = tls_app.test_client().get("/no/such/route")
    for name, value in (*SAFETY_HEADERS, HSTS_HEADER):
        assert problem.headers[name] == value, name


def test_signing_out_on_one_instance_ends_the_session_on_another(tmp_path, backend_url) -> None:
    """Two gateway processes over one database (and one instance folder, as
    docs/operations.md asks): a session ended by one is refused by the other."""
    home = tmp_path / "instance"
    first = make_app(home, backend_url, base_url=PLAIN_URL)
    second = make_app(home, backend_url, base_url=PLAIN_URL)
    try:
        client = first.test_client()
        _sign_in(client, _key(first, "editor"))
        saved = client.get_cookie("gateway_session").value
        other = second.test_client()
        other.set_cookie("gateway_session", saved)
        assert other.get("/mapping-editor").status_code == 200
        token = _token(other.get("/mapping-editor").get_data(as_text=True))
        assert other.post("/logout", data={"csrf_token": token}).status_code == 303
        replay = first.test_client()
        replay.set_cookie("gateway_session", saved)
        assert replay.get("/mapping-editor").status_code == 303
    finally:
        for app in (first, second):
            app.extensions["gateway.instance"].db.dispose()
