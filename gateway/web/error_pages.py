"""Error pages for browsers: an unknown URL opened in a browser answers with a page in
the site's layout, not with the API's problem+json.

Clients that do not prefer HTML (API clients send ``application/json`` or ``*/*``) keep
the problem+json answer of the API's handler, which the application factory hands in
(the pages may not import the API). Errors
raised inside the pages' own routes are rendered by :func:`gateway.web.common.gateway_error`.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, request
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.wrappers import Response as BaseResponse

from gateway.errors import GatewayError
from gateway.errors import NotFound as UnknownResource
from gateway.web.common import page
from gateway.web.i18n import translate

#: The media types an error can be answered in, the API's first: a client that accepts
#: anything gets problem+json.
_OFFERS = ["application/problem+json", "application/json", "text/html"]


def prefers_html() -> bool:
    """Whether the client asked for a page (a browser's ``Accept``) with a GET or HEAD."""
    if request.method not in ("GET", "HEAD"):
        return False
    return request.accept_mimetypes.best_match(_OFFERS) == "text/html"


def register(
    app: Flask,
    problem: Callable[[HTTPException], BaseResponse],
    gateway_problem: Callable[[GatewayError], BaseResponse],
) -> None:
    """Answer 404 with a page for browsers, for an unknown URL (``problem`` answers other
    clients) and for an unknown passport, battery or identifier behind a known route
    (``gateway_problem`` answers other clients): the API's problem+json."""

    def not_found(exc: NotFound) -> BaseResponse:
        if prefers_html():
            return page(
                "error.html",
                404,
                title=translate("error.not_found"),
                detail=translate("error.not_found_detail"),
            )
        return problem(exc)

    def unknown(exc: UnknownResource) -> BaseResponse:
        if prefers_html():
            return page("error.html", 404, title=translate("error.not_found"), detail=str(exc))
        return gateway_problem(exc)

    app.register_error_handler(404, not_found)
    app.register_error_handler(UnknownResource, unknown)
