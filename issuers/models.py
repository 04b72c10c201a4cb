"""Tables of the registry: issuers, reviewers, reviews, achievements.

These are projections of the log (DESIGN §3): every change to them is written in the
same transaction as the log entry that records it, and `issuers.replay` rebuilds them
from the log to check.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from keys.database import Base

__all__ = ["Achievement", "Issuer", "IssuerEvent", "Review", "Reviewer"]


class Issuer(Base):
    """An organisation that applied to issue; accredited once a quorum approves."""

    __tablename__ = "issuers"

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str | None] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    legal_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    website: Mapped[str | None] = mapped_column(String(500))
    # Contact details are personal data: never logged, never shown publicly.
    contact: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accredited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # How the verification page shows learners' names: hidden, masked or full.
    learner_display: Mapped[str] = mapped_column(String(16), default="masked")


class IssuerEvent(Base):
    """One change of an issuer's status, for the trust list's history."""

    __tablename__ = "issuer_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issuer_slug: Mapped[str] = mapped_column(ForeignKey("issuers.slug"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    log_index: Mapped[int] = mapped_column(BigInteger)


class Reviewer(Base):
    """A member of the review committee and the organisations they belong to."""

    __tablename__ = "reviewers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Legal ids or slugs of organisations the reviewer belongs to.
    affiliations: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Review(Base):
    """One reviewer's vote on an issuer application or an achievement."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("subject_kind", "subject_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(64), index=True)
    reviewer_id: Mapped[str] = mapped_column(ForeignKey("reviewers.id"))
    decision: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Achievement(Base):
    """A course or micro-credential an issuer may award once approved."""

    __tablename__ = "achievements"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    issuer_slug: Mapped[str] = mapped_column(ForeignKey("issuers.slug"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    # The submission as the admission standard accepted it (API field names).
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    review_due: Mapped[date] = mapped_column(Date)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retire_reason: Mapped[str | None] = mapped_column(Text)
