"""Claim links: how a learner opens their own page in a browser, which cannot send
a bearer token (DESIGN §8, §9).

A link is `<base>/me/<secret>`. The secret carries 192 random bits and is shown
once; only its SHA-256 is stored, with the learner's id and an expiry. Invariants:
a stored hash belongs to exactly one learner, and a link past its expiry, or of a
learner whose personal data was erased, opens nothing.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import CursorResult, DateTime, LargeBinary, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from issuers.batch import RowOutcome
from issuers.errors import NotFoundError
from issuers.learners import Learner
from keys import Database
from keys.database import Base, as_utc

__all__ = [
    "CLAIM_LINK_TTL",
    "ClaimLink",
    "batch_claim_urls",
    "claim_url",
    "create_claim_link",
    "create_claim_links",
    "redeem_claim_link",
    "revoke_claim_links",
]

# Long enough for a learner to open a link e-mailed at the end of a course after a
# holiday; a learner with a token can always ask for a new one.
CLAIM_LINK_TTL = timedelta(days=90)

# Lets secret scanners recognise a leaked link secret; not a secret itself.
_PREFIX = "clm_"
# 24 bytes: 192 bits, well past the 128 an unguessable URL needs.
_SECRET_BYTES = 24
# A longer path segment is no secret of ours: refused before hashing.
_MAX_SECRET_LENGTH = 64
# Learners looked up per query: far below SQLite's limit on bound parameters.
_IDS_PER_QUERY = 500

logger = logging.getLogger(__name__)


class ClaimLink(Base):
    __tablename__ = "claim_links"

    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    learner_id: Mapped[str] = mapped_column(String(40), index=True)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def create_claim_link(
    session: Session, learner_id: str, *, created_by: str, now: datetime
) -> tuple[str, datetime]:
    """Store a new link for the learner; return its secret (never stored) and
    its expiry. `created_by` is the id of the token that asked, for audit."""
    learner = session.get(Learner, learner_id)
    if learner is None:
        raise NotFoundError(f"no learner {learner_id!r}")
    if learner.erased_at is not None:
        raise NotFoundError(f"learner {learner_id} was erased: no page to link to")

    secret = _PREFIX + secrets.token_urlsafe(_SECRET_BYTES)
    expires = now + CLAIM_LINK_TTL
    session.add(
        ClaimLink(
            secret_hash=_digest(secret),
            learner_id=learner_id,
            created_by=created_by,
            created_at=now,
            expires_at=expires,
        )
    )
    session.flush()
    logger.info("claim link for learner %s made by token %s", learner_id, created_by)
    return secret, expires


def create_claim_links(
    session: Session, learner_ids: Iterable[str], *, created_by: str, now: datetime
) -> dict[str, str]:
    """One new link for each learner of a batch, stored at once: learner id ->
    secret (never stored). Learners unknown or erased get none."""
    wanted = sorted(set(learner_ids))
    live: list[str] = []
    for start in range(0, len(wanted), _IDS_PER_QUERY):
        chunk = wanted[start : start + _IDS_PER_QUERY]
        live.extend(
            session.scalars(
                select(Learner.id).where(
                    Learner.id.in_(chunk), Learner.erased_at.is_(None)
                )
            )
        )
    secrets_by_learner = {
        learner_id: _PREFIX + secrets.token_urlsafe(_SECRET_BYTES)
        for learner_id in sorted(live)
    }
    session.add_all(
        ClaimLink(
            secret_hash=_digest(secret),
            learner_id=learner_id,
            created_by=created_by,
            created_at=now,
            expires_at=now + CLAIM_LINK_TTL,
        )
        for learner_id, secret in secrets_by_learner.items()
    )
    session.flush()
    logger.info(
        "%d claim links made by %s for a batch", len(secrets_by_learner), created_by
    )
    return secrets_by_learner


def batch_claim_urls(
    database: Database,
    outcomes: Sequence[RowOutcome],
    *,
    base_url: str,
    created_by: str,
    now: datetime,
) -> dict[int, str]:
    """Row number -> claim URL, for every row of an issued batch that has its
    credential (issued now, or before: a batch sent again may be the one whose
    answer was lost). A learner of several rows gets one link for all of them.

    One write transaction of its own, after the batch's: the credentials stand
    whatever becomes of it.
    """
    learners = {
        outcome.row: outcome.result.credential.learner_id
        for outcome in outcomes
        if outcome.result is not None
        and outcome.result.credential.learner_id is not None
    }
    if not learners:
        return {}
    with database.transaction(write=True) as session:
        made = create_claim_links(
            session, learners.values(), created_by=created_by, now=now
        )
    return {
        row: claim_url(base_url, made[learner_id])
        for row, learner_id in learners.items()
        if learner_id in made
    }


def redeem_claim_link(session: Session, secret: str, *, now: datetime) -> str:
    """The id of the learner a live link belongs to.

    Raises:
        NotFoundError: the secret is unknown, expired, or its learner is gone or
            erased. One message for all, so a guesser learns nothing.
    """
    unknown = NotFoundError("no such page")
    if not secret.startswith(_PREFIX) or len(secret) > _MAX_SECRET_LENGTH:
        raise unknown

    link = session.get(ClaimLink, _digest(secret))
    if link is None or as_utc(link.expires_at) <= now:
        raise unknown
    learner = session.get(Learner, link.learner_id)
    if learner is None or learner.erased_at is not None:
        raise unknown
    return learner.id


def revoke_claim_links(session: Session, learner_id: str) -> int:
    """Delete every link of the learner (on erasure); how many there were."""
    deleted = session.execute(
        delete(ClaimLink).where(ClaimLink.learner_id == learner_id)
    )
    assert isinstance(deleted, CursorResult)
    return deleted.rowcount


def claim_url(base_url: str, secret: str) -> str:
    """The page a claim link opens."""
    return f"{base_url.rstrip('/')}/me/{secret}"


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()
