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
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import BigInteger, DateTime, LargeBinary, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from issuers.errors import ConflictError, NotFoundError
from keys import KeyStore, KeyStoreError
from keys.database import Base
from keys.store import DataKey

__all__ = [
    "Learner",
    "LearnerBook",
    "LearnerProfile",
    "email_lookup_key",
    "find_or_create_learner",
    "learner_key_owner",
    "learner_profile",
    "register_learner_did",
    "registrable_learner",
]

_LOOKUP_KEY_OWNER = "service:learner-lookup"
_NONCE_SIZE = 12
# Ids looked up per query: far below SQLite's 32,766 bound parameters.
_IDS_PER_QUERY = 500


class Learner(Base):
    __tablename__ = "learners"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    did: Mapped[str | None] = mapped_column(String(500), index=True)
    email_lookup: Mapped[bytes | None] = mapped_column(LargeBinary(32), index=True)
    sealed_profile: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set with erased_at by issuers.erasure: why, and the `learner.erased` entry.
    erasure_reason: Mapped[str | None] = mapped_column(String(32))
    erasure_log_index: Mapped[int | None] = mapped_column(BigInteger)


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
    book = LearnerBook(session, keystore, now=now)
    learner = book.find_or_create(did=did, email=email, name=name)
    book.store()
    return learner


class LearnerBook:
    """The learners of many awards in one write transaction.

    `preload` finds the learners of a whole chunk with one query per kind of id, and
    a learner made here waits, with its data key, for `store()` to insert them all at
    once. Invariants: every learner found or made is indexed by its DID and e-mail
    lookup, and a preloaded id that is not indexed belongs to no learner; `undo(mark)`
    forgets what was done since `mark()`: learners and data keys made, profiles
    sealed (an existing learner's is put back as it was), the lookup key. Nothing
    else is written before `store()`, but for a data key or the lookup key made
    for the service on first use, which stays, unused, if its award is refused.
    What is stored is kept: `undo` does not reach back past `store()`.
    """

    def __init__(self, session: Session, keystore: KeyStore, *, now: datetime) -> None:
        self._session = session
        self._keystore = keystore
        self._now = now
        self._lookup_key: bytes | None = None
        self._by_did: dict[str, Learner] = {}
        self._by_lookup: dict[bytes, Learner] = {}
        self._searched_dids: set[str] = set()
        self._searched_lookups: set[bytes] = set()
        # Made here and not yet stored: learners, and data keys by owner.
        self._learners: dict[str, Learner] = {}
        self._keys: dict[str, tuple[DataKey, bytes]] = {}
        self._journal: list[_Undo] = []

    def preload(self, *, dids: Collection[str], emails: Collection[str]) -> None:
        """Find every learner with one of these DIDs or e-mail addresses."""
        self._search(Learner.did, sorted(set(dids) - self._searched_dids))
        self._searched_dids.update(dids)
        if not emails:
            return
        # Without a lookup key, no learner has an e-mail lookup to find.
        key = self._keystore.existing_data_key(self._session, _LOOKUP_KEY_OWNER)
        if key is None:
            return
        self._lookup_key = key
        lookups = {_email_lookup(key, email) for email in emails}
        self._search(Learner.email_lookup, sorted(lookups - self._searched_lookups))
        self._searched_lookups.update(lookups)

    def find_or_create(
        self, *, did: str | None, email: str | None, name: str | None
    ) -> Learner:
        """The learner with this DID (else this e-mail address), made if new."""
        lookup = _email_lookup(self._email_key(), email) if email else None
        if did:
            learner = self._by_did.get(did)
            if learner is None and did not in self._searched_dids:
                learner = self._find(Learner.did == did)
        else:
            learner = self._by_lookup.get(lookup) if lookup else None
            if learner is None and lookup not in self._searched_lookups:
                learner = self._find(Learner.email_lookup == lookup)

        if learner is None:
            learner = Learner(
                id="lrn_" + secrets.token_hex(12),
                did=did,
                email_lookup=lookup,
                created_at=self._now,
            )
            self._learners[learner.id] = learner
            self._journal.append(_Undo(learner=learner))
            self._index(learner)
        if (name or email) and learner.erased_at is None:
            self._seal(learner, {"name": name, "email": email})
        return learner

    def mark(self) -> int:
        """A point to `undo` back to."""
        return len(self._journal)

    def undo(self, mark: int) -> None:
        """Forget what was made since `mark` (see the class docstring)."""
        while len(self._journal) > mark:
            step = self._journal.pop()
            if step.learner is not None:
                del self._learners[step.learner.id]
                self._unindex(step.learner)
            if step.key_owner is not None:
                del self._keys[step.key_owner]
            if step.sealed is not None:
                step.sealed.sealed_profile = step.previous_profile
            if step.lookup_key:
                self._lookup_key = None

    def store(self) -> None:
        """Insert the learners and data keys made so far."""
        if not (self._learners or self._keys):
            return
        self._session.add_all(row for row, _ in self._keys.values())
        self._session.add_all(self._learners.values())
        self._session.flush()
        self._learners.clear()
        self._keys.clear()
        self._journal.clear()

    def _email_key(self) -> bytes:
        if self._lookup_key is None:
            self._lookup_key = email_lookup_key(
                self._session, self._keystore, now=self._now
            )
            self._journal.append(_Undo(lookup_key=True))
        return self._lookup_key

    def _seal(self, learner: Learner, profile: dict[str, Any]) -> None:
        owner = learner_key_owner(learner.id)
        self._journal.append(
            _Undo(sealed=learner, previous_profile=learner.sealed_profile)
        )
        if learner.id not in self._learners:
            key = self._keystore.data_key(self._session, owner, now=self._now)
            learner.sealed_profile = _seal(key, learner.id, profile)
            return
        # A learner made here cannot have a key in the database yet.
        made = self._keys.get(owner)
        if made is None:
            made = self._keystore.new_data_key(owner, now=self._now)
            self._keys[owner] = made
            self._journal.append(_Undo(key_owner=owner))
        learner.sealed_profile = _seal(made[1], learner.id, profile)

    def _search(self, column: Any, values: list[Any]) -> None:
        for start in range(0, len(values), _IDS_PER_QUERY):
            chunk = values[start : start + _IDS_PER_QUERY]
            for learner in self._session.scalars(
                select(Learner).where(column.in_(chunk))
            ):
                self._index(learner)

    def _find(self, condition: Any) -> Learner | None:
        learner = self._session.scalars(
            select(Learner).where(condition).limit(1)
        ).first()
        if learner is not None:
            self._index(learner)
        return learner

    def _index(self, learner: Learner) -> None:
        # The first one found stays: the database holds at most one per id in use.
        if learner.did:
            self._by_did.setdefault(learner.did, learner)
        if learner.email_lookup:
            self._by_lookup.setdefault(learner.email_lookup, learner)

    def _unindex(self, learner: Learner) -> None:
        if learner.did and self._by_did.get(learner.did) is learner:
            del self._by_did[learner.did]
        if (
            learner.email_lookup
            and self._by_lookup.get(learner.email_lookup) is learner
        ):
            del self._by_lookup[learner.email_lookup]


