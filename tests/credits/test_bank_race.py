"""Two commits racing for one deposit: exactly one wins (DESIGN §7, docs/adr/0002).

Each contender is a separate app with its own services and connection pool, as two
server processes would be; they meet only in the database.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from api.app import create_app
from api.config import Config
from api.services import Services, open_services
from credits.models import Deposit, Transfer
from credits.schools import get_school, published_rule_set
from credits.transfers import commit_transfer, evaluate_for
from issuers.errors import ConflictError
from tests.conftest import NOW, Caller, award, award_request, logged, tree_size
from tests.credits.test_bank_flow import ON, learner_of, publish, rules

ROUNDS = 5


@pytest.fixture
def contenders(migrated: Config) -> Iterator[list[FlaskClient]]:
    """Two independent app instances on the same database."""
    opened = [open_services(migrated) for _ in range(2)]
    clients = []
    for services in opened:
        app = create_app(migrated, services=services)
        app.config["TESTING"] = True
        clients.append(app.test_client())
    yield clients
    for services in opened:
        services.close()


def race(
    clients: list[FlaskClient], calls: list[tuple[dict[str, Any], Caller]]
) -> list[Any]:
    """POST /transfers from each client in its own thread, released together."""
    barrier = threading.Barrier(len(clients))
    answers: list[Any] = [None] * len(clients)

    def run(number: int) -> None:
        body, caller = calls[number]
        barrier.wait(timeout=30)
        answers[number] = clients[number].post(
            "/transfers", json=body, headers=caller.headers
        )

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(answer is not None for answer in answers)
    return answers


def test_two_racing_commits_use_a_deposit_once(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    school: Caller,
    approved_achievement: str,
    contenders: list[FlaskClient],
    env: dict[str, str],
    cli: Any,
) -> None:
    publish(client, school, rules(approved_achievement))
    start = tree_size(services)
    winners: list[str] = []

    for round_number in range(ROUNDS):
        awarded = award(client, issuer, award_request(approved_achievement))
        learner = learner_of(services, awarded["id"])
        request = {
            "school": "school-1",
            "ruleSet": "beng-log",
            "learner": learner.subject,
            "on": ON,
        }
        # Half the rounds race the learner against the school with a consent code,
        # and carry the preview's digest; the others race two learner commits.
        if round_number % 2:
            code = client.post(
                f"/learners/{learner.subject}/consent-codes",
                json={"school": "school-1"},
                headers=learner.headers,
            ).get_json()["code"]
            digest = client.post(
                "/transfers/preview", json=request, headers=learner.headers
            ).get_json()["previewDigest"]
            calls = [
                ({**request, "previewDigest": digest}, learner),
                ({**request, "previewDigest": digest, "consentCode": code}, school),
            ]
        else:
            calls = [(request, learner), (request, learner)]

        answers = race(contenders, calls)

        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [201, 409], [a.get_json() for a in answers]
        (won,) = [a.get_json() for a in answers if a.status_code == 201]
        (lost,) = [a.get_json() for a in answers if a.status_code == 409]
        assert lost["status"] == 409 and lost["detail"]
        winners.append(won["id"])
        with services.database.transaction() as session:
            deposit = session.scalars(
                select(Deposit).where(Deposit.credential_id == awarded["id"])
            ).one()
            assert (deposit.status, deposit.transfer_id) == ("used", won["id"])

    with services.database.transaction() as session:
        transfers = session.scalars(select(Transfer.id)).all()
        used = session.scalar(
            select(func.count(func.distinct(Deposit.transfer_id))).where(
                Deposit.status == "used"
            )
        )
    assert sorted(transfers) == sorted(winners)
    assert used == ROUNDS
    committed = [
        entry
        for entry in logged(services, start)
        if entry["kind"] == "transfer.committed"
    ]
    assert sorted(entry["transfer"] for entry in committed) == sorted(winners)
    audited = cli("log", "audit", env=env)
    assert audited.returncode == 0, audited.stdout + audited.stderr
    assert "audit clean" in audited.stdout


def test_a_commit_from_a_stale_evaluation_takes_nothing(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    school: Caller,
    approved_achievement: str,
) -> None:
    # The guarded update alone, without the write lock's help: an evaluation made
    # before another transfer took its deposit must not take it again.
    publish(client, school, rules(approved_achievement))
    awarded = award(client, issuer, award_request(approved_achievement))
    learner = learner_of(services, awarded["id"])
    with services.database.transaction() as session:
        school_row = get_school(session, "school-1")
        published = published_rule_set(session, "school-1", "beng-log")
        stale = evaluate_for(
            session,
            services.bank,
            school_row,
            published,
            learner.subject or "",
            NOW.date(),
        )
        session.expunge_all()
    first = client.post(
        "/transfers",
        json={"school": "school-1", "ruleSet": "beng-log", "learner": learner.subject},
        headers=learner.headers,
    )
    assert first.status_code == 201, first.get_json()
    size = tree_size(services)

    with (
        pytest.raises(ConflictError, match="used by another one"),
        services.database.transaction(write=True) as session,
    ):
        commit_transfer(
            session,
            services.log,
            stale,
            None,  # type: ignore[arg-type]  # never reached
            b"k" * 32,
            expected_digest=None,
            now=NOW,
        )

    assert tree_size(services) == size
    with services.database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Transfer)) == 1
