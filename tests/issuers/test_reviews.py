"""Quorum voting on applications and achievements, in the registry's own terms."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select

from api.services import Services
from issuers.catalogue import Catalogue
from issuers.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
)
from issuers.models import Review
from issuers.registry import Registry
from issuers.reviews import APPROVED, PENDING, REJECTED, outcome
from issuers.standard import AchievementSchema, IssuerApplicationSchema
from keys import ACTIVE, ED25519
from tests.conftest import (
    NOW,
    Caller,
    achievement_definition,
    add_reviewer,
    application,
    logged,
    tree_size,
)


def apply_for(services: Services, n: int) -> str:
    with services.database.transaction(write=True) as session:
        body = IssuerApplicationSchema().load(application(n))
        return services.registry.apply(session, body, now=NOW).slug


def vote(
    services: Services,
    slug: str,
    reviewer: Caller,
    decision: str = "approve",
    *,
    registry: Registry | None = None,
) -> str:
    """One vote on an application; the issuer's status after it."""
    registry = registry or services.registry
    assert reviewer.subject is not None
    with services.database.transaction(write=True) as session:
        issuer = registry.review(
            session,
            slug,
            reviewer_id=reviewer.subject,
            decision=decision,
            comment=None,
            now=NOW,
        )
        return issuer.status


def review_count(services: Services) -> int:
    with services.database.transaction() as session:
        return session.scalar(select(func.count()).select_from(Review)) or 0


@pytest.mark.parametrize(
    ("decisions", "quorum", "expected"),
    [
        ([], 2, PENDING),
        (["approve"], 2, PENDING),
        (["approve", "approve"], 2, APPROVED),
        (["approve", "approve"], 3, PENDING),
        (["approve", "approve", "approve"], 3, APPROVED),
        (["reject"], 2, REJECTED),
        (["approve", "reject"], 2, REJECTED),
        (["approve", "approve", "reject"], 2, REJECTED),
    ],
)
def test_outcome_needs_a_quorum_and_no_rejection(
    decisions: list[str], quorum: int, expected: str
) -> None:
    votes: Any = [SimpleNamespace(decision=d) for d in decisions]

    assert outcome(votes, quorum) == expected


def test_two_approvals_accredit_and_give_an_ed25519_key(
    services: Services, reviewers: list[Caller]
) -> None:
    slug = apply_for(services, 1)
    start = tree_size(services)

    first = vote(services, slug, reviewers[0])
    second = vote(services, slug, reviewers[1])

    assert (first, second) == ("applied", "accredited")
    assert [e["kind"] for e in logged(services, start)] == [
        "issuer.reviewed",
        "issuer.reviewed",
        "issuer.accredited",
        "key.added",
    ]
    with services.database.transaction() as session:
        keys = services.registry.keys(session, slug)
        assert [(k.algorithm, k.state) for k in keys] == [(ED25519, ACTIVE)]
        assert keys[0].owner == f"issuer:{slug}"


def test_a_rejection_after_one_approval_rejects(
    services: Services, reviewers: list[Caller]
) -> None:
    slug = apply_for(services, 1)
    vote(services, slug, reviewers[0])

    status = vote(services, slug, reviewers[1], "reject")

    assert status == "rejected"
    assert logged(services)[-1]["kind"] == "issuer.rejected"
    with pytest.raises(ConflictError, match=r"application of centre-1 is closed"):
        vote(services, slug, reviewers[2])
    with services.database.transaction() as session:
        assert services.registry.keys(session, slug) == []


def test_a_reviewer_votes_once(services: Services, reviewers: list[Caller]) -> None:
    slug = apply_for(services, 1)
    vote(services, slug, reviewers[0])
    size, votes = tree_size(services), review_count(services)

    with pytest.raises(
        ConflictError,
        match=rf"reviewer {reviewers[0].subject} already voted on issuer {slug}",
    ):
        vote(services, slug, reviewers[0], "reject")

    assert (tree_size(services), review_count(services)) == (size, votes)


@pytest.mark.parametrize("affiliation", ["91110000MA0000001X", "centre-1"])
def test_a_reviewer_never_votes_on_their_own_organisation(
    services: Services, affiliation: str
) -> None:
    slug = apply_for(services, 1)
    insider = add_reviewer(services, affiliations=["other-org", affiliation])
    size = tree_size(services)

    with pytest.raises(ForbiddenError, match=r"belongs to centre-1 and may not vote"):
        vote(services, slug, insider)

    assert tree_size(services) == size
    assert review_count(services) == 0


def test_an_unknown_reviewer_cannot_vote(services: Services) -> None:
    slug = apply_for(services, 1)

    with pytest.raises(NotFoundError, match=r"no reviewer rv-ghost"):
        vote(services, slug, Caller("unused", "rv-ghost"))


