"""Database errors as the API answers them: a full disk is a 507 problem, a database
that cannot be reached a 503 with Retry-After, and neither leaves a trace.

Without root: SQLite's `max_page_count` makes a database full as a full disk does
(SQLITE_FULL). tests/api/test_fault_disk_full.py fills a real disk, and
tests/api/test_fault_postgres_down.py stops a real PostgreSQL.
"""

from __future__ import annotations

import socket
from typing import Any

import psycopg
import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError

from api.services import Services
from keys.database import is_database_unavailable, is_storage_full, normalise_url
from tests.conftest import Caller, award_request, rows_in, tree_size

# Pages an award may take before the cap refuses it: far fewer than any needs.
_SPARE_PAGES = 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_full_database_is_a_507_problem_and_keeps_nothing(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    approved_achievement: str,
) -> None:
    # The first award makes the status lists, which a capped file has no room for.
    with_room = client.post(
        "/credentials/award",
        json=award_request(approved_achievement),
        headers=issuer.headers,
    )
    assert with_room.status_code == 201
    size, credentials = tree_size(services), rows_in(services, "credentials")

    refused = _award_capped(client, services, issuer, approved_achievement)

    assert refused.status_code == 507
    assert refused.mimetype == "application/problem+json"
    body = refused.get_json()
    assert body["status"] == 507
    assert body["type"] == "http://credbank.test/problems#storage-full"
    assert "Send the request again once space has been freed" in body["detail"]
    assert "Retry-After" not in refused.headers
    assert (tree_size(services), rows_in(services, "credentials")) == (
        size,
        credentials,
    )
    again = client.post(
        "/credentials/award",
        json=award_request(approved_achievement, idempotencyKey="capped"),
        headers=issuer.headers,
    )
    assert again.status_code == 201


def _award_capped(
    client: FlaskClient, services: Services, issuer: Caller, achievement: str
) -> Any:
    """An award made while the file may not grow (the cap is lifted after)."""
    # No free pages to reuse: whatever the award writes must grow the file.
    raw = services.database.engine.raw_connection()
    try:
        raw.cursor().execute("VACUUM")
        pages = raw.cursor().execute("PRAGMA page_count").fetchone()[0]
    finally:
        raw.close()

    def cap(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + _SPARE_PAGES}")

    engine = services.database.engine
    event.listen(engine, "connect", cap)
    engine.dispose()
    try:
        return client.post(
            "/credentials/award",
            json=award_request(
                achievement, idempotencyKey="capped", score=99, evidence=_evidence()
            ),
            headers=issuer.headers,
        )
    finally:
        event.remove(engine, "connect", cap)
        engine.dispose()


def _evidence() -> list[dict[str, str]]:
    # Narratives big enough that the credential cannot fit in two spare pages.
    return [{"narrative": "N" * 2000} for _ in range(10)]


def test_sqlite_s_full_error_reads_as_storage_full(tmp_path: Any) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'small.sqlite3'}")
    try:
        with pytest.raises(OperationalError) as raised, engine.begin() as db:
            db.exec_driver_sql("CREATE TABLE t (x BLOB)")
            db.exec_driver_sql("PRAGMA max_page_count = 3")
            db.exec_driver_sql("INSERT INTO t VALUES (zeroblob(100000))")
    finally:
        engine.dispose()

    assert is_storage_full(raised.value)
    assert "database or disk is full" in str(raised.value.orig)


def test_postgresql_s_disk_full_reads_as_storage_full() -> None:
    # The driver's own class for SQLSTATE 53100, as psycopg raises it.
    error = DBAPIError.instance(
        "INSERT", None, psycopg.errors.DiskFull("no space left"), psycopg.Error
    )

    assert is_storage_full(error)


def test_a_refused_connection_reads_as_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port once the probe is closed.
    engine = create_engine(normalise_url(f"postgresql://nobody@127.0.0.1:{port}/x"))
    try:
        with pytest.raises(OperationalError) as raised, engine.connect():
            pass
    finally:
        engine.dispose()

    assert is_database_unavailable(raised.value)
    assert not is_storage_full(raised.value)
