"""Revision 0004: issuers that existed before it mask learners' names, and the
column goes again on downgrade with the registry's rows intact."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

from keys.database import normalise_url
from migrations.runner import downgrade, upgrade
from tests.conftest import NOW


def test_existing_issuers_get_masked_names_and_downgrade_drops_the_column(
    database_url: str,
) -> None:
    upgrade(database_url, "0003")
    engine = create_engine(normalise_url(database_url))
    try:
        with engine.begin() as db:
            db.execute(
                text(
                    "INSERT INTO issuers (slug, legal_id, kind, contact, status,"
                    " applied_at) VALUES ('old', 'L1', 'school', '{}', 'applied', :at)"
                ),
                {"at": NOW},
            )
            # A row that refers to the issuer: downgrading must keep it valid.
            db.execute(
                text(
                    "INSERT INTO issuer_events (issuer_slug, status, at, log_index)"
                    " VALUES ('old', 'applied', :at, 0)"
                ),
                {"at": NOW},
            )

        upgrade(database_url, "0004")
        with engine.connect() as db:
            display = db.scalar(
                text("SELECT learner_display FROM issuers WHERE slug = 'old'")
            )
        assert display == "masked"

        downgrade(database_url, "0003")
        engine.dispose()
        columns = {c["name"] for c in inspect(engine).get_columns("issuers")}
        assert "learner_display" not in columns
        with engine.connect() as db:
            assert db.scalar(text("SELECT slug FROM issuers")) == "old"
            assert db.scalar(text("SELECT count(*) FROM issuer_events")) == 1
    finally:
        engine.dispose()
