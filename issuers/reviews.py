"""Quorum voting, shared by issuer applications and achievements.

A reviewer votes once per subject and never on an organisation they belong to. A subject
is approved when `quorum` reviewers approve and none rejects; one rejection closes it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from issuers.errors import ConflictError, ForbiddenError, NotFoundError
from issuers.models import Issuer, Review, Reviewer

__all__ = ["APPROVED", "PENDING", "REJECTED", "cast_vote"]

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"


def cast_vote(
    session: Session,
    *,
    subject_kind: str,
    subject_id: str,
    organisation: Issuer,
    reviewer_id: str,
    decision: str,
    comment: str | None,
    quorum: int,
    now: datetime,
) -> str:
    """Record one vote and return the outcome so far: pending, approved or rejected."""
    reviewer = session.get(Reviewer, reviewer_id)
    if reviewer is None:
        raise NotFoundError(f"no reviewer {reviewer_id}")
    if {organisation.slug, organisation.legal_id} & set(reviewer.affiliations):
        raise ForbiddenError(
            f"reviewer {reviewer_id} belongs to {organisation.slug} and may not vote"
        )
    votes = _votes(session, subject_kind, subject_id)
    if any(vote.reviewer_id == reviewer_id for vote in votes):
        raise ConflictError(
            f"reviewer {reviewer_id} already voted on {subject_kind} {subject_id}"
        )

    vote = Review(
        subject_kind=subject_kind,
        subject_id=subject_id,
        reviewer_id=reviewer_id,
        decision=decision,
        comment=comment,
        at=now,
    )
    session.add(vote)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent duplicate vote
        raise ConflictError(f"reviewer {reviewer_id} already voted") from exc
    return outcome([*votes, vote], quorum)


def outcome(votes: list[Review], quorum: int) -> str:
    """Pending, approved or rejected, from the votes cast so far."""
    if any(vote.decision == "reject" for vote in votes):
        return REJECTED
    if sum(vote.decision == "approve" for vote in votes) >= quorum:
        return APPROVED
    return PENDING


def _votes(session: Session, subject_kind: str, subject_id: str) -> list[Review]:
    return list(
        session.scalars(
            select(Review)
            .where(Review.subject_kind == subject_kind, Review.subject_id == subject_id)
            .order_by(Review.id)
        )
    )
