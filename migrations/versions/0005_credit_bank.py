"""The credit bank: deposits, schools, published rule sets, transfers, consent codes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credit_deposits",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("learner_id", sa.String(40), nullable=False, index=True),
        sa.Column("credential_id", sa.String(300), nullable=False, unique=True),
        sa.Column("digest", sa.String(64), nullable=False, index=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("achievement", sa.String(500), nullable=False),
        sa.Column("issuer", sa.String(500), nullable=False),
        sa.Column("credits", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("eqf_level", sa.Integer),
        sa.Column("issued", sa.Date, nullable=False),
        sa.Column("expires", sa.Date),
        sa.Column("score", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("transfer_id", sa.String(40), index=True),
        sa.Column("deposited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True)),
        sa.Column("log_index", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "schools",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("did", sa.String(500), nullable=False, unique=True),
        sa.Column("name_zh", sa.String(200)),
        sa.Column("name_en", sa.String(200)),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("log_index", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "rule_sets",
        sa.Column("key", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("school_id", sa.String(64), nullable=False, index=True),
        sa.Column("rule_set_id", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("log_index", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("school_id", "rule_set_id", "version"),
    )
    op.create_table(
        "transfers",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False, index=True),
        sa.Column("rule_set_id", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("learner_id", sa.String(40), nullable=False, index=True),
        sa.Column("learner_ref", sa.String(80), nullable=False),
        sa.Column("evaluated_on", sa.Date, nullable=False),
        sa.Column("output", sa.JSON, nullable=False),
        sa.Column("statement", sa.JSON, nullable=False),
        sa.Column("statement_id", sa.String(100), nullable=False, unique=True),
        sa.Column("total", sa.String(64), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("log_index", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "consent_codes",
        sa.Column("code_hash", sa.LargeBinary(32), primary_key=True),
        sa.Column("learner_id", sa.String(40), nullable=False, index=True),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    for table in (
        "consent_codes",
        "transfers",
        "rule_sets",
        "schools",
        "credit_deposits",
    ):
        op.drop_table(table)
