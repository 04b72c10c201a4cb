"""Revision 0007: learners that existed before it are not erased, and the erasure
columns go again on downgrade with the learners' rows intact."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

from keys.database import normalise_url
from migrations.runner import downgrade, upgrade
from tests.conftest import NOW


def test_existing_learners_stay_unerased_and_downgrade_drops_the_columns(
    database_url: str,
) -> None:
    upgrade(database_url, "0006")
    engine = create_engine(normalise_url(database_url))
    try:
        with engine.begin() as db:
            db.execute(
                text("INSERT INTO learners (id, created_at) VALUES ('lrn_old', :at)"),
                {"at": NOW},
            )

        upgrade(database_url, "0007")
        with engine.connect() as db:
            row = db.execute(
                text(
                    "SELECT erased_at, erasure_reason, erasure_log_index "
                    "FROM learners WHERE id = 'lrn_old'"
                )
            ).one()
        assert tuple(row) == (None, None, None)

        downgrade(database_url, "0006")
        engine.dispose()
        columns = {c["name"] for c in inspect(engine).get_columns("learners")}
        assert {"erasure_reason", "erasure_log_index"}.isdisjoint(columns)
        assert "erased_at" in columns
        with engine.connect() as db:
            assert db.scalar(text("SELECT id FROM learners")) == "lrn_old"
    finally:
        engine.dispose()
