"""Security headers on every answer and CORS on the verifier's documents
(api/headers.py, issue 8). The headers do not depend on the database: SQLite only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.app import create_app
from api.config import Config
from api.headers import PAGE_CSP
from api.services import Services, open_services
from migrations.runner import upgrade
from tests.conftest import NOW, TEST_MASTER_KEY

ORIGIN = "https://verifier.example.org"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'credbank.sqlite3'}",
        base_url="http://credbank.test",
        log_origin="credbank.test/log",
        master_key=TEST_MASTER_KEY,
        rate_limit=None,
    )


@pytest.fixture
def sqlite_services(config: Config) -> Iterator[Services]:
    upgrade(config.database_url)
    opened = open_services(config, now=NOW)
    yield opened
    opened.close()


@pytest.fixture
def app(config: Config, sqlite_services: Services) -> Flask:
    return create_app(config, services=sqlite_services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# Security headers


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/log/checkpoint", 200),
        ("/units/ECTS", 200),
        ("/healthz", 200),
        ("/units/none", 404),
        ("/no/such/path", 404),
        ("/reviews/pending", 401),
    ],
)
def test_every_document_and_problem_may_load_nothing_and_not_be_framed(
    client: FlaskClient, path: str, status: int
) -> None:
    answer = client.get(path)

    assert answer.status_code == status
    assert answer.headers["Content-Security-Policy"] == (
        "default-src 'none'; frame-ancestors 'none'"
    )
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert "Cross-Origin-Opener-Policy" not in answer.headers
    assert "Strict-Transport-Security" not in answer.headers


@pytest.mark.parametrize("path", ["/verify", "/v/urn:uuid:no-such-credential"])
def test_pages_get_the_page_policy_once(client: FlaskClient, path: str) -> None:
    answer = client.get(path, headers={"Accept": "text/html"})

    assert answer.mimetype == "text/html"
    assert answer.headers.getlist("Content-Security-Policy") == [PAGE_CSP]
    assert "script-src" not in PAGE_CSP
    assert answer.headers.getlist("X-Content-Type-Options") == ["nosniff"]
    assert answer.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert answer.headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert answer.headers["X-Frame-Options"] == "DENY"


def test_strict_transport_security_only_when_the_base_url_is_https(
    config: Config, sqlite_services: Services
) -> None:
    secure = dataclasses.replace(config, base_url="https://credbank.example.edu")
    client = create_app(secure, services=sqlite_services).test_client()

    assert client.get("/healthz").headers["Strict-Transport-Security"] == (
        "max-age=31536000"
    )
    assert client.get("/verify").headers["Strict-Transport-Security"] == (
        "max-age=31536000"
    )


def test_qr_images_may_be_embedded_elsewhere_but_other_documents_not(
    client: FlaskClient,
) -> None:
    qr = client.get("/credentials/urn:uuid:nothing/qr.svg")
    health = client.get("/healthz")

    # Not found, but the policy is the route's: an <img> on another site is fine.
    assert qr.status_code == 404
    assert qr.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert health.headers["Cross-Origin-Resource-Policy"] == "same-origin"


# CORS


@pytest.mark.parametrize(
    "path",
    [
        "/log/checkpoint",
        "/log/key",
        "/log/entries?start=0&end=1",
        "/log/proof/0",
        "/log/consistency?from=1&to=1",
        "/units/ECTS",
        "/issuers",
        "/did.json",
        "/.well-known/did.json",
        "/issuers/centre-1/did.json",
        "/issuers/centre-1/jwks.json",
        "/achievements/none",
        "/status/none",
        "/credentials/urn:uuid:none",
    ],
)
def test_the_verifiers_documents_are_open_to_any_origin(
    client: FlaskClient, path: str
) -> None:
    answer = client.get(path, headers={"Origin": ORIGIN})

    # Found or not, the answer is readable, so a browser can show why.
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in answer.headers
    assert "ETag" in answer.headers["Access-Control-Expose-Headers"]
    assert answer.headers["Cross-Origin-Resource-Policy"] == "cross-origin"


@pytest.mark.parametrize("path", ["/credentials/verify", "/presentations/verify"])
def test_a_preflight_for_a_json_post_to_the_vc_api_is_answered(
    client: FlaskClient, path: str
) -> None:
    answer = client.options(
        path,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )

    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in answer.headers["Access-Control-Allow-Methods"].split(", ")
    assert "GET" not in answer.headers["Access-Control-Allow-Methods"].split(", ")
    assert answer.headers["Access-Control-Allow-Headers"] == "Content-Type"
    assert int(answer.headers["Access-Control-Max-Age"]) >= 600
    assert "Access-Control-Allow-Credentials" not in answer.headers


def test_the_cross_origin_post_itself_is_readable(client: FlaskClient) -> None:
    answer = client.post(
        "/credentials/verify",
        json={"verifiableCredential": {"nothing": "here"}},
        headers={"Origin": ORIGIN},
    )

    assert answer.status_code == 200
    assert answer.get_json()["verified"] is False
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Methods" not in answer.headers


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/credentials/award"),
        ("POST", "/credentials/issue"),
        ("POST", "/credentials/status"),
        ("GET", "/learners/learner-1/wallet"),
        ("GET", "/learners/learner-1/credits"),
        ("POST", "/achievements"),
        ("GET", "/reviews/pending"),
        ("POST", "/issuers"),
        ("GET", "/verify"),
        ("GET", "/healthz"),
    ],
)
def test_nothing_else_is_shared_with_other_origins(
    client: FlaskClient, method: str, path: str
) -> None:
    preflight = client.options(
        path,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    answer = client.open(path, method=method, headers={"Origin": ORIGIN})

    # The preflight does not allow the method (GET /issuers, the trust list, is
    # shared: a preflight for a POST to that URL is told GET only).
    allowed = preflight.headers.get("Access-Control-Allow-Methods", "")
    assert method not in allowed.split(", ")
    assert "Access-Control-Allow-Origin" not in answer.headers
