"""flask-smorest, set up to answer invalid parameters as RFC 9457 problems (400).

flask-smorest generates the OpenAPI 3.1 document from the schemas the views
declare. Every problem response in it is `application/problem+json` (RFC 9457
§3) with the Problem schema and an example; no catch-all `default` response
stands in for the statuses an operation really answers. The statuses that come
from the service as a whole rather than from one view (429 from the rate limit, 413
from the body caps, 503 and 507 from the database) are added here, by the rules
that produce them, as each blueprint is registered.
"""

from __future__ import annotations

import copy
import http
from collections.abc import Callable
from typing import Any, TypeVar

import flask
import flask_smorest
from flask import Flask
from webargs.flaskparser import FlaskParser

from api.apidoc import add_problem_responses, problem_ref
from api.limits import BODY_CAPS, DEFAULT_BODY_BYTES, is_counted
from api.problems import MEDIA_TYPE, PROBLEM_TYPES, ProblemSchema, handle_http_exception
from api.verification import JSON_TOO_DEEP, too_deep
from issuers.errors import InvalidInputError

__all__ = [
    "HTML_PAGE",
    "LANG",
    "TEXT",
    "Api",
    "Blueprint",
    "html_example",
    "service_statuses",
]

F = TypeVar("F", bound=Callable[..., Any])

# Bodies that are not JSON: a page, or a text document such as a signed note.
HTML_PAGE = {"type": "string", "description": "An HTML page"}
TEXT = {"type": "string"}
# The language of a page (api/pages.py): else Accept-Language, else Chinese.
LANG = {
    "in": "query",
    "name": "lang",
    "schema": {"type": "string", "examples": ["zh", "en"]},
    "description": "the page's language, zh or en (anything else is not asked for)",
}

# The problem each status most often carries, as the examples show it.
_EXAMPLE_CODES = {
    400: "invalid-parameters",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    409: "conflict",
    500: "internal-error",
    503: "unavailable",
    507: "storage-full",
}
_EXAMPLE_DETAILS = {
    400: "name: Missing data for required field.",
    401: "expected an Authorization: Bearer token",
    403: "expected a token with role issuer, got learner",
    404: "no issuer 'centre-9'",
    409: "revocation is final: its bit is never cleared",
    413: "expected at most 1048576 bytes, got 2097152",
    429: "expected at most 600/minute requests from one address; "
    "retry after the seconds in Retry-After",
    500: "The server could not complete the request.",
    503: "The database is not answering; try again shortly.",
    507: "The database's disk is full; the write that failed was rolled back. "
    "Send the request again once space has been freed.",
}
_EXAMPLE_BASE = "http://127.0.0.1:8000"

# RFC 9110 §10.2.3: Retry-After in seconds, as api/limits.py and api/problems.py
# write it.
_RETRY_AFTER = {"type": "string", "pattern": "^[0-9]+$", "examples": ["5"]}
_HEADERS: dict[int, dict[str, Any]] = {
    # Every 429 says when its window starts again (RFC 6585 §4).
    429: {
        "Retry-After": {
            "description": "Seconds until the exceeded window starts again",
            "required": True,
            "schema": _RETRY_AFTER,
        }
    },
    # Sent when the database does not answer; not when it is still being set up.
    503: {
        "Retry-After": {
            "description": "Seconds to wait before trying again",
            "schema": _RETRY_AFTER,
        }
    },
}
_DESCRIPTIONS = {
    429: "Too Many Requests: this address has used up the public endpoints' "
    "budget (CREDBANK_RATE_LIMIT) for the current window",
    503: "Service Unavailable: the database is not answering (or not set up)",
    507: "Insufficient Storage: the database's disk is full; nothing was written",
}

