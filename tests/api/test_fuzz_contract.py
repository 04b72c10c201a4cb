"""Schemathesis against the app: every operation of /openapi.json, fuzzed.

The app runs in-process (WSGI) over the demo database, with a token of the role
each operation's security requirement names. In about half the cases, every path
parameter, query parameter and body field that names a demo resource takes the id
of a real one, so the success answers of routes like `/credentials/<id>` are
fuzzed too, not only their 404s. For every request: no 5xx, the status is
documented, the content type is documented for that status, and the body and
headers match the documented schemas. Bounded and derandomised (a fixed seed), so
a run takes about a minute.

A shorter run then sends its requests to `credbank serve` (gunicorn) over a SQLite
file, so the contract also holds through the production server.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
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
from issuers.issuance import IssuedCredential
from issuers.models import Reviewer
from issuers.registry import issuer_key_owner
from issuers.status_lists import StatusList
from keys.store import StoredKey
from migrations.runner import upgrade
from tests.api.conftest import CREDBANK
from tests.api.test_serve import _free_port, _wait_for
from tests.conftest import (
    NOW,
    TEST_MASTER_KEY,
    add_reviewer,
    application,
    apply,
    approve,
    award,
    award_request,
    make_token,
    postgres_schema,
    submit,
    tree_size,
)

# Per operation: how many generated cases (Hypothesis' max_examples).
MAX_EXAMPLES = 12
# Against the running server: fewer, and no coverage phase (its cases, a few
# dozen per operation, are sent in-process above).
SERVED_MAX_EXAMPLES = 3

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

# Where the demo's ids go, by the kind of id (named as the path parameters that
# take them): path parameters by their own name, and these query parameters and
# top-level fields of JSON bodies.
QUERY_IDS = {"credential": "credential_id"}
BODY_IDS = {
    "achievement": "achievement_id",
    "credentialId": "credential_id",
    "learner": "learner_id",
    "school": "school_id",
    "ruleSet": "rule_set_id",
    "version": "version",
}
# Operations that change what the others read (suspend or erase it, retire it,
# revoke it, replace its key): given real ids, they act on spare resources made
# for them, so the demo the other operations see stays as it was.
ON_SPARES = {
    "POST /issuers/{slug}/suspend",
    "POST /issuers/{slug}/reinstate",
    "POST /issuers/{slug}/keys",
    "POST /issuers/{slug}/keys/{key_id}/compromised",
    "POST /achievements/{achievement_id}/retire",
    "POST /learners/{learner_id}/erasure",
    "POST /credentials/status",
}


@dataclass(frozen=True)
class Demo:
    """The demo, in-process (`app`) or served (`base_url`); a token per role; and
    the ids it holds by kind, with the spare ones for ON_SPARES."""

    tokens: Mapping[str, str]
    ids: Mapping[str, Sequence[Any]]
    spares: Mapping[str, Sequence[Any]]
    app: Flask | None = None
    base_url: str | None = None

    def authorize(self, case: Any) -> None:
        """Give the case a bearer token of the first role its operation's security
        names. On the case, not added when it is sent, so that schemathesis judges
        what is sent: a case generated without the header is not negative once
        it has one."""
        for requirement in case.operation.definition.raw.get("security", []):
            roles = requirement.get(BEARER_SCHEME) or []
            if roles:
                token = f"Bearer {self.tokens[roles[0]]}"
                case.headers = {**(case.headers or {}), "Authorization": token}
                return

    def use_real_ids(self, case: Any) -> None:
        """In about half the cases, put real ids where the case names resources.

        The choice and the ids follow from the case's own content, so a case is
        sent the same way each time Hypothesis replays it. Schemathesis checks
        the edited parts again, so a case that was negative only in a path
        parameter is then judged as the positive case it has become.
        """
        ids = self.ids
        if case.operation.label in ON_SPARES:
            ids = {**ids, **self.spares}
        chance = random.Random(_fingerprint(case))
        if chance.random() < 0.5:
            return
        path = case.path_parameters or {}
        if any(name in ids for name in path):
            case.path_parameters = {
                name: chance.choice(ids[name]) if name in ids else value
                for name, value in path.items()
            }
        query = dict(case.query or {})
        for name, kind in QUERY_IDS.items():
            if isinstance(query.get(name), list):  # repeated: each one real
                query[name] = [chance.choice(ids[kind]) for _ in query[name]]
            elif name in query:
                query[name] = chance.choice(ids[kind])
        if query != (case.query or {}):
            case.query = query
        if isinstance(case.body, dict):
            body = dict(case.body)
            for name, kind in BODY_IDS.items():
                real = chance.choice(ids[kind])
                # Same type only: a wrong type is a negative case worth keeping.
                if type(body.get(name)) is type(real):
                    body[name] = real
            if body != case.body:
                case.body = body

    def call_and_validate(self, case: Any) -> None:
        checks = CHECKS
        if case.operation.label in ROW_BY_ROW:
            checks = [c for c in CHECKS if c is not negative_data_rejection]
        self.use_real_ids(case)
        self.authorize(case)
        if self.app is not None:
            case.call_and_validate(app=self.app, checks=checks)
        else:
            case.call_and_validate(base_url=self.base_url, checks=checks)


def _fingerprint(case: Any) -> str:
    """The case's generated content, the same text each time it is replayed."""
    parts = [case.operation.label, case.path_parameters, case.query, case.headers]
    return json.dumps([*parts, case.body], default=_stable)


