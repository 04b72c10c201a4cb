"""Quorum edge cases over HTTP: rejections, second votes, insiders, quorum three."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from api.app import create_app
from api.config import Config
from api.services import Services, open_services
from issuers.models import Review
from tests.conftest import (
    NOW,
    Caller,
    application,
    approve,
    logged,
    submit,
    tree_size,
)


def vote(
    client: FlaskClient, path: str, reviewer: Caller, decision: str = "approve"
) -> Any:
    return client.post(
        f"{path}/reviews", json={"decision": decision}, headers=reviewer.headers
    )


def reviews(services: Services) -> int:
    with services.database.transaction() as session:
        return session.scalar(select(func.count()).select_from(Review)) or 0


def test_a_rejection_after_one_approval_rejects(
    client: FlaskClient,
    services: Services,
    reviewers: list[Caller],
    applicant: Caller,
) -> None:
    first = vote(client, "/issuers/centre-3", reviewers[0])
    second = vote(client, "/issuers/centre-3", reviewers[1], "reject")
    size = tree_size(services)
    third = vote(client, "/issuers/centre-3", reviewers[2])

    assert first.get_json()["status"] == "applied"
    assert second.status_code == 200
    assert second.get_json() == {"slug": "centre-3", "status": "rejected"}
    assert third.status_code == 409
    assert third.get_json()["detail"] == (
        "the application of centre-3 is closed (rejected)"
    )
    assert tree_size(services) == size
    assert [e["kind"] for e in logged(services)][-2:] == [
        "issuer.reviewed",
        "issuer.rejected",
    ]
    assert client.get("/issuers/centre-3/did.json").status_code == 404
    assert client.get("/issuers").get_json() == {"issuers": []}
    # A rejected organisation may apply again, under another slug.
    again = client.post("/issuers", json=application(3, slug="centre-3-again"))
    assert again.status_code == 201


def test_a_first_rejection_rejects_at_once(
    client: FlaskClient, reviewers: list[Caller], applicant: Caller
) -> None:
    answer = vote(client, "/issuers/centre-3", reviewers[0], "reject")

    assert answer.get_json()["status"] == "rejected"


def test_a_reviewer_voting_twice_is_409(
    client: FlaskClient,
    services: Services,
    reviewers: list[Caller],
    applicant: Caller,
) -> None:
    vote(client, "/issuers/centre-3", reviewers[0])
    size, count = tree_size(services), reviews(services)

    again = vote(client, "/issuers/centre-3", reviewers[0])
    changed = vote(client, "/issuers/centre-3", reviewers[0], "reject")

    for answer in (again, changed):
        assert answer.status_code == 409
        assert answer.get_json()["detail"] == (
            f"reviewer {reviewers[0].subject} already voted on issuer centre-3"
        )
    assert (tree_size(services), reviews(services)) == (size, count)
    # The second approval still counts as the second, not the third.
    assert vote(client, "/issuers/centre-3", reviewers[1]).get_json()["status"] == (
        "accredited"
    )


def test_a_reviewer_voting_twice_on_an_achievement_is_409(
    client: FlaskClient,
    services: Services,
    reviewers: list[Caller],
    submitted_achievement: str,
) -> None:
    path = f"/achievements/{submitted_achievement}"
    vote(client, path, reviewers[0])
    size = tree_size(services)

    again = vote(client, path, reviewers[0])

    assert again.status_code == 409
    assert "already voted on achievement" in again.get_json()["detail"]
    assert tree_size(services) == size


@pytest.mark.parametrize("affiliation", ["91110000MA0000003X", "centre-3"])
def test_an_insider_is_403_and_nothing_is_logged(
    client: FlaskClient,
    services: Services,
    admin: Caller,
    applicant: Caller,
    affiliation: str,
) -> None:
    added = client.post(
        "/reviewers",
        json={"name": "Insider", "affiliations": [affiliation]},
        headers=admin.headers,
    )
    insider = Caller(added.get_json()["token"], added.get_json()["id"])
    size = tree_size(services)

    answer = vote(client, "/issuers/centre-3", insider)

    assert answer.status_code == 403
    assert answer.get_json()["detail"] == (
        f"reviewer {insider.subject} belongs to centre-3 and may not vote"
    )
    assert tree_size(services) == size
    assert reviews(services) == 0


def test_an_insider_cannot_review_their_organisation_s_achievement(
    client: FlaskClient,
    services: Services,
    admin: Caller,
    submitted_achievement: str,
) -> None:
    added = client.post(
        "/reviewers",
        json={"name": "Insider", "affiliations": ["centre-1"]},
        headers=admin.headers,
    )
    insider = Caller(added.get_json()["token"], added.get_json()["id"])
    size = tree_size(services)

    answer = vote(client, f"/achievements/{submitted_achievement}", insider)

    assert answer.status_code == 403
    assert "belongs to centre-1 and may not vote" in answer.get_json()["detail"]
    assert tree_size(services) == size


def test_an_achievement_rejected_after_one_approval_is_closed(
    client: FlaskClient,
    reviewers: list[Caller],
    issuer: Caller,
    submitted_achievement: str,
) -> None:
    path = f"/achievements/{submitted_achievement}"

    vote(client, path, reviewers[0])
    rejected = vote(client, path, reviewers[1], "reject")
    late = vote(client, path, reviewers[2])

    assert rejected.get_json()["status"] == "rejected"
    assert late.status_code == 409
    assert late.get_json()["detail"].endswith("is closed (rejected)")
    assert client.get(path).status_code == 404
    assert client.get(path, headers=issuer.headers).status_code == 200
    retire = client.post(f"{path}/retire", json={"reason": "x"})
    assert retire.status_code == 401


@pytest.fixture
def quorum_of_three(migrated: Config, services: Services) -> Iterator[FlaskClient]:
    """A client of the same database, served with review_quorum=3."""
    config = dataclasses.replace(migrated, review_quorum=3)
    opened = open_services(config, now=NOW)
    app = create_app(config, services=opened)
    app.config["TESTING"] = True
    yield app.test_client()
    opened.close()


def test_a_quorum_of_three_needs_three_approvals(
    quorum_of_three: FlaskClient, reviewers: list[Caller]
) -> None:
    client = quorum_of_three
    issuer = Caller(
        client.post("/issuers", json=application(1)).get_json()["token"], "centre-1"
    )

    statuses = [
        vote(client, "/issuers/centre-1", r).get_json()["status"] for r in reviewers
    ]
    achievement = submit(client, issuer)
    decided = [
        vote(client, f"/achievements/{achievement}", r).get_json()["status"]
        for r in reviewers
    ]

    assert statuses == ["applied", "applied", "accredited"]
    assert decided == ["submitted", "submitted", "approved"]


def test_the_quorum_comes_from_the_environment(migrated: Config) -> None:
    config = Config.from_env(
        {"CREDBANK_DATABASE_URL": migrated.database_url, "CREDBANK_REVIEW_QUORUM": "3"}
    )
    opened = open_services(dataclasses.replace(config, master_key=migrated.master_key))
    try:
        assert opened.registry.quorum == 3
    finally:
        opened.close()


def test_the_default_quorum_is_two(
    client: FlaskClient, reviewers: list[Caller], applicant: Caller
) -> None:
    assert approve(client, "/issuers/centre-3", reviewers[:2])["status"] == (
        "accredited"
    )
