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
    with op.batch_alter_table("issuers") as batch:
        batch.add_column(
            sa.Column(
                "learner_display",
                sa.String(16),
                nullable=False,
                server_default="masked",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("issuers") as batch:
        batch.drop_column("learner_display")