# Operations that never open a database transaction, so never answer its 503:
# documents built in memory, the units' fixed table, the log's key (held by the
# service), the paste form, and the metrics (which report credbank_database_up 0
# instead of failing).
_DATABASE_FREE = frozenset(
    {
        "api-docs.openapi_json",
        "docs.api_docs",
        "docs.problem_types",
        "health.metrics",
        "log.key",
        "units.show_unit",
        "verification_page.verify_form",
    }
)
# Which operations write, and so may meet a full disk (507): those of the unsafe
# methods (RFC 9110 §9.2.1) but the ones that only read (verification never
# writes, DESIGN §2; a preview has no side effects, DESIGN §7), and the GETs
# that write (the CLR is signed by the service's key, made on first use).
_READ_ONLY = frozenset(
    {
        "credit_bank.preview",
        "verification.verify_credential_route",
        "verification.verify_presentation_route",
        "verification_page.verify_submission",
    }
)
_WRITING_GETS = frozenset({"wallet.clr_file"})
_SAFE_METHODS = frozenset({"get", "head", "options"})
# webargs locations that read the request's body.
_BODY_LOCATIONS = frozenset({"json", "form", "files", "json_or_form"})


class _Parser(FlaskParser):
    # A query or body that fails its schema is a client error, 400, not 422.
    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req: flask.Request) -> Any:
        """The JSON body, refused (400) when it nests deeper than MAX_DEPTH: the
        decoder, marshmallow and the JSON-LD processor all recurse over it."""
        try:
            body = super()._raw_load_json(req)
        except RecursionError as exc:
            # The C decoder stops at Python's recursion limit.
            raise InvalidInputError({"body": JSON_TOO_DEEP}) from exc
        if too_deep(body):
            raise InvalidInputError({"body": JSON_TOO_DEEP})
        return body


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    ARGUMENTS_PARSER = _Parser()
    # flask-smorest's record of each view's documentation, by endpoint and method.
    _docs: dict[str, Any]

    def register_views_in_doc(
        self, api: Api, app: Flask, spec: Any, *, name: str, parameters: Any
    ) -> None:
        """Document each operation with the service-wide statuses it may answer
        (see `service_statuses`), then let flask-smorest build it."""
        declared = self._docs
        self._docs = copy.deepcopy(declared)
        try:
            for endpoint, methods in self._docs.items():
                full = f"{name}.{endpoint}"
                for method, info in methods.items():
                    if method != "parameters":
                        _add_service_statuses(app, full, method, info)
            super().register_views_in_doc(
                api, app, spec, name=name, parameters=parameters
            )
        finally:
            self._docs = declared

    @staticmethod
    def problems(*statuses: int) -> Callable[[F], F]:
        """Document the RFC 9457 problems a view may answer, by status."""

        def decorate(view: F) -> F:
            return add_problem_responses(view, statuses)

        return decorate

    def error_pages(self, *statuses: int) -> Callable[[F], F]:
        """Document the HTML pages a page's view answers errors with (a person
        reads those, so they are pages rather than problems)."""

        def decorate(view: F) -> F:
            for status in statuses:
                phrase = http.HTTPStatus(status).phrase
                view = self.alt_response(
                    status,
                    schema=HTML_PAGE,
                    content_type="text/html",
                    description=f"{phrase}: a page saying why",
                    example=html_example(phrase),
                )(view)
            return view

        return decorate