def test_a_quorum_of_three_needs_three_approvals(
    services: Services, reviewers: list[Caller]
) -> None:
    registry = dataclasses.replace(services.registry, quorum=3)
    slug = apply_for(services, 1)

    statuses = [vote(services, slug, r, registry=registry) for r in reviewers]

    assert statuses == ["applied", "applied", "accredited"]


# Achievements use the same vote, through the catalogue.


@pytest.fixture
def catalogue(services: Services) -> Catalogue:
    return services.catalogue


@pytest.fixture
def accredited(services: Services, reviewers: list[Caller]) -> str:
    slug = apply_for(services, 1)
    vote(services, slug, reviewers[0])
    vote(services, slug, reviewers[1])
    return slug


def submit_in_db(services: Services, slug: str, **overrides: Any) -> str:
    body = AchievementSchema().load(achievement_definition(**overrides))
    with services.database.transaction(write=True) as session:
        return services.catalogue.submit(session, slug, body, now=NOW).id


def vote_on_achievement(
    services: Services, achievement_id: str, reviewer: Caller, decision: str
) -> str:
    assert reviewer.subject is not None
    with services.database.transaction(write=True) as session:
        return services.catalogue.review(
            session,
            achievement_id,
            reviewer_id=reviewer.subject,
            decision=decision,
            comment="checked against the standard",
            now=NOW,
        ).status


def test_an_achievement_rejected_after_one_approval_is_closed(
    services: Services, accredited: str, reviewers: list[Caller]
) -> None:
    achievement_id = submit_in_db(services, accredited)

    first = vote_on_achievement(services, achievement_id, reviewers[0], "approve")
    second = vote_on_achievement(services, achievement_id, reviewers[1], "reject")

    assert (first, second) == ("submitted", "rejected")
    assert logged(services)[-1] == {
        "v": 1,
        "kind": "achievement.rejected",
        "at": "2026-12-01T09:30:00.000Z",
        "achievement": achievement_id,
    }
    with pytest.raises(ConflictError, match=r"review of achievement .* is closed"):
        vote_on_achievement(services, achievement_id, reviewers[2], "approve")


def test_review_comments_stay_out_of_the_log(
    services: Services, accredited: str, reviewers: list[Caller]
) -> None:
    achievement_id = submit_in_db(services, accredited)
    start = tree_size(services)

    vote_on_achievement(services, achievement_id, reviewers[0], "approve")

    (entry,) = logged(services, start)
    assert entry["kind"] == "achievement.reviewed"
    assert "checked against the standard" not in str(entry)


def test_an_insider_cannot_review_their_organisation_s_achievement(
    services: Services, accredited: str
) -> None:
    achievement_id = submit_in_db(services, accredited)
    insider = add_reviewer(services, affiliations=["91110000MA0000001X"])

    with pytest.raises(ForbiddenError, match=r"belongs to centre-1"):
        vote_on_achievement(services, achievement_id, insider, "approve")


def test_a_retired_achievement_cannot_be_retired_or_reviewed_again(
    services: Services, accredited: str, reviewers: list[Caller]
) -> None:
    achievement_id = submit_in_db(services, accredited)
    vote_on_achievement(services, achievement_id, reviewers[0], "approve")
    vote_on_achievement(services, achievement_id, reviewers[1], "approve")
    with services.database.transaction(write=True) as session:
        services.catalogue.retire(session, achievement_id, reason="outdated", now=NOW)
    size = tree_size(services)

    with (
        pytest.raises(
            ConflictError, match=r"expected an approved achievement to retire, got"
        ),
        services.database.transaction(write=True) as session,
    ):
        services.catalogue.retire(session, achievement_id, reason="again", now=NOW)
    with pytest.raises(ConflictError, match=r"is closed \(retired\)"):
        vote_on_achievement(services, achievement_id, reviewers[2], "approve")

    assert tree_size(services) == size


def test_a_suspended_issuer_cannot_submit(services: Services, accredited: str) -> None:
    with services.database.transaction(write=True) as session:
        services.registry.suspend(session, accredited, reason="audit", now=NOW)

    with pytest.raises(
        ForbiddenError, match=r"issuer centre-1 is suspended; only an accredited"
    ):
        submit_in_db(services, accredited)


def test_an_applicant_cannot_submit(services: Services) -> None:
    slug = apply_for(services, 1)

    with pytest.raises(ForbiddenError, match=r"centre-1 is applied"):
        submit_in_db(services, slug)


@pytest.mark.parametrize("days", [0, -1, -400])
def test_a_review_date_must_be_in_the_future(
    services: Services, accredited: str, days: int
) -> None:
    due = (NOW + timedelta(days=days)).date().isoformat()

    with pytest.raises(InvalidInputError, match=r"nextReviewDate: expected a") as e:
        submit_in_db(services, accredited, nextReviewDate=due)

    assert e.value.errors == {"nextReviewDate": ["expected a date after 2026-12-01"]}
