"""The registry: tokens, issuers and their history, reviewers, reviews, achievements.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("secret_hash", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(128)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "issuers",
        sa.Column("slug", sa.String(64), primary_key=True),
        sa.Column("name_zh", sa.String(200)),
        sa.Column("name_en", sa.String(200)),
        sa.Column("legal_id", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("website", sa.String(500)),
        sa.Column("contact", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accredited_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "issuer_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "issuer_slug",
            sa.String(64),
            sa.ForeignKey("issuers.slug"),
            nullable=False,
            index=True,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("log_index", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "reviewers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("affiliations", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False, index=True),
        sa.Column(
            "reviewer_id", sa.String(64), sa.ForeignKey("reviewers.id"), nullable=False
        ),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("subject_kind", "subject_id", "reviewer_id"),
    )
    op.create_table(
        "achievements",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "issuer_slug",
            sa.String(64),
            sa.ForeignKey("issuers.slug"),
            nullable=False,
            index=True,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("definition", sa.JSON, nullable=False),
        sa.Column("review_due", sa.Date, nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True)),
        sa.Column("retired_at", sa.DateTime(timezone=True)),
        sa.Column("retire_reason", sa.Text),
    )


def downgrade() -> None:
    for table in (
        "achievements",
        "reviews",
        "reviewers",
        "issuer_events",
        "issuers",
        "api_tokens",
    ):
        op.drop_table(table)
