"""Tables of the transparency log.

Invariants, enforced by triggers the migrations create: entries, nodes and checkpoints
are never updated or deleted; the head row is never deleted, its origin never changes
and its tree size never shrinks.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from keys.database import Base

__all__ = ["LogCheckpoint", "LogEntry", "LogHead", "LogNode"]


class LogHead(Base):
    """The one row that says how big the log is; its lock sequences appends."""

    __tablename__ = "log_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    origin: Mapped[str] = mapped_column(String(255))
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LogEntry(Base):
    """The exact bytes of one entry, at its index."""

    __tablename__ = "log_entries"

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class LogNode(Base):
    """The hash of one complete subtree; level 0 holds the leaf hashes."""

    __tablename__ = "log_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogCheckpoint(Base):
    """Every checkpoint the log ever signed, by tree size."""

    __tablename__ = "log_checkpoints"

    tree_size: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False
    )
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
