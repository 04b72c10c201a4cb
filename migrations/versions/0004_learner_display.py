"""Issuers choose how the verification page shows learners' names.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing issuers get the default of issue 5: initials only ("masked").
    op.add_column(
        "issuers",
        sa.Column(
            "learner_display", sa.String(16), nullable=False, server_default="masked"
        ),
    )


def downgrade() -> None:
    # NOTE: not batch mode: on SQLite that copies the table, and dropping the old
    # one breaks the foreign keys of issuer_events and achievements. SQLite 3.35
    # and later drop a plain column in place.
    op.drop_column("issuers", "learner_display")
