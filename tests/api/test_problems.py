"""Bad requests to every log endpoint, and unexpected errors: RFC 9457 problems only.

The log under test has 4 entries and checkpoints at sizes 0, 1 and 4 (never 2 or 3).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError
from werkzeug.test import TestResponse

from ledger import LogStateError
from tests.api.conftest import Append

BIG = 2**70
INT64_MAX = 2**63 - 1
SECRET = "postgresql://admin:hunter2@db.internal/credbank"


@pytest.fixture
def log_of_four(client: FlaskClient, append: Append) -> FlaskClient:
    append(3)
    return client


def assert_problem(response: TestResponse, status: int) -> dict[str, Any]:
    """A problem+json body (RFC 9457 §3) whose status matches the response's."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    assert 'File "' not in text
    return body


INVALID_PARAMETERS = [
    # /log/entries
    "/log/entries",
    "/log/entries?start=0",
    "/log/entries?end=1",
    "/log/entries?start=a&end=1",
    "/log/entries?start=0&end=b",
    "/log/entries?start=&end=1",
    "/log/entries?start=1.5&end=2",
    "/log/entries?start=0x1&end=2",
    "/log/entries?start=-1&end=1",
    "/log/entries?start=0&end=-5",
    "/log/entries?start=0&end=0",
    "/log/entries?start=3&end=3",
    "/log/entries?start=3&end=2",
    f"/log/entries?start=0&end={BIG}",
    f"/log/entries?start={BIG}&end={BIG + 1}",
    # /log/proof/<index>?size=
    "/log/proof/0?size=0",
    "/log/proof/0?size=-1",
    "/log/proof/0?size=abc",
    "/log/proof/0?size=",
    f"/log/proof/0?size={BIG}",
    # /log/consistency
    "/log/consistency",
    "/log/consistency?from=1",
    "/log/consistency?to=1",
    "/log/consistency?from=0&to=1",
    "/log/consistency?from=-1&to=2",
    "/log/consistency?from=a&to=2",
    "/log/consistency?from=1&to=z",
    "/log/consistency?from=3&to=2",
    f"/log/consistency?from=1&to={BIG}",
    f"/log/consistency?from={BIG}&to={BIG}",
]

OUT_OF_RANGE = [
    ("/log/entries?start=4&end=5", "expected start < tree size 4, got 4"),
    ("/log/entries?start=100&end=200", "expected start < tree size 4, got 100"),
    (
        f"/log/entries?start={INT64_MAX - 1}&end={INT64_MAX}",
        f"expected start < tree size 4, got {INT64_MAX - 1}",
    ),
    ("/log/proof/4", "expected leaf index < tree size 4, got 4"),
    (f"/log/proof/{BIG}", f"expected leaf index < tree size 4, got {BIG}"),
    ("/log/proof/0?size=2", "no checkpoint was signed at tree size 2"),
    ("/log/proof/0?size=3", "no checkpoint was signed at tree size 3"),
    ("/log/proof/0?size=5", "no checkpoint was signed at tree size 5"),
    (f"/log/proof/0?size={INT64_MAX}", "no checkpoint was signed at tree size"),
    ("/log/proof/1?size=1", "expected leaf index < tree size 1, got 1"),
    ("/log/consistency?from=1&to=5", "expected a tree size from 1 to 4, got 5"),
    ("/log/consistency?from=5&to=6", "expected a tree size from 1 to 4, got 6"),
    (
        f"/log/consistency?from={INT64_MAX}&to={INT64_MAX}",
        f"expected a tree size from 1 to 4, got {INT64_MAX}",
    ),
]

UNKNOWN_PATHS = [
    "/log",
    "/log/",
    "/log/nope",
    "/nope",
    "/log/checkpoint/extra",
    "/log/entries/0",
    "/log/proof",
    "/log/proof/",
    "/log/proof/x",
    "/log/proof/-1",
    "/log/proof/1.5",
    "/log/proof/0/1",
    "/log/consistency/1/2",
]

LOG_ENDPOINTS = [
    "/log/checkpoint",
    "/log/key",
    "/log/entries?start=0&end=1",
    "/log/proof/0",
    "/log/consistency?from=1&to=1",
    "/healthz",
]


