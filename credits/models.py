"""The credit bank's tables: deposits, schools, published rule sets, transfers.

Like every table but the log's, these are projections of log entries (DESIGN §3):
`credits.deposited`, `credits.withdrawn`, `school.registered`, `ruleset.published` and
`transfer.committed`. Credits are kept as exact decimal or fraction text, never as
floats.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from keys.database import Base

__all__ = [
    "AVAILABLE",
    "DEPOSIT_STATES",
    "USED",
    "WITHDRAWN",
    "ConsentCode",
    "Deposit",
    "PublishedRuleSet",
    "School",
    "Transfer",
]

AVAILABLE = "available"
USED = "used"
WITHDRAWN = "withdrawn"
DEPOSIT_STATES = (AVAILABLE, USED, WITHDRAWN)


class Deposit(Base):
    """Credits a credential carried into a learner's account.

    `status` is available, used (consumed by `transfer_id`) or withdrawn (the
    credential was revoked; a used deposit keeps its transfer). A deposit from
    another platform keeps its `credential` as verified, to verify it again before
    a transfer counts it; one issued here has it in the credentials table.
    """

    __tablename__ = "credit_deposits"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    learner_id: Mapped[str] = mapped_column(String(40), index=True)
    credential_id: Mapped[str] = mapped_column(String(300), unique=True)
    digest: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(16))
    achievement: Mapped[str] = mapped_column(String(500))
    issuer: Mapped[str] = mapped_column(String(500))
    credits: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(16))
    eqf_level: Mapped[int | None] = mapped_column(Integer)
    issued: Mapped[date] = mapped_column(Date)
    expires: Mapped[date | None] = mapped_column(Date)
    score: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    transfer_id: Mapped[str | None] = mapped_column(String(40), index=True)
    deposited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    log_index: Mapped[int] = mapped_column(BigInteger)
    credential: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class School(Base):
    """A partner school; `did` is the identifier its rule sets name as `school`."""

    __tablename__ = "schools"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    did: Mapped[str] = mapped_column(String(500), unique=True)
    name_zh: Mapped[str | None] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    log_index: Mapped[int] = mapped_column(BigInteger)


class PublishedRuleSet(Base):
    """One published version of a school's rule set; versions are never changed."""

    __tablename__ = "rule_sets"
    __table_args__ = (UniqueConstraint("school_id", "rule_set_id", "version"),)

    key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(String(64), index=True)
    rule_set_id: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    log_index: Mapped[int] = mapped_column(BigInteger)


class Transfer(Base):
    """A committed transfer: the converter's output and the signed statement."""

    __tablename__ = "transfers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    school_id: Mapped[str] = mapped_column(String(64), index=True)
    rule_set_id: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    learner_id: Mapped[str] = mapped_column(String(40), index=True)
    learner_ref: Mapped[str] = mapped_column(String(80))
    evaluated_on: Mapped[date] = mapped_column(Date)
    output: Mapped[dict[str, Any]] = mapped_column(JSON)
    statement: Mapped[dict[str, Any]] = mapped_column(JSON)
    statement_id: Mapped[str] = mapped_column(String(100), unique=True)
    total: Mapped[str] = mapped_column(String(64))
    committed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    log_index: Mapped[int] = mapped_column(BigInteger)


class ConsentCode(Base):
    """A one-time code a learner gives one school; only its hash is stored."""

    __tablename__ = "consent_codes"

    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    learner_id: Mapped[str] = mapped_column(String(40), index=True)
    school_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
