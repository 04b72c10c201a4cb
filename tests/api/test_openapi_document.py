"""/openapi.json is complete and true, and /docs renders all of it, escaped.

The walk is general: any route any blueprint adds must be documented too. So are
the statuses the service adds to every view (429, 413, 503, 507): where they should
be, and as the service really answers them, checked as the fuzz test checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error

from api.apidoc import BEARER_SCHEME
from api.app import create_app
from api.config import Config
from api.limits import BODY_CAPS, DEFAULT_BODY_BYTES, is_counted
from api.services import Services, open_services
from api.smorest import Blueprint
from migrations.runner import upgrade
from tests.api.test_database_errors import _award_capped as award_capped
from tests.api.test_fuzz_contract import CHECKS
from tests.conftest import NOW, TEST_MASTER_KEY, Caller, award_request

_METHODS = {"get", "put", "post", "delete", "patch"}
# Statuses whose answers carry no body (RFC 9110 §15.4.5).
_BODILESS = {"204", "304"}
_PROBLEM = "application/problem+json"
_UNSAFE = {"post", "put", "delete", "patch"}
# Path parameters that are refused on their form alone, before any look-up.
_ANY_ID = {"secret": "clm_" + "x" * 32}
_ANY_QUERY = {"start": "0"}


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

    assert faults == [], faults


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

    assert faults == [], faults


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

    assert faults == [], faults


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

    assert faults == [], faults
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


# The statuses the service adds to every view (api/smorest.py)


def _rule_operations(
    app: Flask, document: dict[str, Any]
) -> Iterator[tuple[str, str, dict[str, Any], Any]]:
    """(endpoint, "METHOD rule", operation, rule) for every documented route."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        item = document["paths"][_openapi_path(rule.rule)]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, f"{method} {rule.rule}", item[method.lower()], rule


def test_429_is_documented_exactly_where_the_rate_limit_counts(
    app: Flask, document: dict[str, Any]
) -> None:
    faults = []
    for endpoint, label, operation, rule in _rule_operations(app, document):
        counted = is_counted(rule.rule, app.view_functions[endpoint])
        if counted != ("429" in operation["responses"]):
            faults.append(f"{label}: counted {counted}")

    assert faults == [], faults
    paths = document["paths"]
    # The rule itself, as tests/api/test_limits.py sees it answer: public
    # endpoints are counted, bearer ones and the probes are not.
    assert "429" in paths["/units/{code}"]["get"]["responses"]
    assert "429" in paths["/openapi.json"]["get"]["responses"]
    assert "429" not in paths["/credentials/award"]["post"]["responses"]
    assert "429" not in paths["/healthz"]["get"]["responses"]
    assert "429" not in paths["/metrics"]["get"]["responses"]
    limited = _resolve(document, paths["/units/{code}"]["get"]["responses"]["429"])
    assert limited["headers"]["Retry-After"]["required"] is True
    assert limited["content"][_PROBLEM]["example"]["status"] == 429


def test_413_with_its_cap_on_every_operation_that_takes_a_body(
    app: Flask, document: dict[str, Any]
) -> None:
    faults = []
    for endpoint, label, operation, _ in _rule_operations(app, document):
        if "requestBody" not in operation:
            continue
        cap = BODY_CAPS.get(endpoint, DEFAULT_BODY_BYTES)
        answer = _resolve(document, operation["responses"].get("413", {}))
        if cap is None:
            # The view caps its own body and answers with its own page.
            if "text/html" not in answer.get("content", {}):
                faults.append(f"{label}: no 413 page")
        elif f"over {cap} bytes" not in answer.get("description", ""):
            faults.append(f"{label}: {answer.get('description')!r}")

    assert faults == [], faults
    batch = document["paths"]["/credentials/batch"]["post"]["responses"]["413"]
    assert "16777216 bytes (16 MiB)" in batch["description"]


def test_503_and_507_name_the_database_s_failures_where_it_is_used(
    document: dict[str, Any],
) -> None:
    paths = document["paths"]

    # Every bearer operation reads its token from the database.
    for method, path, operation in _operations(document):
        if "security" in operation:
            assert "503" in operation["responses"], f"{method} {path}"
        if method in _UNSAFE and "security" in operation:
            writes = path not in {"/transfers/preview"}
            assert ("507" in operation["responses"]) == writes, f"{method} {path}"
    assert "507" in paths["/issuers"]["post"]["responses"]
    assert "507" in paths["/learners/{learner_id}/clr"]["get"]["responses"]
    assert "507" not in paths["/credentials/verify"]["post"]["responses"]
    assert "507" not in paths["/log/entries"]["get"]["responses"]
    unavailable = _resolve(document, paths["/issuers"]["get"]["responses"]["503"])
    assert "Retry-After" in unavailable["headers"]


# Real answers, validated as tests/api/test_fuzz_contract.py validates them


