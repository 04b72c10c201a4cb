"""Facts from this service's own database, for credentials its issuers issued.

Reads only. The status of a credential comes from the status list's bits (what every
other verifier sees), not from the credentials table; the log answer comes from the
logged entry bytes and an inclusion proof checked against the signature of the
latest checkpoint, exactly as an outside verifier would check it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from issuers.catalogue import achievement_url
from issuers.did import did_document, issuer_did
from issuers.issuance import IssuedCredential
from issuers.learners import Learner, learner_profile
from issuers.models import Achievement, Issuer, IssuerEvent
from issuers.registry import issuer_key_owner
from issuers.status_lists import StatusList, status_list_url
from keys.errors import CredbankError
from keys.store import KeyStore, StoredKey
from ledger.checkpoints import Checkpoint, open_checkpoint
from ledger.entries import parse_entry
from ledger.log import TransparencyLog
from ledger.merkle import leaf_hash, verify_inclusion
from ledger.models import LogEntry
from verify.facts import (
    AchievementFacts,
    IssuerFacts,
    LogFacts,
    StatusReading,
    UnavailableFact,
)
from verify.resolver import Resolver

__all__ = ["LEARNER_DISPLAYS", "ServiceFacts", "mask_name", "service_resolver"]

# Learner names on the verification page, by the issuer's choice.
LEARNER_DISPLAYS = ("hidden", "masked", "full")


class ServiceFacts:
    """Answers the procedure's questions from one read transaction."""

    def __init__(
        self,
        session: Session,
        *,
        base_url: str,
        log: TransparencyLog,
        keystore: KeyStore,
    ) -> None:
        self._session = session
        self._base = base_url
        self._log = log
        self._keystore = keystore
        self._status_prefix = status_list_url(base_url, "")
        self._achievement_prefix = achievement_url(base_url, "")
        self._issuer_prefix = issuer_did(base_url, "")

    def status_bit(self, list_url: str, index: int, purpose: str) -> StatusReading:
        if not list_url.startswith(self._status_prefix):
            raise UnavailableFact(
                f"the status list {list_url} is not served here and is not fetched"
            )
        list_id = list_url.removeprefix(self._status_prefix)
        row = self._session.execute(
            select(StatusList.bits, StatusList.purpose, StatusList.length).where(
                StatusList.id == list_id
            )
        ).first()
        if row is None:
            raise UnavailableFact(f"no status list {list_id!r} here")
        bits, list_purpose, length = row
        if list_purpose != purpose or not 0 <= index < length:
            raise UnavailableFact(
                f"the entry names a {purpose} list at {index}; the list says otherwise"
            )
        # Bitstring Status List §3.2: index 0 is the most significant bit of byte 0.
        return StatusReading(bool(bits[index // 8] & (0x80 >> (index % 8))))

    def issuer(self, did: str) -> IssuerFacts | None:
        slug = self._slug(did)
        if slug is None:
            return None
        issuer = self._session.get(Issuer, slug)
        if issuer is None:
            return None
        events = self._session.execute(
            select(IssuerEvent.status, IssuerEvent.at)
            .where(IssuerEvent.issuer_slug == slug)
            .order_by(IssuerEvent.id)
        ).all()
        return IssuerFacts(
            name_zh=issuer.name_zh or issuer.name_en or "",
            name_en=issuer.name_en or issuer.name_zh or "",
            history=tuple((status, _aware(at)) for status, at in events),
            status=issuer.status,
            learner_display=issuer.learner_display,
        )

    def achievement(self, achievement_id: str) -> AchievementFacts | None:
        if not achievement_id.startswith(self._achievement_prefix):
            return None
        found = self._session.get(
            Achievement, achievement_id.removeprefix(self._achievement_prefix)
        )
        if found is None:
            return None
        name = found.definition.get("name", {})
        return AchievementFacts(
            status=found.status,
            retired_at=_aware(found.retired_at) if found.retired_at else None,
            name_zh=str(name.get("zh", "")),
            name_en=str(name.get("en", "")),
        )

    def log(self, credential_id: str | None, digest: str) -> LogFacts | None:
        if credential_id is None:
            return None
        # The secured forms are the biggest column, and nothing here reads them.
        record = self._session.get(
            IssuedCredential, credential_id, options=[defer(IssuedCredential.secured)]
        )
        if record is None:
            # Not one of ours, unless it claims one of our issuers: then a
            # credential we never logged is a forgery or a tampered id.
            return None
        data = self._session.scalar(
            select(LogEntry.data).where(LogEntry.idx == record.log_index)
        )
        if data is None:
            raise UnavailableFact("the log entry could not be read")
        try:
            entry = parse_entry(data)
        except CredbankError as exc:
            raise UnavailableFact(f"the log entry is unreadable: {exc}") from exc
        logged_at = _moment(entry.get("at"))
        learner = self._learner_name(record)
        if entry.get("credential") != credential_id or entry.get("digest") != digest:
            return LogFacts(
                included=False,
                index=None,
                logged_at=None,
                tree_size=None,
                detail="the log holds a different digest for this credential id",
            )
        checkpoint = self._checkpoint()
        proof = self._log.inclusion_proof(
            self._session, record.log_index, checkpoint.size
        )
        try:
            verify_inclusion(
                leaf_hash(data),
                record.log_index,
                checkpoint.size,
                proof,
                checkpoint.root_hash,
            )
        except CredbankError as exc:
            return LogFacts(False, None, None, None, f"inclusion proof failed: {exc}")
        return LogFacts(
            included=True,
            index=record.log_index,
            logged_at=logged_at,
            tree_size=checkpoint.size,
            learner=learner,
        )

    def _checkpoint(self) -> Checkpoint:
        note = self._log.latest_checkpoint(self._session).note
        return _open_checkpoint(note, self._log)

    def _slug(self, did: str) -> str | None:
        if not did.startswith(self._issuer_prefix):
            return None
        slug = did.removeprefix(self._issuer_prefix)
        return slug if slug and ":" not in slug else None

    def _learner_name(self, record: IssuedCredential) -> str:
        issuer = self._session.get(Issuer, record.issuer_slug)
        display = issuer.learner_display if issuer else "masked"
        if display == "hidden" or record.learner_id is None:
            return ""
        learner = self._session.get(Learner, record.learner_id)
        if learner is None:
            return ""
        try:
            profile = learner_profile(self._session, self._keystore, learner)
        except CredbankError:
            return ""
        if profile is None or not profile.name:
            return ""
        return profile.name if display == "full" else mask_name(profile.name)

    def documents(self, did: str) -> Mapping[str, Any] | None:
        slug = self._slug(did)
        if slug is None:
            return None
        owner = issuer_key_owner(slug)
        version = _key_set(
            self._session.execute(_KEY_SET.where(StoredKey.owner == owner)).tuples()
        )
        if not version:
            return None
        found = _documents.get((did, version))
        if found is not None:
            return found
        keys = list(
            self._session.scalars(
                select(StoredKey)
                .where(StoredKey.owner == owner)
                .order_by(StoredKey.created_at, StoredKey.id)
            )
        )
        if not keys:
            return None
        document = did_document(did, keys)
        # Filed under the rows it was built from: on PostgreSQL the two reads
        # above need not see the same rows.
        _remember_document(did, _key_set(_key_columns(key) for key in keys), document)
        return document


def service_resolver(
    facts: ServiceFacts, base_url: str, allowed_hosts: tuple[str, ...] = ()
) -> Resolver:
    """A resolver answering this service's DIDs from the registry."""
    return Resolver(
        local=facts.documents,
        local_prefix=issuer_did(base_url, ""),
        allowed_hosts=allowed_hosts,
    )


def mask_name(name: str) -> str:
    """Enough of a name to match a face to a certificate, not to search for:
    张三丰 → 张*丰, Wang Xiaoming → W*** X***."""
    words = name.split()
    if len(words) > 1:
        return " ".join(word[0] + "***" for word in words)
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


# What did_document reads of each key, in its order: the cache key of a DID
# document. A new key, or a key retired or reported compromised, changes it.
_KEY_SET = select(
    StoredKey.id,
    StoredKey.algorithm,
    StoredKey.public_key,
    StoredKey.state,
    StoredKey.compromised_at,
).order_by(StoredKey.created_at, StoredKey.id)

_KeyColumns = tuple[str, str, bytes, str, datetime | None]

# NOTE: callers share these documents; the resolver only reads them.
_documents: dict[tuple[str, tuple[_KeyColumns, ...]], Mapping[str, Any]] = {}
_documents_lock = threading.Lock()


def _key_columns(key: StoredKey) -> _KeyColumns:
    return (key.id, key.algorithm, key.public_key, key.state, key.compromised_at)


def _key_set(rows: Iterable[Sequence[Any]]) -> tuple[_KeyColumns, ...]:
    return tuple((str(i), str(a), bytes(p), str(s), c) for i, a, p, s, c in rows)


def _remember_document(
    did: str, version: tuple[_KeyColumns, ...], document: Mapping[str, Any]
) -> None:
    with _documents_lock:
        if len(_documents) > 256:
            _documents.clear()
        _documents[(did, version)] = document


_checkpoints: dict[str, Checkpoint] = {}
_checkpoints_lock = threading.Lock()


def _open_checkpoint(note: str, log: TransparencyLog) -> Checkpoint:
    # Checkpoints never change once signed; a verified one is remembered, so that
    # a stream of verifications checks each new checkpoint's signature once.
    found = _checkpoints.get(note)
    if found is not None:
        return found
    try:
        checkpoint = open_checkpoint(note, log.verifier)
    except CredbankError as exc:
        raise UnavailableFact(f"the checkpoint does not verify: {exc}") from exc
    with _checkpoints_lock:
        if len(_checkpoints) > 64:
            _checkpoints.clear()
        _checkpoints[note] = checkpoint
    return checkpoint


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return _aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
