"""Batch issuance (issuers/batch.py): CSV rows, chunks, idempotent rows.

Rows are validated first and issued in chunks of CHUNK_SIZE, one transaction and one
checkpoint each; a bad row is answered with its error and stops nothing; a batch sent
again issues nothing, whether or not its rows carry idempotency keys.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from api.services import Services
from issuers.batch import (
    CHUNK_SIZE,
    CSV_COLUMNS,
    MAX_ROWS,
    RowOutcome,
    issue_batch,
    rows_from_csv,
)
from issuers.errors import ConflictError, ForbiddenError, InvalidInputError
from ledger.models import LogCheckpoint
from tests.conftest import (
    NOW,
    allocated_indexes,
    award_request,
    checkpoints_signed,
    logged,
    rows_in,
    tree_size,
)

SLUG = "centre-1"


def run(
    services: Services, rows: list[Any], progress: list[int] | None = None
) -> list[RowOutcome]:
    return issue_batch(
        services.database,
        services.issuance,
        SLUG,
        rows,
        now=NOW,
        progress=progress.append if progress is not None else None,
    )


def learner_row(achievement: str, number: int, **overrides: Any) -> dict[str, Any]:
    return award_request(
        achievement,
        learner={"email": f"learner.{number}@example.com", "name": f"学员{number}"},
        formats=["vc+jwt"],
        **overrides,
    )


# CSV


def test_csv_rows_become_award_requests() -> None:
    text = (
        "achievement,learner_did,learner_email,learner_name,score,credits_earned,"
        "awarded_date,evidence_url,formats,idempotency_key\n"
        "a1,,li@example.com,李丽 , 92.5,1.5,2026-11-30,https://e.cn/p/1,"
        "vc+jwt; eddsa-jcs-2022,row-1\n"
        "a1,did:key:z6Mk1,,,,,,,,\n"
    )

    rows = rows_from_csv(text)

    assert rows == [
        {
            "achievement": "a1",
            "learner": {"email": "li@example.com", "name": "李丽"},
            "score": "92.5",
            "creditsEarned": "1.5",
            "awardedDate": "2026-11-30",
            "evidence": [{"id": "https://e.cn/p/1"}],
            "formats": ["vc+jwt", "eddsa-jcs-2022"],
            "idempotencyKey": "row-1",
        },
        {"achievement": "a1", "learner": {"did": "did:key:z6Mk1"}},
    ]


def test_a_csv_may_hold_any_subset_of_the_columns_in_any_order() -> None:
    rows = rows_from_csv("learner_name,learner_email,achievement\nLi,l@e.cn,a1\n")

    assert rows == [{"achievement": "a1", "learner": {"email": "l@e.cn", "name": "Li"}}]
    assert rows_from_csv("achievement\n") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "achievement,learner_email,grade\n",
            f"expected a header with 'achievement' and only {', '.join(CSV_COLUMNS)};"
            " got achievement, learner_email, grade",
        ),
        ("learner_email\nl@e.cn\n", "got learner_email"),
        ("", "got none"),
        ("achievement\na1\na2,extra\n", "line 3 has more fields than the header"),
    ],
    ids=["unknown column", "no achievement column", "empty", "extra field"],
)
def test_a_bad_csv_is_refused_whole(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=r"^csv: ") as refused:
        rows_from_csv(text)

    (error,) = refused.value.errors["csv"]
    assert message in error


def test_csv_reading_stops_past_the_row_limit() -> None:
    rows = rows_from_csv("achievement\n" + "a1\n" * (MAX_ROWS + 50))

    assert len(rows) == MAX_ROWS + 1


# Issuing


def test_every_row_is_answered_in_order_and_bad_rows_stop_nothing(
    services: Services, approved_achievement: str
) -> None:
    count = 2 * CHUNK_SIZE + 50
    rows: list[Any] = []
    expected: dict[int, tuple[type[Exception], str]] = {}
    for number in range(count):
        row: Any = learner_row(approved_achievement, number)
        if number % 40 == 3:
            row["score"] = 101
            expected[number] = (InvalidInputError, "score: ")
        elif number % 40 == 11:
            row = "not a row"
            expected[number] = (InvalidInputError, "row: expected a JSON object")
        elif number % 40 == 17:
            row["achievement"] = str(uuid.UUID(int=number))
            expected[number] = (InvalidInputError, "achievement: no achievement")
        elif number % 40 == 29:
            row["creditsEarned"] = 5
            expected[number] = (InvalidInputError, "creditsEarned: expected at most")
        rows.append(row)
    schema_valid = count - sum(1 for n in range(count) if n % 40 in {3, 11})
    good = count - len(expected)
    size, checkpoints = tree_size(services), checkpoints_signed(services)
    progress: list[int] = []

    outcomes = run(services, rows, progress)

    assert [o.row for o in outcomes] == list(range(count))
    for outcome in outcomes:
        if outcome.row in expected:
            error, message = expected[outcome.row]
            assert outcome.result is None
            assert isinstance(outcome.error, error)
            assert str(outcome.error).startswith(message)
        else:
            assert outcome.error is None
            assert outcome.result is not None
            assert outcome.result.created
    issued = [o.result.credential.id for o in outcomes if o.result]
    assert len(set(issued)) == good
    assert [e["credential"] for e in logged(services, size)] == issued
    assert tree_size(services) == size + good
    assert allocated_indexes(services) == 2 * good
    # One transaction and one checkpoint per chunk of schema-valid rows.
    chunks = math.ceil(schema_valid / CHUNK_SIZE)
    assert chunks == 3
    assert checkpoints_signed(services) == checkpoints + chunks
    assert sum(progress) == count
    with services.database.transaction() as session:
        sizes = session.scalars(
            select(LogCheckpoint.tree_size).order_by(LogCheckpoint.tree_size)
        ).all()
    valid = [n for n in range(count) if n % 40 not in {3, 11}]
    expected_sizes = []
    total = size
    for start in range(0, len(valid), CHUNK_SIZE):
        total += sum(1 for n in valid[start : start + CHUNK_SIZE] if n not in expected)
        expected_sizes.append(total)
    assert list(sizes[-chunks:]) == expected_sizes


def test_a_batch_sent_again_issues_nothing(
    services: Services, approved_achievement: str
) -> None:
    rows = [learner_row(approved_achievement, n) for n in range(2 * CHUNK_SIZE + 1)]
    for number, row in enumerate(rows):
        if number % 3 == 0:
            row["idempotencyKey"] = f"cohort-9/{number}"
    first = run(services, rows)
    size, checkpoints = tree_size(services), checkpoints_signed(services)
    allocated = allocated_indexes(services)

    again = run(services, rows)

    assert [o.result and o.result.created for o in again] == [False] * len(rows)
    assert [o.result.credential.id for o in again if o.result] == [
        o.result.credential.id for o in first if o.result
    ]
    assert tree_size(services) == size
    assert checkpoints_signed(services) == checkpoints
    assert allocated_indexes(services) == allocated


def test_a_row_repeated_without_a_key_is_issued_once(
    services: Services, approved_achievement: str
) -> None:
    row = learner_row(approved_achievement, 1)
    rows = [row, learner_row(approved_achievement, 2), dict(row)]

    outcomes = run(services, rows)

    assert [o.result.created for o in outcomes if o.result] == [True, True, False]
    first, _, repeated = (o.result.credential.id for o in outcomes if o.result)
    assert repeated == first
    assert rows_in(services, "credentials") == 2


def test_a_key_reused_for_other_content_in_a_batch_is_a_conflict(
    services: Services, approved_achievement: str
) -> None:
    rows = [
        learner_row(approved_achievement, 1, idempotencyKey="seat-1"),
        learner_row(approved_achievement, 2, idempotencyKey="seat-1"),
    ]

    first, clash = run(services, rows)

    assert first.result is not None
    assert isinstance(clash.error, ConflictError)
    assert str(clash.error) == (
        "idempotency key 'seat-1' was used for a different award"
    )
    assert rows_in(services, "credentials") == 1


def test_too_many_rows_are_refused_before_any_is_issued(
    services: Services, approved_achievement: str
) -> None:
    rows = [learner_row(approved_achievement, 1)] * (MAX_ROWS + 1)
    size = tree_size(services)
    progress: list[int] = []

    with pytest.raises(
        InvalidInputError, match=f"rows: expected at most {MAX_ROWS} rows, got 10001"
    ):
        run(services, rows, progress)

    assert progress == []
    assert tree_size(services) == size


def test_a_suspended_issuer_s_rows_are_all_refused(
    services: Services, approved_achievement: str
) -> None:
    with services.database.transaction(write=True) as session:
        services.registry.suspend(session, SLUG, reason="audit", now=NOW)
    size = tree_size(services)
    rows = [learner_row(approved_achievement, n) for n in range(CHUNK_SIZE + 1)]

    outcomes = run(services, rows)

    assert all(isinstance(o.error, ForbiddenError) for o in outcomes)
    assert {str(o.error) for o in outcomes} == {
        "issuer centre-1 is suspended; it cannot issue"
    }
    assert tree_size(services) == size
    assert allocated_indexes(services) == 0
    assert rows_in(services, "learners") == 0


def test_csv_rows_issue_like_json_rows(
    services: Services, approved_achievement: str
) -> None:
    text = (
        "achievement,learner_email,learner_name,score,formats\n"
        f"{approved_achievement},li@example.com,李丽,92.5,vc+jwt\n"
        f"{approved_achievement},wu@example.com,吴,120,vc+jwt\n"
    )

    good, bad = run(services, rows_from_csv(text))

    assert good.result is not None
    subject = good.result.credential.secured
    assert set(subject) == {"vc+jwt"}
    assert isinstance(bad.error, InvalidInputError)
    assert set(bad.error.errors) == {"score"}
