"""Shared fixtures: a database on each backend, config, services, app, client, and
one fixture per registry role (admin, reviewers, issuers, school, learner).

Every test that takes `database_url` (directly or through `services`, `app`...) runs
once on SQLite and once on PostgreSQL. The PostgreSQL run needs
CREDBANK_TEST_POSTGRES_URL (.ci/run sets it; without it these runs skip, and fail
under CI); each test gets a schema of its own.
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api.app import create_app
from api.auth import ADMIN, LEARNER, REVIEWER, SCHOOL, create_token
from api.config import Config
from api.services import Services, open_services
from credits.schools import register_school
from issuers.learners import Learner
from issuers.models import Reviewer
from keys.database import normalise_url
from ledger import parse_entry
from migrations.runner import upgrade
from tests.ci import skip_or_fail

POSTGRES_URL = os.environ.get("CREDBANK_TEST_POSTGRES_URL")
VECTORS = Path(__file__).parent / "vectors"

# A fixed master key for tests (never used outside them).
TEST_MASTER_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def postgres_schema_url(schema: str) -> str:
    """CREDBANK_TEST_POSTGRES_URL with its search_path set to `schema`."""
    assert POSTGRES_URL
    url = normalise_url(POSTGRES_URL).update_query_dict(
        {"options": f"-csearch_path={schema}"}
    )
    return url.render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'credbank.sqlite3'}"
        return
    with postgres_schema() as url:
        yield url


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema for the duration; skips without a server URL
    (fails under CI, where the PostgreSQL runs must happen)."""
    if not POSTGRES_URL:
        skip_or_fail("PostgreSQL run needs CREDBANK_TEST_POSTGRES_URL")
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield postgres_schema_url(schema)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def backend(database_url: str) -> str:
    """'sqlite' or 'postgresql'."""
    return make_url(database_url).get_backend_name()


@pytest.fixture
def config(database_url: str, tmp_path: Path) -> Config:
    return Config(
        data_dir=tmp_path / "data",
        database_url=database_url,
        base_url="http://credbank.test",
        log_origin="credbank.test/log",
        master_key=TEST_MASTER_KEY,
    )


@pytest.fixture
def env(config: Config) -> dict[str, str]:
    """Environment variables that make the command line use `config`."""
    return {
        **os.environ,
        "CREDBANK_DATA_DIR": str(config.data_dir),
        "CREDBANK_DATABASE_URL": config.database_url,
        "CREDBANK_BASE_URL": config.base_url,
        "CREDBANK_LOG_ORIGIN": config.log_origin,
        "CREDBANK_MASTER_KEY": TEST_MASTER_KEY,
    }


@pytest.fixture
def migrated(config: Config) -> Config:
    """`config`, with its database migrated to the newest revision."""
    upgrade(config.database_url)
    return config


@pytest.fixture
def services(migrated: Config) -> Iterator[Services]:
    opened = open_services(migrated, now=NOW)
    yield opened
    opened.close()


@pytest.fixture
def app(migrated: Config, services: Services) -> Flask:
    flask_app = create_app(migrated, services=services)
    flask_app.config["TESTING"] = True
    return flask_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def vector() -> Any:
    """Load a vector file from tests/vectors/ (JSON parsed, other files as text)."""

    def load(name: str) -> Any:
        path = VECTORS / name
        if path.suffix in {".json", ".jsonld"}:
            return json.loads(path.read_text())
        return path.read_text()

    return load


# The registry's roles (issue 3): one fixture per role, each a `Caller`.

# Submissions refuse review dates that are not in the future (by the wall clock, which
# the routes read); this one stays ahead of it.
FUTURE_REVIEW_DATE = "2099-06-30"


@dataclass(frozen=True)
class Caller:
    """A bearer token and what it is bound to: a slug, a reviewer id, or nothing."""

    token: str
    subject: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def application(n: int, **overrides: Any) -> dict[str, Any]:
    """A valid application of organisation number `n` (slug `centre-<n>`).

    Contact details differ per organisation, so leak checks can search for them.
    """
    body: dict[str, Any] = {
        "name": {"zh": f"示范培训中心{n}号", "en": f"Demo Training Centre {n}"},
        "legalId": f"91110000MA{n:07d}X",
        "kind": "training_centre",
        "website": f"https://centre{n}.example.cn",
        "contact": {
            "name": f"联络员甲{n}号",
            "email": f"liaison.{n}@mail.example.com",
            "phone": f"+86 10 5550 {n:04d}",
        },
        "slug": f"centre-{n}",
    }
    body.update(overrides)
    return body