class Api(flask_smorest.Api):  # type: ignore[misc]
    ERROR_SCHEMA = ProblemSchema
    # Each operation lists the statuses it answers; a `default` response would
    # let any status pass for documented.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def init_app(
        self, app: Flask, *, spec_kwargs: dict[str, Any] | None = None
    ) -> None:
        super().init_app(app, spec_kwargs=spec_kwargs)
        # flask-smorest serves the document from a plain Flask blueprint, which
        # documents nothing itself.
        endpoint = f"{self._make_doc_blueprint_name()}.openapi_json"
        for rule in app.url_map.iter_rules(endpoint):
            operations = copy.deepcopy(_OPENAPI_OPERATION)
            responses = operations["get"]["responses"]
            for status in service_statuses(app, endpoint, "get", has_body=False):
                ref = self.spec.components.get_ref("response", problem_ref(status))
                responses[str(status)] = ref
            self.spec.path(rule=rule, operations=operations)

    def handle_http_exception(self, error: Any) -> Any:
        return handle_http_exception(error)

    def _register_responses(self) -> None:
        """One shared response per status: a problem with an example."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {
                "description": _DESCRIPTIONS.get(status, status.phrase)
            }
            if status >= 400:
                response["content"] = {
                    MEDIA_TYPE: {
                        "schema": self.ERROR_SCHEMA,
                        "example": _problem_example(status),
                    }
                }
            if status in _HEADERS:
                response["headers"] = copy.deepcopy(_HEADERS[status])
            self.spec.components.response(status.name, response, lazy=True)


def service_statuses(
    app: Flask, endpoint: str, method: str, *, has_body: bool
) -> list[int]:
    """The statuses an operation may answer whatever its view does: 429 where
    the rate limit counts it (api/limits.py's own rule), 413 where it takes a
    body under the app's cap, 503 where it opens a database transaction, 507
    where that transaction may write."""
    statuses = []
    view = app.view_functions.get(endpoint)
    if any(is_counted(r.rule, view) for r in app.url_map.iter_rules(endpoint)):
        statuses.append(429)
    if has_body and BODY_CAPS.get(endpoint, DEFAULT_BODY_BYTES) is not None:
        # None: the view caps its body itself and declares its own answer.
        statuses.append(413)
    if endpoint not in _DATABASE_FREE:
        statuses.append(503)
        writes = method not in _SAFE_METHODS and endpoint not in _READ_ONLY
        if writes or endpoint in _WRITING_GETS:
            statuses.append(507)
    return statuses


def html_example(title: str) -> str:
    """The start of an HTML page, as an example of a page response."""
    return f'<!doctype html>\n<html lang="en">\n<head><title>{title}</title>…'


def _add_service_statuses(
    app: Flask, endpoint: str, method: str, info: dict[str, Any]
) -> None:
    """Add `service_statuses` to one operation's flask-smorest doc info."""
    arguments = info.get("arguments", {}).get("parameters", [])
    has_body = "requestBody" in info.get("manual_doc", {}) or any(
        argument["in"] in _BODY_LOCATIONS for argument in arguments
    )
    responses = info.setdefault("response", {}).setdefault("responses", {})
    for status in service_statuses(app, endpoint, method, has_body=has_body):
        if status == 413:
            # In place of any bare 413 the view declared: this one says the cap.
            responses[413] = [_too_large(_body_cap(endpoint))]
        elif problem_ref(status) not in responses.setdefault(status, []):
            responses[status].append(problem_ref(status))


def _body_cap(endpoint: str) -> int:
    cap = BODY_CAPS.get(endpoint, DEFAULT_BODY_BYTES)
    assert cap is not None, f"expected a body cap for {endpoint}, got None"
    return cap


def _too_large(cap: int) -> dict[str, Any]:
    """A 413 problem response naming the body cap, in flask-smorest's form."""
    mebibytes = cap / (1024 * 1024)
    return {
        "description": f"Content Too Large: the body is over {cap} bytes "
        f"({mebibytes:g} MiB)",
        "schema": ProblemSchema,
        "example": {
            "type": "about:blank",
            "title": "Request Entity Too Large",
            "status": 413,
            "detail": f"expected at most {cap} bytes, got {cap + 1}",
        },
        "content_type": MEDIA_TYPE,
    }


def _problem_example(status: http.HTTPStatus) -> dict[str, Any]:
    code = _EXAMPLE_CODES.get(status)
    detail = _EXAMPLE_DETAILS.get(status, status.phrase)
    if code is None:
        return {
            "type": "about:blank",
            "title": status.phrase,
            "status": int(status),
            "detail": detail,
        }
    example: dict[str, Any] = {
        "type": f"{_EXAMPLE_BASE}/problems#{code}",
        "title": PROBLEM_TYPES[code][1],
        "status": int(status),
        "detail": detail,
    }
    if code == "invalid-parameters":
        example["errors"] = {"name": ["Missing data for required field."]}
    return example


_OPENAPI_OPERATION: dict[str, Any] = {
    "get": {
        "tags": ["docs"],
        "summary": "This OpenAPI 3.1 document.",
        "responses": {
            "200": {
                "description": "The OpenAPI document",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["openapi", "info", "paths"],
                        },
                        "example": {
                            "openapi": "3.1.0",
                            "info": {"title": "credbank", "version": "1"},
                            "paths": {},
                        },
                    }
                },
            }
        },
    }
}
