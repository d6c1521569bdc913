"""Errors the gateway raises on purpose.

Each carries what an RFC 9457 problem needs (status, slug, title), so the API turns any
of them into ``application/problem+json`` in one place and the CLI into a one-line
message and a non-zero exit.
"""

from __future__ import annotations

PROBLEM_BASE = "https://w3id.org/cn-eu-battery/problems"


class GatewayError(Exception):
    """Base for errors that map to a problem response.

    :param detail: what went wrong, in words a user can act on.
    :param pointer: JSON pointer (or XPath for XML) of the field at fault, if any.
    :param extensions: extra members for the problem body (``errors``, ``row`` ...).
    """

    status = 500
    slug = "internal-error"
    title = "Internal error"

    def __init__(self, detail: str, *, pointer: str | None = None, **extensions: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.pointer = pointer
        self.extensions = extensions

    def to_problem(self) -> dict[str, object]:
        body: dict[str, object] = {
            "type": f"{PROBLEM_BASE}/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.pointer is not None:
            body["pointer"] = self.pointer
        body.update(self.extensions)
        return body

    def __str__(self) -> str:
        if self.pointer and not self.detail.startswith(self.pointer):
            return f"{self.pointer}: {self.detail}"
        return self.detail


class InvalidBatteryCode(GatewayError):
    status, slug, title = 422, "invalid-battery-code", "Invalid GB/T 34014 battery code"


class InvalidRecord(GatewayError):
    """A national traceability record breaks the record model.

    ``errors`` lists every problem as ``{"pointer": ..., "message": ...}``.
    """

    status, slug, title = 422, "invalid-record", "Invalid traceability record"


class UnsafeInput(GatewayError):
    status, slug, title = 400, "unsafe-input", "Input refused"


class MappingNotFound(GatewayError):
    status, slug, title = 404, "mapping-not-found", "Mapping set or version not found"


class MappingInvalid(GatewayError):
    """A mapping table has problems; ``errors`` lists each with its row number."""

    status, slug, title = 422, "mapping-invalid", "Invalid mapping table"


class TransformError(GatewayError):
    status, slug, title = 422, "transform-failed", "Record could not be transformed"


class ContextError(GatewayError):
    """A JSON-LD context is unknown, remote, or does not match its pinned hash."""

    status, slug, title = 422, "context-refused", "JSON-LD context refused"


class JsonLdError(GatewayError):
    """A JSON-LD document would lose data (dropped term, relative IRI) or is too costly."""

    status, slug, title = 422, "jsonld-refused", "JSON-LD document refused"


class CredentialError(GatewayError):
    status, slug, title = 422, "credential-invalid", "Credential cannot be processed"


class SigningKeyError(GatewayError):
    status, slug, title = 500, "key-unavailable", "Signing key unavailable"


class NotConfigured(GatewayError):
    """A part of the instance that a route needs has not been set up (an operator's step,
    not the caller's fault)."""

    status, slug, title = 503, "not-configured", "Not set up on this instance"


class NotFound(GatewayError):
    status, slug, title = 404, "not-found", "Not found"


class ConfigError(GatewayError):
    status, slug, title = 500, "configuration-error", "Configuration error"


class CatalogInvalid(GatewayError):
    """The EU attribute catalog CSV breaks a rule; the message names the line and column."""

    status, slug, title = 500, "catalog-invalid", "Invalid attribute catalog"


class DidResolutionError(GatewayError):
    """A DID or verification method cannot be resolved from the allowed sources."""

    status, slug, title = 422, "did-unresolved", "DID cannot be resolved"


class StatusListError(GatewayError):
    """A Bitstring Status List is malformed, full, or an index is out of its range."""

    status, slug, title = 422, "status-list-invalid", "Status list refused"


class Conflict(GatewayError):
    """The request clashes with stored state: a duplicate name, a published (immutable)
    mapping version, a status change that is not allowed, a lost race to publish."""

    status, slug, title = 409, "conflict", "Conflict with stored state"


class InvalidInput(GatewayError):
    status, slug, title = 422, "invalid-input", "Invalid input"


class InvalidFrame(GatewayError):
    """A GB/T 32960.3 frame breaks the protocol; ``offset`` is the byte at fault."""

    status, slug, title = 422, "invalid-frame", "Invalid GB/T 32960 frame"


class PolicyError(GatewayError):
    status, slug, title = 422, "policy-invalid", "Data policy refused"


class UnsupportedMediaType(GatewayError):
    """A record arrived in a media type (or file suffix) the gateway does not read."""

    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class WhitelistInvalid(GatewayError):
    """A white-list table (规范条件 enterprise list) breaks a rule; ``errors`` lists each
    problem as ``{"line": ..., "column": ..., "message": ...}``."""

    status, slug, title = 422, "whitelist-invalid", "Invalid white-list table"


class Unauthorized(GatewayError):
    """No API key, or one the gateway does not know (RFC 6750 §3.1 ``invalid_token``)."""

    status, slug, title = 401, "unauthorized", "API key missing or not valid"


class Forbidden(GatewayError):
    """The caller's role or tenant may not do this."""

    status, slug, title = 403, "forbidden", "Not allowed for this API key"


class BodyTooLarge(GatewayError):
    status, slug, title = 413, "body-too-large", "Request body too large"


class MalformedBody(GatewayError):
    """A request body that is not the syntax its Content-Type says (JSON, NDJSON)."""

    status, slug, title = 400, "malformed-body", "Malformed request body"


class CsrfRejected(GatewayError):
    """A page form came without the session's CSRF token (or with another one)."""

    status, slug, title = 400, "csrf-rejected", "Form token missing or wrong"


class UnsupportedOption(GatewayError):
    """A VC API request names an option this gateway does not implement; honouring
    only the options it knows and dropping the rest would answer another question."""

    status, slug, title = 400, "unsupported-option", "Option not supported"


class VerificationFailed(GatewayError):
    """A credential or presentation did not verify. The W3C VC API answers 200 only for a
    verified one and 400 otherwise (its test suites expect 400); the problem carries
    ``verified: false`` and the ``checks``."""

    status, slug, title = 400, "verification-failed", "Verification failed"
