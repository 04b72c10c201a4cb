"""Alembic migrations; `credbank db upgrade` runs them (see `migrations.runner`)."""
