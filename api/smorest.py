"""flask-smorest, set up to answer invalid parameters as RFC 9457 problems (400).

flask-smorest generates the OpenAPI 3.1 document from the schemas the views
declare. Every problem response in it is `application/problem+json` (RFC 9457
§3) with the Problem schema and an example; no catch-all `default` response
stands in for the statuses an operation really answers.
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

from api.apidoc import add_problem_responses
from api.problems import MEDIA_TYPE, PROBLEM_TYPES, ProblemSchema, handle_http_exception
from api.verification import JSON_TOO_DEEP, too_deep
from issuers.errors import InvalidInputError

__all__ = ["HTML_PAGE", "LANG", "TEXT", "Api", "Blueprint", "html_example"]

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
}
_EXAMPLE_DETAILS = {
    400: "name: Missing data for required field.",
    401: "expected an Authorization: Bearer token",
    403: "expected a token with role issuer, got learner",
    404: "no issuer 'centre-9'",
    409: "revocation is final: its bit is never cleared",
    413: "expected at most 1048576 bytes",
    500: "The server could not complete the request.",
    503: "The database is not answering; try again shortly.",
}
_EXAMPLE_BASE = "http://127.0.0.1:8000"


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
            self.spec.path(rule=rule, operations=copy.deepcopy(_OPENAPI_OPERATION))

    def handle_http_exception(self, error: Any) -> Any:
        return handle_http_exception(error)

    def _register_responses(self) -> None:
        """One shared response per status: a problem with an example."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["content"] = {
                    MEDIA_TYPE: {
                        "schema": self.ERROR_SCHEMA,
                        "example": _problem_example(status),
                    }
                }
            self.spec.components.response(status.name, response, lazy=True)


def html_example(title: str) -> str:
    """The start of an HTML page, as an example of a page response."""
    return f'<!doctype html>\n<html lang="en">\n<head><title>{title}</title>…'


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