def achievement_definition(**overrides: Any) -> dict[str, Any]:
    """A valid achievement: 3 ECTS for 80 hours at EQF level 5."""
    body: dict[str, Any] = {
        "name": {"zh": "智能仓储管理", "en": "Smart Warehouse Management"},
        "description": {
            "zh": "规划并运行自动化仓库。",
            "en": "Plan and run an automated warehouse.",
        },
        "criteria": {"en": "Pass the practical assessment in a training warehouse."},
        "achievementType": "MicroCredential",
        "credits": 3,
        "unit": "ECTS",
        "eqfLevel": 5,
        "fieldOfStudy": "Logistics",
        "learningHours": 80,
        "alignments": [
            {
                "targetName": "Warehouse operations",
                "targetUrl": "https://competencies.example.org/wms",
            }
        ],
        "validityMonths": 36,
        "nextReviewDate": FUTURE_REVIEW_DATE,
    }
    body.update(overrides)
    return body


def make_token(services: Services, role: str, subject: str | None) -> Caller:
    """A token made directly in the database, as `credbank token create` does."""
    with services.database.transaction(write=True) as session:
        _, secret = create_token(session, role=role, subject=subject, now=NOW)
    return Caller(secret, subject)


def add_reviewer(services: Services, *, affiliations: Sequence[str] = ()) -> Caller:
    """A committee member (unaffiliated unless told) with their reviewer token."""
    reviewer_id = "rv-" + secrets.token_hex(4)
    with services.database.transaction(write=True) as session:
        session.add(
            Reviewer(
                id=reviewer_id,
                name=f"Reviewer {reviewer_id}",
                affiliations=list(affiliations),
                created_at=NOW,
            )
        )
    return make_token(services, REVIEWER, reviewer_id)


def apply(client: FlaskClient, body: dict[str, Any]) -> Caller:
    """Apply over HTTP; the applicant's issuer token and slug."""
    answer = client.post("/issuers", json=body)
    assert answer.status_code == 201, answer.get_json()
    return Caller(answer.get_json()["token"], answer.get_json()["slug"])


def approve(client: FlaskClient, path: str, reviewers: Sequence[Caller]) -> Any:
    """Each reviewer approves `path` (an application or an achievement)."""
    answer = None
    for reviewer in reviewers:
        answer = client.post(
            f"{path}/reviews", json={"decision": "approve"}, headers=reviewer.headers
        )
        assert answer.status_code == 200, answer.get_json()
    assert answer is not None
    return answer.get_json()


def submit(client: FlaskClient, issuer: Caller, **overrides: Any) -> str:
    """Submit an achievement as `issuer`; its id."""
    answer = client.post(
        "/achievements",
        json=achievement_definition(**overrides),
        headers=issuer.headers,
    )
    assert answer.status_code == 201, answer.get_json()
    achievement_id: str = answer.get_json()["id"]
    return achievement_id


def tree_size(services: Services) -> int:
    with services.database.transaction() as session:
        return services.log.head(session).size


def logged(services: Services, start: int = 0) -> list[dict[str, Any]]:
    """The log's entries from index `start` on, parsed."""
    with services.database.transaction() as session:
        size = services.log.head(session).size
        rows = services.log.read_entries(session, start, size) if size > start else []
        return [parse_entry(row.data) for row in rows]


@pytest.fixture
def admin(services: Services) -> Caller:
    return make_token(services, ADMIN, None)


@pytest.fixture
def reviewers(services: Services) -> list[Caller]:
    """Three unaffiliated reviewers: a quorum of two, and one to spare."""
    return [add_reviewer(services) for _ in range(3)]


@pytest.fixture
def reviewer(reviewers: list[Caller]) -> Caller:
    return reviewers[0]


@pytest.fixture
def issuer(client: FlaskClient, reviewers: list[Caller]) -> Caller:
    """An accredited issuer (centre-1) with its token."""
    caller = apply(client, application(1))
    assert approve(client, f"/issuers/{caller.subject}", reviewers[:2]) == {
        "slug": caller.subject,
        "status": "accredited",
    }
    return caller


@pytest.fixture
def other_issuer(client: FlaskClient, reviewers: list[Caller]) -> Caller:
    """A second accredited issuer (centre-2), for another issuer's resources."""
    caller = apply(client, application(2))
    approve(client, f"/issuers/{caller.subject}", reviewers[:2])
    return caller


@pytest.fixture
def applicant(client: FlaskClient) -> Caller:
    """An organisation whose application (centre-3) waits for reviews."""
    return apply(client, application(3))


SCHOOL_DID = "did:web:school-1.example.edu"
LEARNER_1_DID = "did:example:learner"


