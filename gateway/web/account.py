"""Signing in with an API key, signing out, the language switch and the start page."""

from __future__ import annotations

import secrets

from flask import Response, redirect, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from gateway import auth, services
from gateway.errors import InvalidInput
from gateway.services import sessions
from gateway.web import i18n, security
from gateway.web.common import bp, instance, page, safe_next

#: How long the language pick is remembered (one year, in seconds).
LANGUAGE_MAX_AGE = 365 * 24 * 3600


@bp.get("/")
def index() -> Response:
    return page("index.html")


@bp.get("/login")
def login_form() -> Response:
    return page("login.html", next=safe_next(request.args.get("next"), ""))


def _home_of(role: str) -> str:
    if role in (auth.EDITOR,):
        return url_for("web.mappings_index")
    if role in (auth.EXPORTER, auth.ADMIN):
        return url_for("web.dashboard")
    return url_for("web.index")


@bp.post("/login")
def login() -> BaseResponse:
    secret = request.form.get("api_key", "").strip()
    target = request.form.get("next", "")
    found = None
    if secret and len(secret) <= auth.MAX_SECRET_LENGTH:
        found = services.authenticate(instance(), secret)
    if found is None:
        exc = InvalidInput("this API key is unknown or revoked", pointer="api_key")
        return page("login.html", 401, error=exc.detail, next=safe_next(target, ""))
    # A new session on sign-in (and a new CSRF token): no fixation of an earlier one.
    session.clear()
    session["sid"] = sessions.open_session(instance(), found)
    session["csrf"] = secrets.token_urlsafe(32)
    session.permanent = True  # the cookie ends with the server-side session
    return redirect(safe_next(target, _home_of(found.role)), 303)


@bp.post("/logout")
def logout() -> BaseResponse:
    # Ended on the server: a copy of the cookie kept from before opens nothing.
    token = session.get("sid")
    if isinstance(token, str):
        sessions.close_session(instance(), token)
    session.clear()
    return redirect(url_for("web.index"), 303)


@bp.get("/language/<code>")
def language(code: str) -> BaseResponse:
    if code not in i18n.LANGUAGES:
        raise InvalidInput(f"language must be one of {', '.join(i18n.LANGUAGES)}", pointer="code")
    response = redirect(safe_next(request.args.get("next"), url_for("web.index")), 303)
    behind_tls = security.behind_tls(instance().settings) or request.is_secure
    response.set_cookie(
        i18n.COOKIE,
        code,
        max_age=LANGUAGE_MAX_AGE,
        samesite="Lax",
        httponly=True,
        secure=behind_tls,
    )
    return response
