"""RFC 9457 problem details: the one place errors become HTTP responses.

Domain errors map to a status and a problem type by class; anything unexpected is a
500 whose body says nothing about the cause (the cause goes to the log).
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

import marshmallow as ma
from flask import Flask, Response, current_app, has_request_context, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from api.auth import AuthenticationError
from api.logs import request_id
from credentials.errors import CredentialError, ProofGenerationError
from credits.errors import CreditsError
from issuers.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
)
from keys.database import is_database_unavailable, is_storage_full
from keys.errors import CredbankError, DatabaseNotReadyError, KeyStateError
from ledger.errors import EntryError, FormatError, LogRangeError
from verify.errors import QRCodeTooLargeError

__all__ = [
    "MEDIA_TYPE",
    "PROBLEM_TYPES",
    "ProblemSchema",
    "problem",
    "problem_status",
    "register_problem_handlers",
]

MEDIA_TYPE = "application/problem+json"

# code -> (status, title). The type URI is <base>/problems#<code>, listed at /problems.
PROBLEM_TYPES: dict[str, tuple[int, str]] = {
    "invalid-parameters": (400, "The request's parameters are invalid"),
    "malformed": (400, "The input is malformed"),
    "bad-entry": (400, "Not a valid log entry"),
    "out-of-range": (404, "Outside the log as it stands"),
    "unauthorized": (401, "A valid bearer token is required"),
    "forbidden": (403, "This token may not do that"),
    "not-found": (404, "No such resource"),
    "conflict": (409, "The request conflicts with the current state"),
    "invalid-input": (400, "The input is invalid"),
    "invalid-credential": (400, "The credential cannot be accepted as it is"),
    "unavailable": (503, "The service cannot reach its database"),
    # RFC 4918 §11.5: the server cannot store what the request needs.
    "storage-full": (507, "The service's storage is full"),
    "qr-too-large": (
        500,
        "The verification URL is too long for a printable QR code; "
        "shorten CREDBANK_BASE_URL",
    ),
    "internal-error": (500, "Internal error"),
}

_DOMAIN_ERRORS: list[tuple[type[CredbankError], str]] = [
    (AuthenticationError, "unauthorized"),
    (ForbiddenError, "forbidden"),
    (NotFoundError, "not-found"),
    (ConflictError, "conflict"),
    (InvalidInputError, "invalid-input"),
    (CreditsError, "invalid-input"),
    (KeyStateError, "conflict"),
    (QRCodeTooLargeError, "qr-too-large"),
    (ProofGenerationError, "internal-error"),
    (CredentialError, "invalid-credential"),
    (LogRangeError, "out-of-range"),
    (EntryError, "bad-entry"),
    (FormatError, "malformed"),
    (DatabaseNotReadyError, "unavailable"),
]

logger = logging.getLogger(__name__)


class ProblemSchema(ma.Schema):
    """RFC 9457 §3.1 members, plus `errors` naming each invalid field."""

    type = ma.fields.String(
        required=True, metadata={"description": "Problem type URI, listed at /problems"}
    )
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(required=True)
    errors = ma.fields.Dict(metadata={"description": "Messages per invalid field"})
    requestId = ma.fields.String(
        metadata={
            "description": "On 5xx answers: the request id of the server's log "
            "lines (RFC 9457 §3.2 extension member)"
        }
    )


def problem(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    title: str | None = None,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Build a problem+json response."""
    # RFC 9457 §4.2.1: with type about:blank the title is the status phrase.
    phrase = title or HTTPStatus(status).phrase
    body: dict[str, Any] = {"type": "about:blank", "title": phrase, "status": status}
    if code is not None:
        body["type"] = f"{current_app.config['CREDBANK_BASE_URL']}/problems#{code}"
        body["title"] = title or PROBLEM_TYPES[code][1]
    body["detail"] = detail
    if errors:
        body["errors"] = errors
    if status >= 500 and has_request_context():
        # So that an operator can find the log lines of this failure.
        body["requestId"] = request_id()
    return Response(
        json.dumps(body, ensure_ascii=False),
        status=status,
        mimetype=MEDIA_TYPE,
        headers=headers,
    )


def register_problem_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(CredbankError, _handle_domain_error)
    app.register_error_handler(DBAPIError, _handle_database_error)
    app.register_error_handler(Exception, _handle_unexpected)


def handle_http_exception(error: HTTPException) -> Response:
    """Werkzeug's errors (404, 405, 413...) and schema validation failures."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if messages:
        # webargs nests messages by location ("query", "json"); flatten one level.
        # A body that is not JSON at all comes as {"json": [message]}: name the body.
        errors: dict[str, Any] = {}
        for location, fields in messages.items():
            if isinstance(fields, dict):
                errors.update(fields)
            else:
                errors[location] = fields
        return problem(
            status,
            "; ".join(f"{field}: {_first(msgs)}" for field, msgs in errors.items()),
            code="invalid-parameters",
            errors=errors,
        )
    headers = dict(data.get("headers") or {})
    if status == 405 and error.get_response().headers.get("Allow"):
        headers["Allow"] = error.get_response().headers["Allow"]
    return problem(
        status, error.description or error.name, title=error.name, headers=headers
    )


def problem_status(error: CredbankError) -> tuple[int, str, str]:
    """(status, problem code, title) for a domain error; 500 for unmapped ones."""
    for cls, code in _DOMAIN_ERRORS:
        if isinstance(error, cls):
            status, title = PROBLEM_TYPES[code]
            return status, code, title
    status, title = PROBLEM_TYPES["internal-error"]
    return status, "internal-error", title


def _handle_domain_error(error: CredbankError) -> Response:
    for cls, code in _DOMAIN_ERRORS:
        if isinstance(error, cls):
            if code == "internal-error":
                break
            headers = {}
            if code == "unauthorized":
                headers["WWW-Authenticate"] = 'Bearer realm="credbank"'
            errors = error.errors if isinstance(error, InvalidInputError) else None
            if isinstance(error, CreditsError):
                errors = {error.field or "body": [error.message]}
            return problem(
                PROBLEM_TYPES[code][0],
                str(error),
                code=code,
                errors=errors,
                headers=headers,
            )
    return _handle_unexpected(error)


def _handle_database_error(error: DBAPIError) -> Response:
    # The write transaction that failed was rolled back (keys.database).
    if is_storage_full(error):
        logger.error("database storage full on %s %s", request.method, request.path)
        return problem(
            507,
            "The database's disk is full; the write that failed was rolled back. "
            "Send the request again once space has been freed.",
            code="storage-full",
        )
    if is_database_unavailable(error):
        logger.warning("database unavailable on %s %s", request.method, request.path)
        return problem(
            503,
            "The database is not answering; try again shortly.",
            code="unavailable",
            headers={"Retry-After": "5"},
        )
    return _handle_unexpected(error)


def _handle_unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    logger.error(
        "unhandled error on %s %s", request.method, request.path, exc_info=error
    )
    return problem(
        500, "The server could not complete the request.", code="internal-error"
    )


def _first(messages: Any) -> str:
    if isinstance(messages, list) and messages:
        return str(messages[0])
    return str(messages)