@pytest.fixture
def own_app(tmp_path: Path) -> Iterator[tuple[Flask, Services]]:
    """An app over a SQLite file of its own (its folder may be taken away), with a
    rate limit of 2 a minute."""
    config = Config(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'db' / 'credbank.sqlite3'}",
        base_url="http://credbank.test",
        log_origin="credbank.test/log",
        master_key=TEST_MASTER_KEY,
        rate_limit="2/minute",
    )
    (tmp_path / "db").mkdir()
    upgrade(config.database_url)
    services = open_services(config, now=NOW)
    app = create_app(config, services=services)
    app.config["TESTING"] = True
    yield app, services
    services.close()


def _contract(app: Flask) -> Any:
    document = app.test_client().get("/openapi.json").get_json()
    return schemathesis.openapi.from_dict(document)


def _validate(contract: Any, method: str, path: str, answer: Any, **case: Any) -> None:
    """Check `answer` against the operation's documented response with the fuzz
    test's checks; a fault made on purpose is let through "no 5xx"."""
    checks = CHECKS
    if answer.status_code >= 500:
        checks = [check for check in CHECKS if check is not not_a_server_error]
    operation = contract[path][method]
    operation.Case(**case).validate_response(answer, checks=checks)


def test_a_real_429_matches_its_documented_answer(
    own_app: tuple[Flask, Services],
) -> None:
    app, _ = own_app
    contract = _contract(app)
    client = app.test_client()
    env = {"REMOTE_ADDR": "192.0.2.20"}

    answers = [client.get("/units/ECTS", environ_overrides=env) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[2].headers["Retry-After"]) >= 1
    _validate(
        contract, "GET", "/units/{code}", answers[2], path_parameters={"code": "ECTS"}
    )


def test_a_real_413_matches_its_documented_answer(
    own_app: tuple[Flask, Services],
) -> None:
    app, _ = own_app
    contract = _contract(app)
    body = {"verifiableCredential": {"id": "x" * DEFAULT_BODY_BYTES}}

    answer = app.test_client().post("/credentials/verify", json=body)

    assert answer.status_code == 413
    assert answer.get_json()["detail"].startswith(
        f"expected at most {DEFAULT_BODY_BYTES} bytes"
    )
    _validate(
        contract,
        "POST",
        "/credentials/verify",
        answer,
        body=body,
        media_type="application/json",
    )


def test_a_real_503_matches_its_documented_answer(
    own_app: tuple[Flask, Services], tmp_path: Path
) -> None:
    app, services = own_app
    contract = _contract(app)
    # The volume the database lives on goes away: SQLite cannot open the file.
    (tmp_path / "db").rename(tmp_path / "gone")
    services.database.engine.dispose()

    answer = app.test_client().get("/issuers")

    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    _validate(contract, "GET", "/issuers", answer)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_real_507_matches_its_documented_answer(
    app: Flask,
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    approved_achievement: str,
) -> None:
    contract = _contract(app)
    # The first award makes the status lists; the capped one must grow the file.
    first = award_request(approved_achievement)
    made = client.post("/credentials/award", json=first, headers=issuer.headers)
    assert made.status_code == 201

    answer = award_capped(client, services, issuer, approved_achievement)

    assert answer.status_code == 507
    _validate(contract, "POST", "/credentials/award", answer)


def test_with_the_database_gone_exactly_the_operations_naming_503_answer_it(
    own_app: tuple[Flask, Services], tmp_path: Path
) -> None:
    app, services = own_app
    document = app.test_client().get("/openapi.json").get_json()
    (tmp_path / "db").rename(tmp_path / "gone")
    services.database.engine.dispose()
    client = app.test_client()

    faults = []
    for n, (method, path, operation) in enumerate(_operations(document)):
        answer = _send_example(client, method, path, operation, f"192.0.2.{n}")
        documented = "503" in operation["responses"]
        if (answer.status_code == 503) != documented:
            faults.append(f"{method.upper()} {path}: {answer.status_code}")

    assert faults == [], faults


def _send_example(
    client: FlaskClient, method: str, path: str, operation: dict[str, Any], address: str
) -> Any:
    """Call an operation with its documented request example, a token (none is
    known: telling so needs the database) and any id, from its own address so
    that the rate limit never answers first."""
    # Any id will do, once well formed: only the database knows it is unknown.
    url = re.sub(r"{([^}]+)}", lambda m: _ANY_ID.get(m[1], "1"), path)
    required = [
        parameter["name"]
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query" and parameter.get("required")
    ]
    kwargs: dict[str, Any] = {
        "headers": {"Authorization": "Bearer cbt_unknown"},
        "environ_overrides": {"REMOTE_ADDR": address},
        "query_string": {name: _ANY_QUERY.get(name, "1") for name in required},
    }
    content = operation.get("requestBody", {}).get("content", {})
    for media_type, body in content.items():
        example = body["example"]
        if media_type == "application/json":
            kwargs["json"] = example
        else:
            kwargs["data"] = example
            kwargs["content_type"] = media_type
        break
    return client.open(url, method=method.upper(), **kwargs)
