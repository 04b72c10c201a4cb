"""/openapi.json is complete and true, and /docs renders all of it, escaped.

The walk is general: any route any blueprint adds must be documented too.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from api.apidoc import BEARER_SCHEME
from api.smorest import Blueprint

_METHODS = {"get", "put", "post", "delete", "patch"}
# Statuses whose answers carry no body (RFC 9110 §15.4.5).
_BODILESS = {"204", "304"}
_PROBLEM = "application/problem+json"


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    body: dict[str, Any] = answer.get_json()
    return body


def _openapi_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path: `<int:index>` becomes `{index}`."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in _METHODS
    ]


def _resolve(document: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    ref = value.get("$ref")
    if ref is None:
        return value
    found: Any = document
    for part in ref.removeprefix("#/").split("/"):
        found = found[part]
    resolved: dict[str, Any] = found
    return resolved


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"

    validate(document)  # openapi-spec-validator picks the 3.1 validator


def test_every_url_rule_is_documented_with_its_methods(
    app: Flask, document: dict[str, Any]
) -> None:
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        item = document["paths"].get(_openapi_path(rule.rule), {})
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if method.lower() not in item:
                missing.append(f"{method} {rule.rule}")

    assert missing == []


def test_every_answer_has_a_described_body_and_every_success_an_example(
    document: dict[str, Any],
) -> None:
    faults = []
    for method, path, operation in _operations(document):
        label = f"{method.upper()} {path}"
        responses = operation.get("responses", {})
        if not any(status.startswith("2") for status in responses):
            faults.append(f"{label}: no success response")
        if "default" in responses:
            faults.append(f"{label}: a default response hides the real statuses")
        for status, answer in responses.items():
            answer = _resolve(document, answer)
            if status in _BODILESS:
                continue
            content = answer.get("content", {})
            if not content:
                faults.append(f"{label} {status}: no content")
            for media_type, body in content.items():
                if "schema" not in body:
                    faults.append(f"{label} {status} {media_type}: no schema")
                binary = body.get("schema", {}).get("format") == "binary"
                if status.startswith("2") and "example" not in body and not binary:
                    faults.append(f"{label} {status} {media_type}: no example")

    assert faults == []


def test_every_problem_answer_is_a_problem_document(document: dict[str, Any]) -> None:
    faults = []
    for method, path, operation in _operations(document):
        for status, answer in operation["responses"].items():
            content = _resolve(document, answer).get("content", {})
            if int(status) < 400 or "text/html" in content:
                continue  # pages answer errors with a page a person reads
            if list(content) != [_PROBLEM]:
                faults.append(f"{method.upper()} {path} {status}: {list(content)}")
            elif content[_PROBLEM]["schema"] != {
                "$ref": "#/components/schemas/Problem"
            }:
                faults.append(
                    f"{method.upper()} {path} {status}: not the Problem schema"
                )

    assert faults == []


def test_every_request_body_has_a_schema_and_an_example(
    document: dict[str, Any],
) -> None:
    faults = []
    for method, path, operation in _operations(document):
        for media_type, body in (
            operation.get("requestBody", {}).get("content", {}).items()
        ):
            if "schema" not in body or "example" not in body:
                faults.append(f"{method.upper()} {path} {media_type}")

    assert faults == []


def test_authenticated_routes_name_the_bearer_scheme_and_their_roles(
    app: Flask, document: dict[str, Any]
) -> None:
    faults = []
    for rule in app.url_map.iter_rules():
        roles = getattr(app.view_functions[rule.endpoint], "__credbank_roles__", None)
        if roles is None:
            continue
        item = document["paths"][_openapi_path(rule.rule)]
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            operation = item[method.lower()]
            if operation.get("security") != [{BEARER_SCHEME: list(roles)}]:
                faults.append(f"{method} {rule.rule}: {operation.get('security')}")
            if not {"401", "403"} <= operation["responses"].keys():
                faults.append(f"{method} {rule.rule}: no 401 and 403 answers")

    assert faults == []
    assert document["components"]["securitySchemes"][BEARER_SCHEME] == {
        "type": "http",
        "scheme": "bearer",
    }


class _Text(HTMLParser):
    """The text of a page, and whether it holds any script."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.scripts += tag == "script"

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_docs_page_lists_every_operation_and_schema(
    client: FlaskClient, document: dict[str, Any]
) -> None:
    answer = client.get("/docs")
    page = _Text()
    page.feed(answer.get_data(as_text=True))
    text = " ".join(" ".join(page.text).split())

    assert answer.status_code == 200
    assert answer.mimetype == "text/html"
    assert page.scripts == 0
    for method, path, _ in _operations(document):
        assert f"{method.upper()} {path}" in text
    for name in document["components"]["schemas"]:
        assert name in text


def test_the_docs_page_escapes_what_the_document_says(
    app: Flask, client: FlaskClient
) -> None:
    hostile = Blueprint("hostile", __name__, description="<b>bold</b> & more")

    @hostile.route("/hostile/<name>")
    @hostile.response(
        200, {"type": "string"}, content_type="text/plain", example="<img src=x>"
    )
    def hostile_view(name: str) -> str:
        """Says <script>alert(1)</script> in its summary."""
        return name

    app.extensions["flask-smorest"]["apis"][""]["ext_obj"].register_blueprint(hostile)
    html = client.get("/docs").get_data(as_text=True)

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x>" not in html
    assert "&lt;img src=x&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in html
