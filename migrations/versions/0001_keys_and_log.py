"""The key store and the append-only transparency log.

Revision ID: 0001
Revises:
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_FROZEN_TABLES = ("log_entries", "log_nodes", "log_checkpoints")


def upgrade() -> None:
    op.create_table(
        "keys",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(128), nullable=False, index=True),
        sa.Column("algorithm", sa.String(16), nullable=False),
        sa.Column("public_key", sa.LargeBinary, nullable=False),
        sa.Column("sealed_private_key", sa.LargeBinary, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True)),
        sa.Column("compromised_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "log_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("origin", sa.String(255), nullable=False),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name="log_head_single_row"),
    )
    op.create_table(
        "log_entries",
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "log_nodes",
        sa.Column("level", sa.SmallInteger, primary_key=True),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "log_checkpoints",
        sa.Column("tree_size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
    )
    if op.get_context().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table in (*_FROZEN_TABLES, "log_head"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS credbank_refuse_change()")
        op.execute("DROP FUNCTION IF EXISTS credbank_head_only_grows()")
    else:
        for table in (*_FROZEN_TABLES, "log_head"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    for table in (*reversed(_FROZEN_TABLES), "log_head", "keys"):
        op.drop_table(table)


def _sqlite_triggers() -> None:
    for table in _FROZEN_TABLES:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} "
                f"ON {table} BEGIN SELECT RAISE(ABORT, "
                f"'{table} is append-only: {action} refused'); END"
            )
    op.execute(
        "CREATE TRIGGER log_head_no_delete BEFORE DELETE ON log_head "
        "BEGIN SELECT RAISE(ABORT, 'log_head may not be deleted'); END"
    )
    op.execute(
        "CREATE TRIGGER log_head_no_update BEFORE UPDATE ON log_head "
        "WHEN NEW.tree_size < OLD.tree_size OR NEW.origin != OLD.origin "
        "OR NEW.id != OLD.id "
        "OR (NEW.tree_size = OLD.tree_size AND NEW.root_hash != OLD.root_hash) "
        "BEGIN SELECT RAISE(ABORT, 'log_head may only grow'); END"
    )


def _postgresql_triggers() -> None:
    op.execute(
        """
        CREATE FUNCTION credbank_refuse_change() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END;
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        """
        CREATE FUNCTION credbank_head_only_grows() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'DELETE' OR NEW.tree_size < OLD.tree_size
               OR NEW.origin <> OLD.origin OR NEW.id <> OLD.id
               OR (NEW.tree_size = OLD.tree_size
                   AND NEW.root_hash <> OLD.root_hash) THEN
                RAISE EXCEPTION 'log_head may only grow'
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN NEW;
        END;
        $$ LANGUAGE plpgsql
        """
    )
    for table in _FROZEN_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION credbank_refuse_change()"
        )
    for table in (*_FROZEN_TABLES, "log_head"):
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION credbank_refuse_change()"
        )
    op.execute(
        "CREATE TRIGGER log_head_append_only BEFORE UPDATE OR DELETE ON log_head "
        "FOR EACH ROW EXECUTE FUNCTION credbank_head_only_grows()"
    )