def registrable_learner(session: Session, learner_id: str) -> Learner:
    """The learner, who may register a DID: known, and not erased.

    Raises:
        NotFoundError: no such learner, or one that was erased (the same answer,
            as for claim links).
    """
    learner = session.get(Learner, learner_id)
    if learner is None or learner.erased_at is not None:
        raise NotFoundError(f"no learner {learner_id!r}")
    return learner


def register_learner_did(session: Session, learner_id: str, did: str) -> bool:
    """Store `did` (whose control the caller has verified) as the learner's DID;
    whether it changed anything.

    A learner keeps the DID they are known by: awards to it find them, and their
    credentials name it. So a DID is set only on a learner without one, and only
    when no other learner is known by it.

    Raises:
        NotFoundError: as `registrable_learner`.
        ConflictError: another learner is known by `did`, or this one by another
            DID.
    """
    learner = registrable_learner(session, learner_id)
    if learner.did == did:
        return False
    if learner.did is not None:
        raise ConflictError(
            f"expected a learner without a DID, got one known by {learner.did}"
        )
    other = session.scalar(
        select(Learner.id).where(Learner.did == did, Learner.id != learner_id)
    )
    if other is not None:
        raise ConflictError(f"{did} is the DID of another learner")
    learner.did = did
    session.flush()
    return True


def email_lookup_key(session: Session, keystore: KeyStore, *, now: datetime) -> bytes:
    """The service-wide key of the e-mail lookup HMAC, created on first use."""
    return keystore.data_key(session, _LOOKUP_KEY_OWNER, now=now)


def learner_profile(
    session: Session, keystore: KeyStore, learner: Learner
) -> LearnerProfile | None:
    """The learner's personal data, or None once erased (or never given)."""
    if learner.sealed_profile is None:
        return None
    key = keystore.existing_data_key(session, learner_key_owner(learner.id))
    if key is None:
        return None
    blob = learner.sealed_profile
    try:
        data = AESGCM(key).decrypt(
            blob[:_NONCE_SIZE], blob[_NONCE_SIZE:], learner.id.encode()
        )
    except InvalidTag as exc:
        raise KeyStoreError(
            f"the sealed profile of learner {learner.id} does not open with its "
            "data key (altered, or moved from another learner's row)"
        ) from exc
    fields: dict[str, Any] = json.loads(data)
    return LearnerProfile(fields.get("name"), fields.get("email"))


def learner_key_owner(learner_id: str) -> str:
    """The owner of a learner's data key in the key store."""
    return f"learner:{learner_id}"


def _seal(key: bytes, learner_id: str, profile: dict[str, Any]) -> bytes:
    nonce = secrets.token_bytes(_NONCE_SIZE)
    plain = json.dumps(profile, ensure_ascii=False).encode()
    return nonce + AESGCM(key).encrypt(nonce, plain, learner_id.encode())


def _email_lookup(key: bytes, email: str) -> bytes:
    normalised = email.strip().lower().encode()
    return hmac.new(key, normalised, hashlib.sha256).digest()


@dataclass(frozen=True)
class _Undo:
    """One step of a `LearnerBook`'s journal: what to forget to undo it."""

    learner: Learner | None = None
    key_owner: str | None = None
    sealed: Learner | None = None
    previous_profile: bytes | None = None
    lookup_key: bool = False
