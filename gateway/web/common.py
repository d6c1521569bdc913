"""What every page needs: the blueprint, the caller (page session or bearer key), the
language, CSRF tokens and rendering.

Sessions are Flask's signed cookie session (HttpOnly, SameSite=Lax, Secure under an
https base URL) holding a random session token and the CSRF token, never the key's
secret. The token counts only while its row in the database lasts
(:mod:`gateway.services.sessions`): signing out deletes the row, so a copy of the cookie
taken before opens nothing on any instance; the row also ends after a working day, and
with the key when it is revoked. A signed cookie alone could not be taken back before it
expired. The CSRF token is a random value in that session, compared in constant time
with the form's hidden field (the synchroniser-token pattern, OWASP CSRF cheat sheet);
Flask-WTF would bring a form library for one comparison.
"""

from __future__ import annotations

import hmac
import re
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
from werkzeug.wrappers import Response as BaseResponse

from gateway import auth, services
from gateway.auth import Principal
from gateway.errors import CsrfRejected, Forbidden, GatewayError, Unauthorized
from gateway.services import sessions
from gateway.web import checks, i18n

bp = Blueprint(
    "web", __name__, template_folder="templates", static_folder="static", static_url_path="/assets"
)

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
#: POST endpoints without a CSRF token: they act for nobody and change nothing (see
#: docs/web.md, "Why /verify takes no CSRF token").
CSRF_EXEMPT = frozenset({"web.verify_submit"})


def instance() -> services.Instance:
    """The running gateway."""
    running: services.Instance = current_app.extensions["gateway.instance"]
    return running


def principal() -> Principal | None:
    """The caller of a page: a bearer key if the request has one, else the page session.

    :raises Unauthorized: an ``Authorization`` header that is not a live bearer key.
    """
    if "web_principal" in g:
        known: Principal | None = g.web_principal
        return known
    found = None
    header = request.headers.get("Authorization")
    if header is not None:
        secret = auth.bearer_secret(header)
        found = services.authenticate(instance(), secret) if secret else None
        if found is None:
            raise Unauthorized(
                "the API key is unknown, revoked or not a bearer token", pointer="Authorization"
            )
    elif isinstance(session.get("sid"), str):
        found = sessions.session_principal(instance(), session["sid"])
        if found is None:
            session.clear()
    g.web_principal = found
    return found


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
        raise CsrfRejected(
            "the form expired or did not come from this site (CSRF token "
            f"missing or wrong in {CSRF_FIELD!r}); reload the page and try again",
            pointer=CSRF_FIELD,
        )


#: Characters never accepted in a redirect target: controls (CR/LF would split the
#: ``Location`` header) and the backslash (browsers read ``/\host`` as ``//host``).
_UNSAFE_IN_TARGET = re.compile(r"[\x00-\x1f\x7f\\]")
#: Longest redirect target kept; a longer one is dropped rather than echoed.
MAX_TARGET_LENGTH = 2000


def safe_next(target: str | None, default: str) -> str:
    """A redirect target on this site only (an absolute path, no scheme or host, no
    control characters), else ``default``."""
    if not target or len(target) > MAX_TARGET_LENGTH or _UNSAFE_IN_TARGET.search(target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def page(template: str, status: int = 200, **context: Any) -> Response:
    """Render a page template as an HTML response."""
    response = Response(render_template(template, **context), status=status, mimetype="text/html")
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
        "verification_outcomes": checks.outcomes,
        "technical_checks": checks.technical,
        "status_verdict": checks.status_verdict,
        "attribute_label": i18n.attribute_label,
    }


def _quiet_principal() -> Principal | None:
    try:
        return principal()
    except GatewayError:
        return None


@bp.errorhandler(GatewayError)
def gateway_error(exc: GatewayError) -> BaseResponse:
    if isinstance(exc, Unauthorized) and request.method == "GET":
        return redirect(url_for("web.login_form", next=request.full_path.rstrip("?")), 303)
    response = page("error.html", exc.status, title=exc.title, detail=str(exc))
    retry_after = getattr(exc, "retry_after", None)
    if exc.status == 503 and retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response
