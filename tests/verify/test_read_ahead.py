"""A verification reads its facts ahead, together, and the answers do not change.

`ServiceFacts.expect` asks every question of one verification at once
(`RowReader.rows_together`: one pipeline on PostgreSQL), and `Database.reading`
leaves PostgreSQL's BEGIN and COMMIT out. These tests hold both to what they
promise: the same answers as reading one question at a time, every question
answered from the read-ahead, errors reported as SQLAlchemy's, and a pooled
connection handed back as it was lent.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from api.services import Services
from api.verification import verify_here
from keys.database import RowReader
from tests.verify.test_vc_api_verify import FORMS, sent
from verify import facts as facts_module

QUERIES = [
    ("SELECT ? + 1", (1,)),
    ("SELECT slug FROM issuers WHERE slug = ?", ("no-such-issuer",)),
    ("SELECT ?, ?", ("a", "b")),
]


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The SQL of every query a `RowReader` runs outside `rows_together` (which,
    off PostgreSQL, runs its queries through `rows` one by one)."""
    asked: list[str] = []
    together: list[bool] = []
    rows, rows_together = RowReader.rows, RowReader.rows_together

    def counting(self: RowReader, sql: str, params: Sequence[Any]) -> Any:
        if not together and sql != "BEGIN":
            asked.append(sql)
        return rows(self, sql, params)

    def batch(self: RowReader, queries: Sequence[tuple[str, Sequence[Any]]]) -> Any:
        together.append(True)
        try:
            return rows_together(self, queries)
        finally:
            together.pop()

    monkeypatch.setattr(RowReader, "rows", counting)
    monkeypatch.setattr(RowReader, "rows_together", batch)
    yield asked


def test_rows_together_answers_as_rows_does_one_by_one(services: Services) -> None:
    with services.database.reading() as reader:
        one_by_one = [reader.rows(sql, params) for sql, params in QUERIES]
        together = reader.rows_together(QUERIES)

    assert together == one_by_one
    assert together[0] == [(2,)] and together[1] == []


def test_a_failing_query_among_several_is_sqlalchemys_error(
    services: Services,
) -> None:
    broken = [*QUERIES[:1], ("SELECT * FROM no_such_table WHERE x = ?", (1,))]

    with pytest.raises(DBAPIError) as caught, services.database.reading() as reader:
        reader.rows_together(broken)

    assert "no_such_table" in str(caught.value)
    # The connection went back to the pool fit for the next request.
    with services.database.reading() as reader:
        assert reader.rows("SELECT ?", (7,)) == [(7,)]


def test_a_read_hands_its_connection_back_transactional(
    services: Services, issued: dict[str, Any]
) -> None:
    with services.database.reading() as reader:
        reader.rows_together(QUERIES)

    # The ORM's transactions run on the same pooled connections: a rollback
    # must still undo a write after the read took autocommit on and off.
    with pytest.raises(RuntimeError), services.database.transaction() as session:
        renamed = session.execute(text("UPDATE issuers SET name_en = 'changed'"))
        assert renamed.rowcount > 0
        raise RuntimeError("roll back")
    with services.database.transaction() as session:
        changed = session.execute(
            text("SELECT count(*) FROM issuers WHERE name_en = 'changed'")
        ).scalar_one()
    assert changed == 0
    if services.database.engine.dialect.name == "postgresql":
        pooled = services.database.engine.raw_connection()
        try:
            assert pooled.driver_connection.autocommit is False
        finally:
            pooled.close()


@pytest.mark.parametrize("form", FORMS)
def test_every_question_of_a_verification_is_read_ahead(
    services: Services, issued: dict[str, Any], form: str, counted: list[str]
) -> None:
    result = verify_here(services, sent(issued, form), learner_names=False)

    assert result.verified, result.checks
    # The DID document, the status lists, the issuer, the course, the log entry
    # and the checkpoint all came with the read-ahead; only the inclusion
    # proof's subtree hashes, read once per tree and then remembered, may follow.
    assert [sql for sql in counted if "log_nodes" not in sql] == []


@pytest.mark.parametrize("form", FORMS)
def test_reading_ahead_changes_no_answer(
    services: Services,
    issued: dict[str, Any],
    form: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ahead = verify_here(services, sent(issued, form))
    monkeypatch.setattr(
        "verify.local.ServiceFacts.expect",
        lambda self, questions: facts_module.NO_FACTS.expect(questions),
    )
    one_by_one = verify_here(services, sent(issued, form))

    assert ahead.verified and one_by_one.verified
    assert ahead.checks == one_by_one.checks
    assert ahead.summary == one_by_one.summary
