"""`credbank log audit` replays the registry's entries and names any row that differs.

The lifecycle runs over HTTP; rows are then changed behind the log's back with plain
SQL, as a careless operator or an intruder would, and the installed script is run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Connection, delete, update

from api.services import Services
from issuers.models import Achievement, Issuer, IssuerEvent, Review
from keys import StoredKey
from tests.api.conftest import RunCLI
from tests.conftest import Caller, achievement_definition, submit


@dataclass(frozen=True)
class Lifecycle:
    suspended: str
    achievement: str
    retired_achievement: str
    reviewer: str
    retired_key: str


@pytest.fixture
def lifecycle(
    client: FlaskClient,
    services: Services,
    admin: Caller,
    reviewers: list[Caller],
    issuer: Caller,
    other_issuer: Caller,
    approved_achievement: str,
) -> Lifecycle:
    """Every kind of decision, made over HTTP."""
    (first_key,) = _keys(services, "centre-1")
    retired = submit(client, issuer, name={"en": "Old Course"})
    for reviewer in reviewers[1:]:
        client.post(
            f"/achievements/{retired}/reviews",
            json={"decision": "approve"},
            headers=reviewer.headers,
        )
    calls = [
        ("/achievements", achievement_definition(), other_issuer),
        (f"/achievements/{retired}/retire", {"reason": "outdated"}, admin),
        ("/issuers/centre-1/keys", {}, issuer),
        ("/issuers/centre-1/keys", {"algorithm": "P-256"}, issuer),
        ("/issuers/centre-2/suspend", {"reason": "audit"}, admin),
        ("/issuers/centre-2/reinstate", {"reason": "cleared"}, admin),
        ("/issuers/centre-2/suspend", {"reason": "second audit"}, admin),
    ]
    for path, body, caller in calls:
        answer = client.post(path, json=body, headers=caller.headers)
        assert answer.status_code in {200, 201}, answer.get_json()
    p256 = _keys(services, "centre-1")[-1]
    answer = client.post(
        f"/issuers/centre-1/keys/{p256}/compromised", headers=issuer.headers
    )
    assert answer.status_code == 200
    return Lifecycle(
        "centre-2",
        approved_achievement,
        retired,
        reviewers[0].subject or "",
        first_key,
    )


def _keys(services: Services, slug: str) -> list[str]:
    with services.database.transaction() as session:
        return [k.id for k in services.registry.keys(session, slug)]


def test_audit_is_clean_after_a_lifecycle(
    cli: RunCLI, env: dict[str, str], lifecycle: Lifecycle
) -> None:
    result = cli("log", "audit", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("audit clean: log credbank.test/log, ")
    assert result.stdout.rstrip().endswith("tables match the log")
    assert result.stderr == ""


Tamper = Callable[[Connection, Lifecycle], None]


def reinstate_behind_the_log(db: Connection, run: Lifecycle) -> None:
    db.execute(
        update(Issuer).where(Issuer.slug == run.suspended).values(status="accredited")
    )


def change_a_definition(db: Connection, run: Lifecycle) -> None:
    changed = achievement_definition(credits=6, learningHours=160)
    changed["credits"] = "6"
    db.execute(
        update(Achievement)
        .where(Achievement.id == run.achievement)
        .values(definition=changed)
    )


def unretire_a_course(db: Connection, run: Lifecycle) -> None:
    db.execute(
        update(Achievement)
        .where(Achievement.id == run.retired_achievement)
        .values(status="approved", retire_reason=None)
    )


def delete_a_review(db: Connection, run: Lifecycle) -> None:
    db.execute(
        delete(Review).where(
            Review.subject_id == run.achievement, Review.reviewer_id == run.reviewer
        )
    )


def revive_a_retired_key(db: Connection, run: Lifecycle) -> None:
    db.execute(
        update(StoredKey).where(StoredKey.id == run.retired_key).values(state="active")
    )


def rewrite_history(db: Connection, run: Lifecycle) -> None:
    db.execute(
        update(IssuerEvent)
        .where(IssuerEvent.issuer_slug == run.suspended)
        .values(reason="nothing happened")
    )


TAMPERING: list[tuple[Tamper, str]] = [
    (
        reinstate_behind_the_log,
        "issuer centre-2: status is 'accredited' in the table, 'suspended' in the log",
    ),
    (change_a_definition, "achievement {achievement}: definition is"),
    (
        unretire_a_course,
        "achievement {retired_achievement}: status is 'approved' in the table, "
        "'retired' in the log",
    ),
    (
        delete_a_review,
        "review of achievement {achievement} by {reviewer}: logged at entry",
    ),
    (
        revive_a_retired_key,
        "key {retired_key}: state is 'active' in the table, 'retired' in the log",
    ),
    (rewrite_history, "status history of issuer centre-2: differs from the"),
]


@pytest.mark.parametrize(
    ("tamper", "expected"), TAMPERING, ids=[t.__name__ for t, _ in TAMPERING]
)
def test_audit_names_a_row_changed_behind_the_log(
    cli: RunCLI,
    env: dict[str, str],
    services: Services,
    lifecycle: Lifecycle,
    tamper: Tamper,
    expected: str,
) -> None:
    with services.database.engine.begin() as db:
        tamper(db, lifecycle)

    result = cli("log", "audit", env=env)

    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("audit failed: ")
    assert expected.format(**vars(lifecycle)) in result.stdout
    assert "Traceback" not in result.stderr