@pytest.mark.parametrize("url", INVALID_PARAMETERS)
def test_invalid_parameters_are_400_problems(
    log_of_four: FlaskClient, url: str
) -> None:
    body = assert_problem(log_of_four.get(url), 400)

    assert body["type"] == "http://credbank.test/problems#invalid-parameters"
    assert body["errors"]
    for field in body["errors"]:
        assert f"{field}: " in body["detail"]


@pytest.mark.parametrize(("url", "detail"), OUT_OF_RANGE)
def test_positions_outside_the_tree_are_404_problems(
    log_of_four: FlaskClient, url: str, detail: str
) -> None:
    body = assert_problem(log_of_four.get(url), 404)

    assert body["type"] == "http://credbank.test/problems#out-of-range"
    assert body["title"] == "Outside the log as it stands"
    assert body["detail"].startswith(detail)


@pytest.mark.parametrize("url", UNKNOWN_PATHS)
def test_unknown_paths_are_404_problems(log_of_four: FlaskClient, url: str) -> None:
    body = assert_problem(log_of_four.get(url), 404)

    assert body["type"] == "about:blank"
    assert body["title"] == "Not Found"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("url", LOG_ENDPOINTS)
def test_wrong_methods_are_405_problems(
    log_of_four: FlaskClient, url: str, method: str
) -> None:
    response = log_of_four.open(url, method=method, data=b"{}")

    body = assert_problem(response, 405)
    assert body["title"] == "Method Not Allowed"
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize(
    ("url", "field", "message"),
    [
        ("/log/entries?start=3&end=3", "end", "expected end > start 3, got 3"),
        ("/log/consistency?from=3&to=2", "to", "expected to >= from 3, got 2"),
        ("/log/entries?start=x&end=1", "start", "Not a valid integer."),
        ("/log/entries?end=1", "start", "Missing data for required field."),
    ],
)
def test_invalid_parameters_name_the_field_and_the_reason(
    log_of_four: FlaskClient, url: str, field: str, message: str
) -> None:
    body = assert_problem(log_of_four.get(url), 400)

    assert body["errors"] == {field: [message]}
    assert body["detail"] == f"{field}: {message}"


def test_problem_types_are_listed(client: FlaskClient) -> None:
    listed = client.get("/problems").get_json()

    assert listed["invalid-parameters"] == {
        "status": 400,
        "title": "The request's parameters are invalid",
    }
    assert listed["out-of-range"]["status"] == 404
    assert listed["internal-error"]["status"] == 500


def _add_failing_route(app: Flask, path: str, error: Exception) -> None:
    def fail() -> str:
        raise error

    app.add_url_rule(path, endpoint=path, view_func=fail)


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError(f"cannot connect to {SECRET}"),
        KeyError(SECRET),
        LogStateError(SECRET),
    ],
    ids=["runtime-error", "key-error", "unmapped-domain-error"],
)
def test_unexpected_errors_are_generic_500_problems(
    app: Flask, error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    _add_failing_route(app, "/boom", error)

    with caplog.at_level(logging.ERROR, logger="api.problems"):
        response = app.test_client().get("/boom")

    body = assert_problem(response, 500)
    assert body["type"] == "http://credbank.test/problems#internal-error"
    assert body["detail"] == "The server could not complete the request."
    assert "hunter2" not in response.get_data(as_text=True)
    assert type(error).__name__ not in response.get_data(as_text=True)
    # The cause is logged once, at the boundary, with its stack.
    records = [r for r in caplog.records if r.name == "api.problems"]
    assert [r.getMessage() for r in records] == ["unhandled error on GET /boom"]
    assert records[0].exc_info is not None


def test_database_errors_are_503_problems_that_say_nothing_of_the_cause(
    app: Flask,
) -> None:
    error = OperationalError("SELECT 1", {}, Exception(f"could not reach {SECRET}"))
    _add_failing_route(app, "/db-down", error)

    response = app.test_client().get("/db-down")

    body = assert_problem(response, 503)
    assert body["type"] == "http://credbank.test/problems#unavailable"
    assert response.headers["Retry-After"] == "5"
    assert "hunter2" not in response.get_data(as_text=True)