def _stable(value: Any) -> str:
    # Bytes by content; any other object (such as schemathesis' "no body"
    # marker, whose repr holds an address) by its type.
    return value.hex() if isinstance(value, bytes) else type(value).__name__


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


# One parameter, so that each test's id names its operation and the server.
@pytest.fixture(scope="module", params=["gunicorn"])
def served_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo in a SQLite file, served by `credbank serve` (gunicorn)."""
    folder = tmp_path_factory.mktemp("served")
    config = _config(folder / "data", f"sqlite:///{folder / 'credbank.sqlite3'}")
    upgrade(config.database_url)
    services = open_services(config, now=NOW)
    try:
        seeded = _seed(create_app(config, services=services), services)
    finally:
        services.close()
    env = {
        **os.environ,
        "CREDBANK_DATA_DIR": str(config.data_dir),
        "CREDBANK_DATABASE_URL": config.database_url,
        "CREDBANK_BASE_URL": config.base_url,
        "CREDBANK_LOG_ORIGIN": config.log_origin,
        "CREDBANK_MASTER_KEY": TEST_MASTER_KEY,
        "CREDBANK_RATE_LIMIT": "off",
        "CREDBANK_WORKERS": "2",
    }
    port = _free_port()
    # The server's output goes to a file: a pipe no one reads could fill and
    # stop it.
    with (folder / "serve.log").open("w") as log:
        process = subprocess.Popen(
            [str(CREDBANK), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_for(process, f"{base_url}/healthz")
            yield dataclasses.replace(seeded, app=None, base_url=base_url)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _seed(app: Flask, services: Services) -> Demo:
    """The demo, then spares for ON_SPARES: an accredited issuer (centre-9), an
    achievement of the demo issuer and a credential of theirs to another
    learner. Over HTTP where the app offers it."""
    seed = seed_demo(services, now=NOW)
    assert seed is not None
    client = app.test_client()
    issuer = make_token(services, ISSUER, seed.issuer_slug)
    reviewers = [add_reviewer(services) for _ in range(2)]
    spare_issuer = apply(client, application(9))
    approve(client, f"/issuers/{spare_issuer.subject}", reviewers)
    spare_achievement = submit(client, issuer)
    approve(client, f"/achievements/{spare_achievement}", reviewers)
    spare_credential = award(client, issuer, award_request(seed.achievement_ids[0]))
    claim = client.post(
        f"/learners/{seed.learner_id}/claim-links",
        headers={"Authorization": f"Bearer {seed.learner_token}"},
    )
    assert claim.status_code == 201, claim.get_json()
    with services.database.transaction() as session:
        reviewer = session.scalars(select(Reviewer.id)).first()
        lists = list(
            session.scalars(
                select(StatusList.id).where(StatusList.issuer_slug == seed.issuer_slug)
            )
        )
        spare_keys = list(
            session.scalars(
                select(StoredKey.id).where(
                    StoredKey.owner == issuer_key_owner(str(spare_issuer.subject))
                )
            )
        )
        spare_learner = session.scalar(
            select(IssuedCredential.learner_id).where(
                IssuedCredential.id == spare_credential["id"]
            )
        )
    assert lists and spare_keys and spare_learner
    tokens = {
        ADMIN: seed.admin_token,
        ISSUER: issuer.token,
        REVIEWER: make_token(services, REVIEWER, reviewer).token,
        LEARNER: seed.learner_token,
        SCHOOL: seed.school_token,
    }
    size = tree_size(services)
    ids: dict[str, list[Any]] = {
        "slug": [seed.issuer_slug],
        "achievement_id": list(seed.achievement_ids),
        "credential_id": list(seed.credential_ids),
        "learner_id": [seed.learner_id],
        "school_id": [seed.school_id],
        "rule_set_id": ["beng-logistics-demo"],
        "version": [1],
        "index": [0, size // 2, size - 1],
        "code": ["ECTS", "CN_XF"],
        "list_id": lists,
        "secret": [claim.get_json()["url"].rsplit("/", 1)[1]],
    }
    spares: dict[str, list[Any]] = {
        "slug": [str(spare_issuer.subject)],
        "key_id": spare_keys,
        "achievement_id": [spare_achievement],
        "credential_id": [spare_credential["id"]],
        "learner_id": [spare_learner],
    }
    return Demo(tokens, ids, spares, app=app)


def _schema(max_examples: int, *, coverage: bool) -> Any:
    return schemathesis.openapi.from_dict(
        _DOCUMENT,
        config=schemathesis.Config.from_dict(
            {
                "seed": 20261201,
                "generation": {"deterministic": True, "max-examples": max_examples},
                "phases": {
                    "coverage": {"enabled": coverage},
                    "stateful": {"enabled": False},
                },
            }
        ),
    )


_DOCUMENT = _openapi_document()
schema = _schema(MAX_EXAMPLES, coverage=True)
served_schema = _schema(SERVED_MAX_EXAMPLES, coverage=False)


@served_schema.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure but gunicorn's own 414 for a request line longer than
    its limit (8190 bytes, api/serve.py): that request never reaches the app,
    whose contract this is. An app's 414 would still fail."""
    return not (
        response.status_code == 414
        and b"Request Line is too large" in (response.content or b"")
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
    demo.call_and_validate(case)


@served_schema.parametrize()
@settings(
    max_examples=SERVED_MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_running_server_keeps_the_contract(case: Any, served_demo: Demo) -> None:
    served_demo.call_and_validate(case)
