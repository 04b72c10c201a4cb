"""Running the Alembic migrations from code, without an alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

__all__ = ["current_revision", "downgrade", "head_revision", "upgrade"]

_HERE = Path(__file__).resolve().parent


def _alembic_config(database_url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(_HERE))
    # NOTE: passed as an attribute, not a main option: configparser would read the
    # '%' of URL-encoded options (such as a PostgreSQL search_path) as interpolation.
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(_alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(_alembic_config(database_url), revision)


def head_revision() -> str | None:
    """The newest revision this code knows."""
    config = _alembic_config("")
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The revision the database behind `connection` is at (None when empty)."""
    return MigrationContext.configure(connection).get_current_revision()
