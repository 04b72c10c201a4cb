"""External deposits keep the credential they were verified as, to verify it again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Empty for deposits made before it: a transfer then holds such a deposit
    # back, as one whose status cannot be checked (credits/sources.py).
    op.add_column("credit_deposits", sa.Column("credential", sa.JSON))


def downgrade() -> None:
    # NOTE: not batch mode, as in 0004 and 0007: SQLite 3.35 and later drop a
    # plain column in place.
    op.drop_column("credit_deposits", "credential")
