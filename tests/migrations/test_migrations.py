"""Every migration upgrades, downgrades and upgrades again, on each backend.

The log's own tables and append-only triggers come from revision 0001; later
revisions add tables of their own, so checks on them compare whole snapshots.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.exc import DatabaseError

import migrations
from api.config import Config
from api.services import open_services
from keys.database import normalise_url
from migrations.runner import current_revision, downgrade, head_revision, upgrade
from tests.conftest import NOW

LOG_TABLES = {"keys", "log_head", "log_entries", "log_nodes", "log_checkpoints"}
FROZEN = ("log_entries", "log_nodes", "log_checkpoints")

LOG_TRIGGERS = {
    "sqlite": {
        *(
            f"{table}_no_{action}"
            for table in FROZEN
            for action in ("update", "delete")
        ),
        "log_head_no_update",
        "log_head_no_delete",
    },
    "postgresql": {
        *(f"{table}_append_only" for table in (*FROZEN, "log_head")),
        *(f"{table}_no_truncate" for table in (*FROZEN, "log_head")),
    },
}

_PG_TRIGGERS = """
    SELECT t.tgname FROM pg_trigger t
    JOIN pg_class c ON c.oid = t.tgrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT t.tgisinternal AND n.nspname = current_schema()
"""
_PG_FUNCTIONS = """
    SELECT p.proname FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = current_schema() AND p.proname LIKE 'credbank%'
"""


def _revisions() -> list[str]:
    """Every revision, oldest first."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    walked = ScriptDirectory.from_config(config).walk_revisions()
    return [script.revision for script in reversed(list(walked))]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(normalise_url(database_url))
    yield engine
    engine.dispose()


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def _triggers(engine: Engine, backend: str) -> set[str]:
    query = {
        "sqlite": "SELECT name FROM sqlite_master WHERE type = 'trigger'",
        "postgresql": _PG_TRIGGERS,
    }[backend]
    with engine.connect() as connection:
        return set(connection.execute(text(query)).scalars())


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return current_revision(connection)


def _snapshot(engine: Engine, backend: str) -> dict[str, object]:
    """Tables with their columns, and triggers: what a round trip must restore."""
    inspector = inspect(engine)
    return {
        "columns": {
            table: [(c["name"], str(c["type"]), c["nullable"]) for c in columns]
            for table in inspector.get_table_names()
            for columns in [inspector.get_columns(table)]
        },
        "triggers": _triggers(engine, backend),
    }


def test_revisions_form_one_line_to_the_head() -> None:
    revisions = _revisions()

    assert revisions[0] == "0001"
    assert revisions[-1] == head_revision()
    assert len(set(revisions)) == len(revisions)


def test_upgrade_head_downgrade_base_upgrade_head(
    database_url: str, engine: Engine, backend: str
) -> None:
    upgrade(database_url)
    first = _snapshot(engine, backend)
    assert LOG_TABLES | {"alembic_version"} <= _tables(engine)
    assert _revision(engine) == head_revision()
    assert LOG_TRIGGERS[backend] <= _triggers(engine, backend)

    downgrade(database_url, "base")
    assert _tables(engine) == {"alembic_version"}
    assert _revision(engine) is None
    assert _triggers(engine, backend) == set()

    upgrade(database_url)
    assert _revision(engine) == head_revision()
    assert _snapshot(engine, backend) == first


@pytest.mark.parametrize("revision", _revisions())
def test_each_revision_downgrades_and_upgrades_again(
    database_url: str, engine: Engine, backend: str, revision: str
) -> None:
    upgrade(database_url, revision)
    after_upgrade = _snapshot(engine, backend)

    downgrade(database_url, "-1")
    below = _revision(engine)
    upgrade(database_url, revision)

    assert below != revision
    assert _revision(engine) == revision
    assert _snapshot(engine, backend) == after_upgrade


def test_revision_0001_creates_the_log_and_its_triggers(
    database_url: str, engine: Engine, backend: str
) -> None:
    upgrade(database_url, "0001")

    assert _tables(engine) == LOG_TABLES | {"alembic_version"}
    assert _triggers(engine, backend) == LOG_TRIGGERS[backend]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_downgrade_drops_the_postgresql_functions(
    database_url: str, engine: Engine
) -> None:
    upgrade(database_url)
    with engine.connect() as connection:
        created = set(connection.execute(text(_PG_FUNCTIONS)).scalars())

    downgrade(database_url, "base")
    with engine.connect() as connection:
        left = set(connection.execute(text(_PG_FUNCTIONS)).scalars())

    assert created >= {"credbank_refuse_change", "credbank_head_only_grows"}
    assert left == set()


def test_downgrade_works_with_a_log_in_the_tables(
    config: Config, engine: Engine
) -> None:
    upgrade(config.database_url)
    open_services(config, now=NOW).close()

    downgrade(config.database_url, "base")

    assert _tables(engine) == {"alembic_version"}


def test_upgrade_is_idempotent(database_url: str, engine: Engine) -> None:
    upgrade(database_url)
    upgrade(database_url)

    assert _revision(engine) == head_revision()


# The triggers refuse what they exist to refuse.

_REFUSED = [
    "UPDATE log_entries SET data = data",
    "DELETE FROM log_entries",
    "UPDATE log_nodes SET hash = hash",
    "DELETE FROM log_nodes",
    "UPDATE log_checkpoints SET note = 'forged'",
    "DELETE FROM log_checkpoints",
    "DELETE FROM log_head",
    "UPDATE log_head SET tree_size = tree_size - 1",
    "UPDATE log_head SET origin = 'elsewhere/log'",
    # Same size, another root: a fork of the head.
    "UPDATE log_head SET root_hash = "
    "(SELECT root_hash FROM log_checkpoints WHERE tree_size = 0)",
]
_REFUSED_POSTGRESQL = [f"TRUNCATE {table}" for table in (*FROZEN, "log_head")]


@pytest.fixture
def logged(config: Config) -> Config:
    """A migrated database holding the first start's entry and checkpoints."""
    upgrade(config.database_url)
    open_services(config, now=NOW).close()
    return config


def _assert_refused(engine: Engine, statement: str) -> None:
    with engine.connect() as connection:
        before = connection.execute(text("SELECT count(*) FROM log_entries")).scalar()

    with (
        pytest.raises(DatabaseError, match=r"append-only|may only grow|may not be"),
        engine.begin() as connection,
    ):
        connection.execute(text(statement))

    with engine.connect() as connection:
        after = connection.execute(text("SELECT count(*) FROM log_entries")).scalar()
    assert before == after == 1


@pytest.mark.parametrize("statement", _REFUSED)
def test_triggers_refuse_changes_to_the_log(
    logged: Config, engine: Engine, statement: str
) -> None:
    _assert_refused(engine, statement)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("statement", _REFUSED_POSTGRESQL)
def test_triggers_refuse_truncate_on_postgresql(
    logged: Config, engine: Engine, statement: str
) -> None:
    _assert_refused(engine, statement)


def test_head_may_grow(logged: Config, engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE log_head SET tree_size = tree_size + 1"))

    with engine.connect() as connection:
        size = connection.execute(text("SELECT tree_size FROM log_head")).scalar()
    assert size == 2
