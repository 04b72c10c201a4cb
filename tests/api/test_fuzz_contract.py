"""Schemathesis against the app: every operation of /openapi.json, fuzzed.

The app runs in-process (WSGI) over the demo database, with a token of the role
each operation's security requirement names. For every generated request: no 5xx,
the status is documented, the content type is documented for that status, and
the body and headers match the documented schemas. Bounded and derandomised, so
a run takes a minute or two and fails the same way twice.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from api.apidoc import BEARER_SCHEME
from api.app import create_app
from api.auth import ADMIN, ISSUER, LEARNER, REVIEWER, SCHOOL
from api.config import Config
from api.demo import seed_demo
from api.services import Services, open_services
from issuers.models import Reviewer
from migrations.runner import upgrade
from tests.conftest import NOW, TEST_MASTER_KEY, make_token, postgres_schema

# Per operation: how many generated cases (Hypothesis' max_examples).
MAX_EXAMPLES = 12

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

# A batch answers every row, each with its credential or its error (README,
# Credentials): an invalid award is refused in its row of a 200 answer.
ROW_BY_ROW = {"POST /credentials/batch"}


@dataclass(frozen=True)
class Demo:
    """The app over the demo database, a token per role, and the ids the demo
    made, by the name of the path parameter that takes them."""

    app: Flask
    tokens: Mapping[str, str]
    ids: Mapping[str, list[Any]]

    def headers(self, operation: Any) -> dict[str, str]:
        """A bearer token of the first role the operation's security names."""
        for requirement in operation.definition.raw.get("security", []):
            roles = requirement.get(BEARER_SCHEME) or []
            if roles:
                return {"Authorization": f"Bearer {self.tokens[roles[0]]}"}
        return {}


def _config(data_dir: Path, database_url: str) -> Config:
    return Config(
        data_dir=data_dir,
        database_url=database_url,
        base_url="http://credbank.test",
        log_origin="credbank.test/log",
        master_key=TEST_MASTER_KEY,
        # Hundreds of requests from one address: the public endpoints' rate
        # limit (tests/api/test_limits.py) would answer most of them 429.
        rate_limit=None,
    )


def _openapi_document() -> dict[str, Any]:
    """The app's OpenAPI document, read from an app over a throwaway SQLite file
    (the schema must be known when the tests are collected)."""
    with tempfile.TemporaryDirectory() as folder:
        config = _config(Path(folder), f"sqlite:///{folder}/openapi.sqlite3")
        upgrade(config.database_url)
        services = open_services(config, now=NOW)
        try:
            document: dict[str, Any] = (
                create_app(config, services=services)
                .test_client()
                .get("/openapi.json")
                .get_json()
            )
        finally:
            services.close()
    return document


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Demo]:
    """The demo, seeded once per backend for the whole module."""
    with ExitStack() as stack:
        folder = tmp_path_factory.mktemp("fuzz")
        if request.param == "sqlite":
            url = f"sqlite:///{folder / 'credbank.sqlite3'}"
        else:
            url = stack.enter_context(postgres_schema())
        config = _config(folder / "data", url)
        upgrade(config.database_url)
        services = open_services(config, now=NOW)
        stack.callback(services.close)
        app = create_app(config, services=services)
        app.config["TESTING"] = True
        yield _seed(app, services)


def _seed(app: Flask, services: Services) -> Demo:
    seed = seed_demo(services, now=NOW)
    assert seed is not None
    with services.database.transaction() as session:
        reviewer = session.scalars(select(Reviewer.id)).first()
    tokens = {
        ADMIN: seed.admin_token,
        ISSUER: make_token(services, ISSUER, seed.issuer_slug).token,
        REVIEWER: make_token(services, REVIEWER, reviewer).token,
        LEARNER: seed.learner_token,
        SCHOOL: seed.school_token,
    }
    ids: dict[str, list[Any]] = {
        "slug": [seed.issuer_slug],
        "achievement_id": list(seed.achievement_ids),
        "credential_id": list(seed.credential_ids),
        "learner_id": [seed.learner_id],
        "school_id": [seed.school_id],
        "rule_set_id": ["beng-logistics-demo"],
        "version": [1],
        "index": [0, 1],
        "code": ["ECTS", "CN_XF"],
    }
    return Demo(app, tokens, ids)


schema = schemathesis.openapi.from_dict(
    _openapi_document(),
    config=schemathesis.Config.from_dict(
        {
            "seed": 20261201,
            "generation": {"deterministic": True, "max-examples": MAX_EXAMPLES},
            "phases": {"stateful": {"enabled": False}},
        }
    ),
)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_keeps_its_contract(case: Any, demo: Demo) -> None:
    checks = CHECKS
    if case.operation.label in ROW_BY_ROW:
        checks = [c for c in CHECKS if c is not negative_data_rejection]
    case.call_and_validate(
        app=demo.app, headers=demo.headers(case.operation), checks=checks
    )
