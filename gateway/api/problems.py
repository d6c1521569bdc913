"""Every error leaves the API as RFC 9457 ``application/problem+json``."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, json
from werkzeug.exceptions import ClientDisconnected, HTTPException, RequestEntityTooLarge

from gateway.errors import PROBLEM_BASE, BodyTooLarge, GatewayError
from gateway.serving import ClientTimeout

log = logging.getLogger(__name__)
PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem_response(body: dict[str, object]) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False),
        status=int(body["status"]),  # type: ignore[call-overload]
        mimetype=PROBLEM_MEDIA_TYPE,
    )


def gateway_error(exc: GatewayError) -> Response:
    response = problem_response(exc.to_problem())
    if exc.status == 401:
        # RFC 6750 §3: a 401 names the scheme the client should use.
        response.headers["WWW-Authenticate"] = 'Bearer realm="gateway"'
    retry_after = getattr(exc, "retry_after", None)
    if exc.status == 503 and retry_after is not None:
        # RFC 9110 §10.2.3: when the same request may succeed again.
        response.headers["Retry-After"] = str(retry_after)
    return response


def _too_large(exc: RequestEntityTooLarge) -> Response:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return gateway_error(
        BodyTooLarge(
            f"the request body is larger than {limit} bytes (setting max_body_bytes)",
            pointer="Content-Length",
        )
    )


def _client_timeout(exc: ClientTimeout) -> Response:
    # The server cuts the connection after this answer: the rest of the body may still
    # be on its way.
    return problem_response(
        {
            "type": f"{PROBLEM_BASE}/request-timeout",
            "title": "Request timeout",
            "status": 408,
            "detail": f"{exc}; send the whole request without pauses",
        }
    )


def http_error(exc: HTTPException) -> Response:
    if isinstance(exc, ClientDisconnected) and isinstance(exc.__context__, ClientTimeout):
        # Werkzeug reports any failed body read as a disconnected client.
        return _client_timeout(exc.__context__)
    slug = (exc.name or "error").lower().replace(" ", "-")
    response = problem_response(
        {
            "type": f"{PROBLEM_BASE}/{slug}",
            "title": exc.name,
            "status": exc.code or 500,
            "detail": exc.description,
        }
    )
    for name, value in exc.get_headers():
        if name.lower() == "allow":  # 405 says which methods the route has
            response.headers[name] = value
    return response


def _unexpected(exc: Exception) -> Response:
    # Clients never see a stack trace; the log keeps it.
    log.exception("unhandled error", exc_info=exc)
    return problem_response(
        {
            "type": f"{PROBLEM_BASE}/internal-error",
            "title": "Internal error",
            "status": 500,
            "detail": "The gateway failed to handle this request; the error was logged.",
        }
    )


def register(app: Flask) -> None:
    app.register_error_handler(GatewayError, gateway_error)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(ClientTimeout, _client_timeout)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, _unexpected)
