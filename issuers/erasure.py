"""Erasing a learner (DESIGN §3): their personal data unreadable for good, the log
whole.

Erasure destroys the learner's data key (keys.store.DataKey) and sealed profile,
clears what could find or re-identify them (the DID and e-mail lookup on their row,
the award requests' digests, which hash the name and address), marks the row erased
and logs `learner.erased` naming only the pseudonymous id and a reason code.
Their credentials stay as signed, so they still verify.

Invariant (checked by `issuers.replay`): a learner is erased exactly when a
`learner.erased` entry names them, and then their row holds no DID, e-mail lookup
or sealed profile, and no data key of theirs exists.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from issuers.errors import InvalidInputError, NotFoundError
from issuers.issuance import IssuedCredential
from issuers.learners import Learner, learner_key_owner
from keys.database import Database
from keys.store import DataKey
from ledger import TransparencyLog, make_entry

__all__ = ["ERASURE_REASONS", "Erasure", "erase_learner", "reclaim_erased_space"]

# Why a learner was erased, as a code: free text could carry the very personal
# data being erased. The grounds of GDPR Art. 17(1) and PIPL Art. 47, with a plain
# request first (the usual case, whatever its legal ground).
ERASURE_REASONS = (
    "learner-request",
    "consent-withdrawn",
    "no-longer-necessary",
    "unlawful-processing",
    "legal-obligation",
)

# Issue-batch rows sent without a key are keyed by the digest of their content,
# which includes the learner's e-mail address and name (issuers.batch).
_CONTENT_KEY_PREFIX = "row:"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Erasure:
    """A learner's erasure; `created` is False when it had been done before."""

    learner_id: str
    erased_at: datetime
    reason: str
    log_index: int
    created: bool


def erase_learner(
    session: Session,
    log: TransparencyLog,
    learner_id: str,
    *,
    reason: str,
    now: datetime,
) -> Erasure:
    """Erase the learner in the caller's write transaction, or answer the earlier
    erasure unchanged (and write nothing) when they were erased already."""
    if reason not in ERASURE_REASONS:
        raise InvalidInputError(
            {"reason": f"expected one of {', '.join(ERASURE_REASONS)}, got {reason!r}"}
        )
    learner = session.get(Learner, learner_id)
    if learner is None:
        raise NotFoundError(f"no learner {learner_id!r}")
    if learner.erased_at is not None:
        return _erasure(learner, created=False)

    _zero_freed_pages(session)
    owner = learner_key_owner(learner.id)
    session.execute(delete(DataKey).where(DataKey.owner == owner))
    learner.sealed_profile = None
    learner.did = None
    learner.email_lookup = None
    # NOTE: an award sent again under the same idempotency key then finds no digest
    # to match and is refused (409): the credential exists once, for no one.
    session.execute(
        update(IssuedCredential)
        .where(IssuedCredential.learner_id == learner.id)
        .values(request_digest=None)
    )
    session.execute(
        update(IssuedCredential)
        .where(
            IssuedCredential.learner_id == learner.id,
            IssuedCredential.idempotency_key.startswith(_CONTENT_KEY_PREFIX),
        )
        .values(idempotency_key=None)
    )

    entry = make_entry("learner.erased", now, learner=learner.id, reason=reason)
    (index,) = log.append(session, [entry], now=now)
    learner.erased_at = now
    learner.erasure_reason = reason
    learner.erasure_log_index = index
    session.flush()
    logger.info("erased learner %s (%s) at log entry %d", learner.id, reason, index)
    return _erasure(learner, created=True)


def reclaim_erased_space(database: Database) -> None:
    """On SQLite, fold the write-ahead log into the database file once an erasure
    has committed, so that the zeroed pages replace the old ones on disk.

    Best effort: a reader still holding an older snapshot keeps the frames it
    reads until a later checkpoint. PostgreSQL keeps old row versions until
    VACUUM reuses their space (README.md, Erasure).
    """
    if not database.is_sqlite:
        return
    # A raw connection runs in autocommit mode (keys.database), so the checkpoint
    # is not held back by a transaction of its own.
    # https://www.sqlite.org/pragma.html#pragma_wal_checkpoint
    raw = database.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.fetchall()
        cursor.close()
    except sqlite3.Error as exc:
        # The erasure stands; a later checkpoint folds the log in.
        logger.warning("no checkpoint after an erasure: %s", exc.__class__.__name__)
    finally:
        raw.close()


def _zero_freed_pages(session: Session) -> None:
    # SQLite leaves deleted cells in free space until it is reused; secure_delete
    # overwrites them with zeros instead.
    # https://www.sqlite.org/pragma.html#pragma_secure_delete
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA secure_delete = ON")


def _erasure(learner: Learner, *, created: bool) -> Erasure:
    assert learner.erased_at is not None
    assert learner.erasure_reason is not None
    assert learner.erasure_log_index is not None
    erased_at = learner.erased_at
    # SQLite hands back naive datetimes; what is stored is always UTC.
    if erased_at.tzinfo is None:
        erased_at = erased_at.replace(tzinfo=UTC)
    return Erasure(
        learner.id,
        erased_at,
        learner.erasure_reason,
        learner.erasure_log_index,
        created=created,
    )
