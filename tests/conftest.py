"""Shared fixtures: a database on each backend, config, services, app, client.

Every test that takes `database_url` (directly or through `services`, `app`...) runs
once on SQLite and once on PostgreSQL. The PostgreSQL run needs
CREDBANK_TEST_POSTGRES_URL (CI sets it); each test gets a schema of its own.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api.app import create_app
from api.config import Config
from api.services import Services, open_services
from keys.database import normalise_url
from migrations.runner import upgrade

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
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL run needs CREDBANK_TEST_POSTGRES_URL")
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
