"""What every page needs: the blueprint, the caller (page session or bearer key), the
language, CSRF tokens and rendering.

Sessions are Flask's signed cookie session (HttpOnly, SameSite=Lax, Secure under an
https base URL) holding the tenant name, the API key id and the CSRF token, never the
key's secret; each request checks the key is still live (:func:`services.web.signed_in`).
A signed cookie is enough because the session holds no secret and the server can refuse
it at any time by revoking the key; a server-side session table would add a store and a
migration for nothing the key table does not already give. The CSRF token is a random
value in that session, compared in constant time with the form's hidden field (the
synchroniser-token pattern, OWASP CSRF cheat sheet); Flask-WTF would bring a form
library for one comparison.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from gateway import auth, services
from gateway.auth import Principal
from gateway.errors import CsrfRejected, Forbidden, GatewayError, Unauthorized
from gateway.services import web as web_services
from gateway.web import i18n

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/assets")

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
#: POST endpoints without a CSRF token: they act for nobody and change nothing (see
#: docs/web.md, "Why /verify takes no CSRF token").
CSRF_EXEMPT = frozenset({"web.verify_submit"})


def instance() -> services.Instance:
    """The running gateway."""
    return current_app.extensions["gateway.instance"]


def principal() -> Principal | None:
    """The caller of a page: a bearer key if the request has one, else the page session.

    :raises Unauthorized: an ``Authorization`` header that is not a live bearer key.
    """
    if "web_principal" in g:
        return g.web_principal
    found = None
    header = request.headers.get("Authorization")
    if header is not None:
        secret = auth.bearer_secret(header)
        found = services.authenticate(instance(), secret) if secret else None
        if found is None:
            raise Unauthorized("the API key is unknown, revoked or not a bearer token",
                               pointer="Authorization")
    elif "key_id" in session:
        found = web_services.signed_in(instance(), str(session.get("tenant", "")),
                                       int(session["key_id"]))
        if found is None:
            session.clear()
    g.web_principal = found
    return found


def actor(caller: Principal) -> str:
    """How the audit log names a page caller."""
    return f"tenant:{caller.tenant_name}/key:{caller.key_id}/web"


def require(allowed: Any, what: str) -> Principal:
    """The signed-in caller, if ``allowed(caller)``.

    :raises Unauthorized: nobody is signed in (the page sends them to the sign-in form).
    :raises Forbidden: the caller's role may not ``what``.
    """
    caller = principal()
    if caller is None:
        raise Unauthorized(f"sign in with an API key to {what}")
    if not allowed(caller):
        raise Forbidden(f"role {caller.role!r} may not {what}")
    return caller


def csrf_token() -> str:
    """The session's CSRF token, made on first use."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


@bp.before_request
def check_csrf() -> None:
    if request.method != "POST" or request.endpoint in CSRF_EXEMPT:
        return
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    expected = session.get("csrf") or ""
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRejected("the form expired or did not come from this site (CSRF token "
                           f"missing or wrong in {CSRF_FIELD!r}); reload the page and try again",
                           pointer=CSRF_FIELD)


def safe_next(target: str | None, default: str) -> str:
    """A redirect target on this site only (a path), else ``default``."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def page(template: str, status: int = 200, **context: Any) -> Response:
    """Render a page template as an HTML response."""
    response = Response(render_template(template, **context), status=status,
                        mimetype="text/html")
    response.headers["Content-Language"] = i18n.language()
    response.headers["Vary"] = "Accept, Accept-Language, Cookie"
    return response


@bp.app_context_processor
def page_context() -> dict[str, Any]:
    return {
        "t": i18n.translate,
        "lang": i18n.language(),
        "languages": i18n.LANGUAGES,
        "csrf_token": csrf_token,
        "csrf_field": CSRF_FIELD,
        "web_principal": _quiet_principal,
    }


def _quiet_principal() -> Principal | None:
    try:
        return principal()
    except GatewayError:
        return None


@bp.errorhandler(GatewayError)
def gateway_error(exc: GatewayError) -> Response:
    if isinstance(exc, Unauthorized) and request.method == "GET":
        return redirect(url_for("web.login_form", next=request.full_path.rstrip("?")), 303)
    return page("error.html", exc.status, title=exc.title,
                detail=str(exc))

