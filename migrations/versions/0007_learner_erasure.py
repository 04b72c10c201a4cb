"""Learner erasure: the reason code and the log index of a learner's erasure.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Both stay empty until a learner is erased; `erased_at` exists since 0003.
    op.add_column("learners", sa.Column("erasure_reason", sa.String(32)))
    op.add_column("learners", sa.Column("erasure_log_index", sa.BigInteger))


def downgrade() -> None:
    # NOTE: not batch mode, as in 0004: SQLite 3.35 and later drop a plain column
    # in place, without copying the table.
    op.drop_column("learners", "erasure_log_index")
    op.drop_column("learners", "erasure_reason")
