"""Learners: a pseudonymous id, and personal data sealed under the learner's own key.

The log and the credentials name a learner only by this id, a DID, or a salted hash
of their e-mail address. Their name and address are stored encrypted with AES-256-GCM
under a data key of their own (keys.store.DataKey); destroying that key erases them.
An e-mail address is found again through an HMAC under a service-wide lookup key, so
the table holds no address in the clear.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import DateTime, LargeBinary, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from keys import KeyStore
from keys.database import Base

__all__ = ["Learner", "LearnerProfile", "find_or_create_learner", "learner_profile"]

_LOOKUP_KEY_OWNER = "service:learner-lookup"
_NONCE_SIZE = 12


class Learner(Base):
    __tablename__ = "learners"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    did: Mapped[str | None] = mapped_column(String(500), index=True)
    email_lookup: Mapped[bytes | None] = mapped_column(LargeBinary(32), index=True)
    sealed_profile: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class LearnerProfile:
    """A learner's personal data, decrypted; never logged."""

    name: str | None
    email: str | None

    def __repr__(self) -> str:
        return "LearnerProfile(<personal data>)"


def find_or_create_learner(
    session: Session,
    keystore: KeyStore,
    *,
    did: str | None,
    email: str | None,
    name: str | None,
    now: datetime,
) -> Learner:
    """The learner with this DID or e-mail address, created if new."""
    lookup = _email_lookup(session, keystore, email, now) if email else None
    query = select(Learner).where(
        Learner.did == did if did else Learner.email_lookup == lookup
    )
    learner = session.scalars(query.limit(1)).first()
    if learner is None:
        learner = Learner(
            id="lrn_" + secrets.token_hex(12),
            did=did,
            email_lookup=lookup,
            created_at=now,
        )
        session.add(learner)
        session.flush()
    if (name or email) and learner.erased_at is None:
        key = keystore.data_key(session, _owner(learner.id), now=now)
        profile = {"name": name, "email": email}
        learner.sealed_profile = _seal(key, learner.id, profile)
    return learner


def learner_profile(
    session: Session, keystore: KeyStore, learner: Learner
) -> LearnerProfile | None:
    """The learner's personal data, or None once erased (or never given)."""
    if learner.sealed_profile is None:
        return None
    key = keystore.existing_data_key(session, _owner(learner.id))
    if key is None:
        return None
    blob = learner.sealed_profile
    data = AESGCM(key).decrypt(
        blob[:_NONCE_SIZE], blob[_NONCE_SIZE:], learner.id.encode()
    )
    fields: dict[str, Any] = json.loads(data)
    return LearnerProfile(fields.get("name"), fields.get("email"))


def _owner(learner_id: str) -> str:
    return f"learner:{learner_id}"


def _seal(key: bytes, learner_id: str, profile: dict[str, Any]) -> bytes:
    nonce = secrets.token_bytes(_NONCE_SIZE)
    plain = json.dumps(profile, ensure_ascii=False).encode()
    return nonce + AESGCM(key).encrypt(nonce, plain, learner_id.encode())


def _email_lookup(
    session: Session, keystore: KeyStore, email: str, now: datetime
) -> bytes:
    key = keystore.data_key(session, _LOOKUP_KEY_OWNER, now=now)
    normalised = email.strip().lower().encode()
    return hmac.new(key, normalised, hashlib.sha256).digest()
