"""Revision 0002 creates exactly the registry's tables, as the models declare them.

tests/migrations round-trips every revision; this adds what is particular to 0002:
its tables match `issuers.models` and `api.auth`, and it downgrades with rows in them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, inspect

from api.auth import ApiToken
from api.config import Config
from api.services import Services
from issuers.models import Achievement, Issuer, IssuerEvent, Review, Reviewer
from keys.database import normalise_url
from migrations.runner import downgrade, upgrade
from tests.conftest import Caller

MODELS = [ApiToken, Issuer, IssuerEvent, Reviewer, Review, Achievement]
REGISTRY_TABLES = {model.__tablename__ for model in MODELS}


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(normalise_url(database_url))
    yield engine
    engine.dispose()


def test_0002_adds_the_registry_tables_and_0001_takes_them_away(
    database_url: str, engine: Engine
) -> None:
    upgrade(database_url, "0001")
    before = set(inspect(engine).get_table_names())
    upgrade(database_url, "0002")
    after = set(inspect(engine).get_table_names())
    downgrade(database_url, "0001")

    assert after - before == REGISTRY_TABLES
    assert set(inspect(engine).get_table_names()) == before


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__tablename__)
def test_the_migrated_columns_match_the_model(
    database_url: str, engine: Engine, model: type
) -> None:
    # The models describe the newest schema: later revisions add columns (0004).
    upgrade(database_url)
    table = model.__table__  # type: ignore[attr-defined]

    columns = inspect(engine).get_columns(table.name)

    assert {(c["name"], c["nullable"]) for c in columns} == {
        (c.name, c.nullable) for c in table.columns
    }


def test_one_vote_per_reviewer_is_enforced_by_the_database(
    database_url: str, engine: Engine
) -> None:
    upgrade(database_url, "0002")

    unique = inspect(engine).get_unique_constraints("reviews")

    assert [sorted(u["column_names"]) for u in unique] == [
        ["reviewer_id", "subject_id", "subject_kind"]
    ]


def test_0002_downgrades_with_a_registry_in_its_tables(
    migrated: Config,
    services: Services,
    engine: Engine,
    approved_achievement: str,
    applicant: Caller,
) -> None:
    services.close()

    downgrade(migrated.database_url, "0001")

    assert not REGISTRY_TABLES & set(inspect(engine).get_table_names())
