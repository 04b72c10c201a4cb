"""Request ids and log lines: the id a request is known by in its response, its
problem details (5xx) and every log line it writes; JSON lines that hold no tokens
and no personal data."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.logs import TEXT_FORMAT, JSONFormatter, RequestIdFilter, logging_config
from tests.conftest import (
    LEARNER_EMAIL,
    LEARNER_NAME,
    Caller,
    award,
    award_request,
)

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Everything logged during the test, as the JSON format writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def lines_of(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    """The app with one view that fails as a bug would."""

    def fail() -> str:
        raise RuntimeError("a bug in a view")

    app.add_url_rule("/test-failure", "test_failure", fail)
    return app


@pytest.mark.parametrize(
    "offered", ["4bf92f3577b34da6", "Root=1-67891233-abcdef012345", "a.b:c/d+e=f_g"]
)
def test_a_safe_request_id_is_echoed(client: FlaskClient, offered: str) -> None:
    answer = client.get("/healthz", headers={"X-Request-ID": offered})

    assert answer.headers["X-Request-ID"] == offered


@pytest.mark.parametrize(
    "offered",
    ["x" * 129, "two words", "<script>", 'quote"d', "tab\there", "é", ""],
)
def test_an_unsafe_or_long_request_id_is_replaced(
    client: FlaskClient, offered: str
) -> None:
    answer = client.get("/healthz", headers={"X-Request-ID": offered})

    assert GENERATED.fullmatch(answer.headers["X-Request-ID"])


def test_each_request_without_an_id_gets_its_own(client: FlaskClient) -> None:
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/no/such/page").headers["X-Request-ID"]

    assert GENERATED.fullmatch(first)
    assert GENERATED.fullmatch(second)
    assert first != second


def test_a_500_names_its_request_id_in_the_problem_and_every_log_line(
    failing_app: Flask, json_lines: io.StringIO
) -> None:
    client = failing_app.test_client()

    answer = client.get("/test-failure", headers={"X-Request-ID": "ops-42"})
    lines = lines_of(json_lines)

    assert answer.status_code == 500
    body = answer.get_json()
    assert body["requestId"] == "ops-42"
    assert "a bug" not in json.dumps(body)
    assert answer.headers["X-Request-ID"] == "ops-42"
    assert lines, "the request logged nothing"
    assert {line["requestId"] for line in lines} == {"ops-42"}
    error = next(line for line in lines if line["level"] == "ERROR")
    assert error["logger"] == "api.problems"
    assert "RuntimeError: a bug in a view" in str(error["exception"])
    access = next(line for line in lines if line["logger"] == "api.access")
    assert access["http"] == {
        "method": "GET",
        "route": "/test-failure",
        "status": 500,
        "durationMs": access["http"]["durationMs"],
    }
    assert access["message"].startswith("GET /test-failure 500 ")


def test_a_4xx_problem_carries_no_request_id(client: FlaskClient) -> None:
    answer = client.get("/credentials/urn:uuid:00000000-0000-0000-0000-000000000000")

    assert answer.status_code == 404
    assert "requestId" not in answer.get_json()


def test_json_lines_hold_no_token_and_no_personal_data(
    client: FlaskClient,
    issuer: Caller,
    approved_achievement: str,
    json_lines: io.StringIO,
) -> None:
    credential = award(client, issuer, award_request(approved_achievement))
    client.get(f"/credentials/{credential['id']}")
    client.post(
        "/credentials/award",
        json=award_request(approved_achievement),
        headers={"Authorization": "Bearer cbt_not-a-real-token-but-secret"},
    )
    text = json_lines.getvalue()
    lines = lines_of(json_lines)

    assert len(lines) >= 3
    for line in lines:
        assert {"time", "level", "logger", "message", "requestId"} <= line.keys()
    routes = {line["http"]["route"] for line in lines if "http" in line}
    assert "/credentials/<path:credential_id>" in routes
    for secret in (
        issuer.token,
        "cbt_not-a-real-token-but-secret",
        LEARNER_EMAIL,
        LEARNER_EMAIL.lower(),
        LEARNER_NAME,
        credential["id"],  # raw paths are never logged; the rule is
    ):
        assert secret not in text


def test_the_text_format_names_the_request_id(client: FlaskClient, app: Flask) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RequestIdFilter())
    access = logging.getLogger("api.access")
    access.addHandler(handler)
    level = access.level
    access.setLevel(logging.INFO)
    try:
        client.get("/healthz", headers={"X-Request-ID": "text-7"})
        logging.getLogger("outside").warning("no request here")
    finally:
        access.removeHandler(handler)
        access.setLevel(level)

    line = stream.getvalue().strip()
    assert re.fullmatch(
        r"\S+ \S+ INFO api\.access \[text-7\] GET /healthz 200 [0-9.]+ ms", line
    )
    record = logging.LogRecord("outside", logging.INFO, __file__, 1, "x", (), None)
    assert RequestIdFilter().filter(record)
    assert record.requestId == "-"


def test_logging_config_sends_everything_to_stderr_in_the_chosen_format() -> None:
    json_config = logging_config("json", "WARNING")
    text_config = logging_config("text", "INFO")

    assert json_config["formatters"]["credbank"] == {"()": JSONFormatter}
    assert text_config["formatters"]["credbank"] == {"format": TEXT_FORMAT}
    assert json_config["root"] == {"level": "WARNING", "handlers": ["stderr"]}
    assert json_config["handlers"]["stderr"]["stream"] == "ext://sys.stderr"
    assert json_config["handlers"]["stderr"]["filters"] == ["request_id"]
    # gunicorn's access log would name raw paths; the app writes its own.
    assert json_config["loggers"]["gunicorn.access"] == {
        "handlers": [],
        "propagate": False,
    }
    assert json_config["loggers"]["gunicorn.error"]["handlers"] == ["stderr"]
