"""What every blueprint needs of a request: the instance, the caller, a checked body."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO, Any

from flask import Request, Response, current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import cached_property

from gateway import auth, jsontext, services
from gateway.api import contract
from gateway.auth import Principal
from gateway.errors import InvalidInput, MalformedBody, Unauthorized, UnsupportedMediaType
from gateway.serving import ClientTimeout

JSON_TYPES = ("application/json", "application/ld+json")
LD_JSON = "application/ld+json"
#: ``app.extensions`` key of the page that renders a passport for browsers, wired in by
#: the app factory, so the API serves both representations of the passport URL without
#: importing the pages.
PASSPORT_PAGE = "gateway.passport_page"


class _CappedStream(io.RawIOBase):
    """A body without ``Content-Length`` (chunked), refused once it passes ``limit``.

    Werkzeug's own cap for such a body stops reading at the limit and hands over the
    prefix as if it were the whole body; this one reads one byte more to tell "exactly
    the limit" from "longer", and raises 413 for the latter.
    """

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self._read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        wanted = min(len(view), self._limit + 1 - self._read)
        if wanted <= 0:
            raise RequestEntityTooLarge()
        try:
            data = self._stream.read(wanted)
        except ClientTimeout:
            raise
        except Exception as exc:
            # gunicorn's chunked reader raises parse errors of its own (plain Exception
            # subclasses; the API does not import gunicorn) for a bogus chunk size,
            # extension or terminator; unhandled they were a 500. The client's fault: 400.
            raise MalformedBody(
                "the chunked body is malformed (a chunk size, extension or terminator "
                "is not valid HTTP/1.1)",
                pointer="Transfer-Encoding",
            ) from exc
        self._read += len(data)
        if self._read > self._limit:
            raise RequestEntityTooLarge()
        view[: len(data)] = data
        return len(data)


class GatewayRequest(Request):
    """Flask's request, with the body limit held for chunked bodies too (see
    :class:`_CappedStream`)."""

    @cached_property
    def stream(self) -> IO[bytes]:
        limit = self.max_content_length
        if (
            limit is not None
            and self.content_length is None
            and not self.shallow
            and self.environ.get("wsgi.input_terminated")
        ):
            return _CappedStream(self.environ["wsgi.input"], limit)  # type: ignore[return-value]
        return super().stream


def instance() -> services.Instance:
    """The running gateway."""
    running: services.Instance = current_app.extensions["gateway.instance"]
    return running


def principal() -> Principal | None:
    """The caller, from ``Authorization: Bearer <key>``; ``None`` without the header.

    :raises Unauthorized: a header that is not a bearer token of a known, live key (a bad
        key is an error even where no key is needed, so a client learns of it).
    """
    if "principal" in g:
        known: Principal | None = g.principal
        return known
    header = request.headers.get("Authorization")
    found = None
    if header is not None:
        secret = auth.bearer_secret(header)
        found = services.authenticate(instance(), secret) if secret else None
        if found is None:
            raise Unauthorized(
                "the API key is unknown, revoked or not a bearer token", pointer="Authorization"
            )
    g.principal = found
    return found


def wants_html() -> bool:
    """Whether the request prefers a page to JSON-LD (HTTP content negotiation)."""
    best = request.accept_mimetypes.best_match([LD_JSON, "application/json", "text/html"])
    return best == "text/html"


def html_page(extension: str) -> Callable[..., Response] | None:
    """The page a browser gets instead of JSON, if the pages registered one under
    ``extension`` and the request prefers HTML."""
    render: Callable[..., Response] | None = current_app.extensions.get(extension)
    return render if render is not None and wants_html() else None


def is_json(mimetype: str) -> bool:
    return mimetype in JSON_TYPES or mimetype.endswith("+json")


def json_body(schema: str | None = None, *, optional: bool = False) -> Any:
    """The request body as JSON, checked against a schema of ``openapi.yaml``.

    :param schema: name of a schema under ``components/schemas``.
    :param optional: an empty body reads as ``{}``.
    :raises UnsupportedMediaType: not a JSON media type.
    :raises MalformedBody: not JSON, or JSON the gateway refuses: a repeated member,
        a non-finite or over-long number, nesting deeper than 64 levels
        (:mod:`gateway.jsontext`).
    :raises InvalidInput: breaks the schema (``errors`` names each field).
    """
    data = request.get_data()
    if optional and not data:
        return {}
    if not is_json(request.mimetype):
        raise UnsupportedMediaType(
            f"Content-Type {request.mimetype or '(none)'!r} is not accepted here; "
            "send application/json",
            pointer="Content-Type",
        )
    try:
        body = jsontext.loads(data, what="the body")
    except jsontext.JsonTextError as exc:
        raise MalformedBody(exc.message, pointer=exc.pointer) from None
    if schema is not None:
        contract.validate(schema, body)
    return body


def query_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    """A query parameter that must be one of ``choices``.

    :raises InvalidInput: another value.
    """
    value = request.args.get(name, default)
    if value not in choices:
        raise InvalidInput(f"{name} must be one of {', '.join(choices)}", pointer=name)
    return value


def query_text(name: str) -> str:
    """A required, non-empty query parameter.

    :raises InvalidInput: it is missing.
    """
    value = request.args.get(name, "").strip()
    if not value:
        raise InvalidInput(f"query parameter {name!r} is required", pointer=name)
    return value