@pytest.fixture
def school(services: Services) -> Caller:
    """A registered partner school (school-1) and its token."""
    with services.database.transaction(write=True) as session:
        register_school(
            session,
            services.log,
            school_id="school-1",
            did=SCHOOL_DID,
            names={"zh": "示范学院", "en": "Partner College"},
            now=NOW,
        )
    return make_token(services, SCHOOL, "school-1")


@pytest.fixture
def learner(services: Services) -> Caller:
    """A learner with no credentials yet (learner-1, known by a DID) and their
    token."""
    with services.database.transaction(write=True) as session:
        session.add(
            Learner(
                id="learner-1",
                did=LEARNER_1_DID,
                email_lookup=None,
                sealed_profile=None,
                created_at=NOW,
                erased_at=None,
            )
        )
    return make_token(services, LEARNER, "learner-1")


@pytest.fixture
def submitted_achievement(client: FlaskClient, issuer: Caller) -> str:
    """An achievement of `issuer` waiting for reviews."""
    return submit(client, issuer)


@pytest.fixture
def approved_achievement(
    client: FlaskClient, issuer: Caller, reviewers: list[Caller]
) -> str:
    """An approved achievement of `issuer`."""
    achievement_id = submit(client, issuer)
    approve(client, f"/achievements/{achievement_id}", reviewers[:2])
    return achievement_id


# Issuance (issue 4): award requests, the issuer's published keys, and counters of
# what an award may use up.

LEARNER_EMAIL = "Wang.Fang.Lin@Mail.Example.com"
LEARNER_NAME = "王芳琳"


def award_request(achievement: str, **overrides: Any) -> dict[str, Any]:
    """A valid award of `achievement` to a learner known by e-mail and name."""
    body: dict[str, Any] = {
        "achievement": achievement,
        "learner": {"email": LEARNER_EMAIL, "name": LEARNER_NAME},
    }
    body.update(overrides)
    return body


def award(client: FlaskClient, issuer: Caller, body: dict[str, Any]) -> Any:
    """POST /credentials/award as `issuer`; the answer of a new credential."""
    answer = client.post("/credentials/award", json=body, headers=issuer.headers)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def issuer_keys(client: FlaskClient, slug: str) -> dict[str, tuple[str, bytes]]:
    """Verification method id -> (algorithm, raw public key), read from the issuer's
    published DID document: Multikeys decoded from `publicKeyMultibase`, and each
    JsonWebKey resolved to its Multikey twin (checked to be the same key)."""
    import base64

    from keys.multikey import decode_multikey

    answer = client.get(f"/issuers/{slug}/did.json")
    assert answer.status_code == 200
    methods = answer.get_json()["verificationMethod"]
    keys = {
        m["id"]: decode_multikey(m["publicKeyMultibase"])
        for m in methods
        if m["type"] == "Multikey"
    }
    for method in methods:
        if method["type"] == "JsonWebKey":
            algorithm, raw = keys[method["id"].removesuffix("-jwk")]
            jwk = method["publicKeyJwk"]
            if jwk["kty"] == "OKP":
                padded = jwk["x"] + "=" * (-len(jwk["x"]) % 4)
                assert base64.urlsafe_b64decode(padded) == raw
            keys[method["id"]] = (algorithm, raw)
    return keys


def allocated_indexes(services: Services) -> int:
    """Status list indexes handed out so far, over every issuer and list."""
    from sqlalchemy import select

    from issuers.status_lists import StatusList

    with services.database.transaction() as session:
        counts = session.scalars(select(StatusList.allocated_count))
        return sum(counts)


def checkpoints_signed(services: Services) -> int:
    from sqlalchemy import func, select

    from ledger.models import LogCheckpoint

    with services.database.transaction() as session:
        return session.scalar(select(func.count()).select_from(LogCheckpoint)) or 0


def rows_in(services: Services, table: str) -> int:
    """How many rows `table` holds (learners, data_keys, credentials...)."""
    with services.database.transaction() as session:
        return session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


@pytest.fixture
def other_achievement(
    client: FlaskClient, other_issuer: Caller, reviewers: list[Caller]
) -> str:
    """An approved achievement of `other_issuer`."""
    achievement_id = submit(client, other_issuer)
    approve(client, f"/achievements/{achievement_id}", reviewers[:2])
    return achievement_id


@pytest.fixture
def issued(client: FlaskClient, issuer: Caller, approved_achievement: str) -> Any:
    """A credential awarded over HTTP in all three forms, with a score."""
    return award(
        client,
        issuer,
        award_request(
            approved_achievement,
            score=87.5,
            formats=["eddsa-rdfc-2022", "eddsa-jcs-2022", "vc+jwt"],
        ),
    )
