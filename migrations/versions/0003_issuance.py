"""Issuance: learners and their data keys, status lists, issued credentials.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_keys",
        sa.Column("owner", sa.String(128), primary_key=True),
        sa.Column("sealed_key", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "learners",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("did", sa.String(500), index=True),
        sa.Column("email_lookup", sa.LargeBinary(32), index=True),
        sa.Column("sealed_profile", sa.LargeBinary),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "status_lists",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("issuer_slug", sa.String(64), nullable=False, index=True),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("length", sa.Integer, nullable=False),
        sa.Column("bits", sa.LargeBinary, nullable=False),
        sa.Column("allocated", sa.LargeBinary, nullable=False),
        sa.Column("allocated_count", sa.Integer, nullable=False),
        sa.Column("is_open", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("signed_credential", sa.JSON),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "credentials",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("issuer_slug", sa.String(64), nullable=False, index=True),
        sa.Column("achievement_id", sa.String(64), index=True),
        sa.Column("learner_id", sa.String(40), index=True),
        sa.Column("digest", sa.String(64), nullable=False, index=True),
        sa.Column("log_index", sa.BigInteger, nullable=False),
        sa.Column("secured", sa.JSON, nullable=False),
        sa.Column("revocation_list", sa.String(100), nullable=False),
        sa.Column("revocation_index", sa.Integer, nullable=False),
        sa.Column("suspension_list", sa.String(100), nullable=False),
        sa.Column("suspension_index", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(200)),
        sa.Column("request_digest", sa.String(64)),
        sa.UniqueConstraint("issuer_slug", "idempotency_key"),
    )


def downgrade() -> None:
    for table in ("credentials", "status_lists", "learners", "data_keys"):
        op.drop_table(table)
