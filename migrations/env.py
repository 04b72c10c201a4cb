"""Alembic environment: online migrations over credbank's own engine setup."""

from alembic import context

from keys.database import Base, Database

config = context.config
database = Database(config.attributes["database_url"])
try:
    with database.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata)
        with context.begin_transaction():
            context.run_migrations()
finally:
    database.dispose()
