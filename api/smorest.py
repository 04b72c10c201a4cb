"""flask-smorest, set up to answer invalid parameters as RFC 9457 problems (400).

flask-smorest generates the OpenAPI document from the schemas the views declare.
"""

from __future__ import annotations

from typing import Any

import flask_smorest
from webargs.flaskparser import FlaskParser

from api.problems import ProblemSchema, handle_http_exception

__all__ = ["Api", "Blueprint"]


class _Parser(FlaskParser):
    # A query or body that fails its schema is a client error, 400, not 422.
    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    ARGUMENTS_PARSER = _Parser()


class Api(flask_smorest.Api):  # type: ignore[misc]
    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error: Any) -> Any:
        return handle_http_exception(error)
