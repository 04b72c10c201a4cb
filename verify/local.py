"""Facts from this service's own database, for credentials its issuers issued.

Reads only. The status of a credential comes from the status list's bits (what every
other verifier sees), not from the credentials table; the log answer comes from the
logged entry bytes and an inclusion proof checked against the signature of the
latest checkpoint, exactly as an outside verifier would check it.
"""

from __future__ import annotations

import functools
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from issuers.catalogue import achievement_url
from issuers.did import SERVICE_KEY_OWNER, did_document, issuer_did, service_did
from issuers.learners import Learner, learner_profile
from issuers.models import Issuer
from issuers.registry import issuer_key_owner
from issuers.status_lists import status_list_url
from keys.database import RowReader
from keys.errors import CredbankError
from keys.store import KeyStore, StoredKey
from ledger.checkpoints import Checkpoint, open_checkpoint
from ledger.errors import LogStateError
from ledger.log import TransparencyLog
from ledger.merkle import NodeId, inclusion_proof, leaf_hash, verify_inclusion
from ledger.notes import NoteVerifier
from verify.facts import (
    AchievementFacts,
    IssuerFacts,
    LogFacts,
    Questions,
    StatusListNotHeld,
    StatusReading,
    UnavailableFact,
)
from verify.resolver import Resolver

__all__ = ["ServiceFacts", "mask_name", "service_resolver"]

_K = TypeVar("_K")
_V = TypeVar("_V")
_Read = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]


class ServiceFacts:
    """Answers the procedure's questions from one read (`Database.reading`).

    Every question is one query on the driver's connection (`reader`, with the
    SQL below): SQLAlchemy's statement handling costs several times the query
    itself, and a verification asks about eight. `expect` reads them all at
    once, before the first is asked: on PostgreSQL, one round trip. Given the
    transaction's `session`, the log answer also carries the learner's name as
    the issuer lets it be shown (only the page shows it; decrypting it costs a
    key unwrap).
    """

    # Issuance logs `credential_digest` of each credential, and nothing else
    # answers `log` here.
    digests_are_canonical = True

    def __init__(
        self,
        reader: RowReader,
        *,
        base_url: str,
        log: TransparencyLog,
        keystore: KeyStore,
        session: Session | None = None,
    ) -> None:
        self._reader = reader
        # Answers read ahead by `expect`, by query and parameters.
        self._answers: dict[tuple[str, tuple[Any, ...]], list[tuple[Any, ...]]] = {}
        self._session = session
        self._base = base_url
        self._log = log
        self._keystore = keystore
        self._status_prefix = status_list_url(base_url, "")
        self._achievement_prefix = achievement_url(base_url, "")
        self._issuer_prefix = issuer_did(base_url, "")
        self._service_did = service_did(base_url)

    def expect(self, questions: Questions) -> None:
        """Read what the procedure will ask in one go: on PostgreSQL one round trip
        in place of seven. Each answer is read in the same `Database.reading` as
        it would be when asked, so none is older than that read."""
        asked: list[tuple[str, tuple[Any, ...]]] = [(_LATEST_CHECKPOINT, ())]
        slug = self._slug(questions.issuer) if questions.issuer else None
        if slug is not None:
            asked += [(_ISSUER, (slug,)), (_KEY_SET, (issuer_key_owner(slug),))]
        achievement = self._achievement_key(questions.achievement or "")
        if achievement is not None:
            asked.append((_ACHIEVEMENT, (achievement,)))
        if questions.credential_id is not None:
            asked.append((_RECORD, (questions.credential_id,)))
        for url in dict.fromkeys(questions.status_lists):
            list_id = self._status_list_id(url)
            if list_id is not None:
                asked.append((_STATUS_LIST, (list_id,)))
        answers = self._reader.rows_together(asked)
        self._answers.update(zip(asked, answers, strict=True))

    def _read(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        found = self._answers.get((sql, tuple(params)))
        return found if found is not None else self._reader.rows(sql, params)

    def status_bit(self, list_url: str, index: int, purpose: str) -> StatusReading:
        list_id = self._status_list_id(list_url)
        if list_id is None:
            raise StatusListNotHeld(f"the status list {list_url} is not served here")
        rows = self._read(_STATUS_LIST, (list_id,))
        if not rows:
            raise UnavailableFact(f"no status list {list_id!r} here")
        list_purpose, length, bits, issuer_slug = rows[0]
        if list_purpose != purpose or not 0 <= index < length:
            raise UnavailableFact(
                f"the entry names a {purpose} list at {index}; the list says otherwise"
            )
        # Bitstring Status List §3.2: index 0 is the most significant bit of byte 0.
        return StatusReading(
            bool(bits[index // 8] & (0x80 >> (index % 8))),
            issuer=self._issuer_prefix + issuer_slug,
        )

    def issuer(self, did: str) -> IssuerFacts | None:
        slug = self._slug(did)
        if slug is None:
            return None
        rows = self._read(_ISSUER, (slug,))
        if not rows:
            return None
        status, name_zh, name_en, display = rows[0][:4]
        return IssuerFacts(
            name_zh=name_zh or name_en or "",
            name_en=name_en or name_zh or "",
            history=tuple(
                (event, _datetime(at), index)
                for *_, event, at, index in rows
                if event is not None
            ),
            status=status,
            learner_display=display,
        )

    def achievement(self, achievement_id: str) -> AchievementFacts | None:
        key = self._achievement_key(achievement_id)
        if key is None:
            return None
        rows = self._read(_ACHIEVEMENT, (key,))
        if not rows:
            return None
        status, retired_at, definition = rows[0]
        if isinstance(definition, str):  # SQLite keeps JSON as text
            definition = json.loads(definition)
        name = definition.get("name", {}) if isinstance(definition, dict) else {}
        return AchievementFacts(
            status=status,
            retired_at=_datetime(retired_at) if retired_at else None,
            name_zh=str(name.get("zh", "")),
            name_en=str(name.get("en", "")),
        )

    def log(self, credential_id: str | None, digest: str) -> LogFacts | None:
        if credential_id is None:
            return None
        rows = self._read(_RECORD, (credential_id,))
        if not rows:
            # Not one of ours, unless it claims one of our issuers: then a
            # credential we never logged is a forgery or a tampered id.
            return None
        log_index, learner_id, issuer_slug, data = rows[0]
        if data is None:
            raise UnavailableFact("the log entry could not be read")
        # The bytes are what the inclusion proof below covers; their canonical
        # form was checked when they were appended, so plain JSON reading will do.
        try:
            entry = json.loads(data)
        except ValueError as exc:
            raise UnavailableFact("the log entry is unreadable") from exc
        if not isinstance(entry, dict):
            raise UnavailableFact("the log entry is not an object")
        logged_at = _moment(entry.get("at"))
        learner = (
            self._learner_name(self._session, issuer_slug, learner_id)
            if self._session is not None
            else ""
        )
        if entry.get("credential") != credential_id or entry.get("digest") != digest:
            return LogFacts(
                included=False,
                index=None,
                logged_at=None,
                tree_size=None,
                detail="the log holds a different digest for this credential id",
            )
        checkpoint = self._checkpoint()
        try:
            _check_inclusion(data, log_index, checkpoint, self._read)
        except CredbankError as exc:
            return LogFacts(False, None, None, None, f"inclusion proof failed: {exc}")
        return LogFacts(
            included=True,
            index=log_index,
            logged_at=logged_at,
            tree_size=checkpoint.size,
            learner=learner,
        )

    def _checkpoint(self) -> Checkpoint:
        rows = self._read(_LATEST_CHECKPOINT, ())
        if not rows:
            raise UnavailableFact("the log has no checkpoint yet")
        return _open_checkpoint(rows[0][0], self._log)

    # What each question is asked by, here: `expect` and the answers use these
    # same keys, so an answer read ahead is found again.

    def _status_list_id(self, url: str) -> str | None:
        if not url.startswith(self._status_prefix):
            return None
        return url.removeprefix(self._status_prefix)

    def _achievement_key(self, achievement_id: str) -> str | None:
        if not achievement_id.startswith(self._achievement_prefix):
            return None
        return achievement_id.removeprefix(self._achievement_prefix)

    def _slug(self, did: str) -> str | None:
        if not did.startswith(self._issuer_prefix):
            return None
        slug = did.removeprefix(self._issuer_prefix)
        return slug if slug and ":" not in slug else None

    def _learner_name(
        self, session: Session, issuer_slug: str, learner_id: str | None
    ) -> str:
        issuer = session.get(Issuer, issuer_slug)
        display = issuer.learner_display if issuer else "masked"
        if display == "hidden" or learner_id is None:
            return ""
        learner = session.get(Learner, learner_id)
        if learner is None:
            return ""
        try:
            profile = learner_profile(session, self._keystore, learner)
        except CredbankError:
            return ""
        if profile is None or not profile.name:
            return ""
        return profile.name if display == "full" else mask_name(profile.name)

    def documents(self, did: str) -> Mapping[str, Any] | None:
        if did == self._service_did:
            owner = SERVICE_KEY_OWNER
        else:
            slug = self._slug(did)
            if slug is None:
                return None
            owner = issuer_key_owner(slug)
        version = _key_set(self._read(_KEY_SET, (owner,)))
        if not version:
            return None
        found = _DOCUMENTS.get((did, version))
        if found is None:
            # did_document reads these five columns of each key, and nothing else.
            keys = [
                StoredKey(
                    id=key_id,
                    algorithm=algorithm,
                    public_key=public_key,
                    state=state,
                    compromised_at=compromised_at,
                )
                for key_id, algorithm, public_key, state, compromised_at in version
            ]
            found = did_document(did, keys)
            _DOCUMENTS.put((did, version), found)
        return found


class _RawNodes:
    """The log's stored subtree hashes, read like `ledger.log.StoredNodes` but on
    the driver's connection (one query of primary-key lookups)."""

    def __init__(self, read: _Read) -> None:
        self._read = read

    def read_nodes(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        if not ids:
            return {}
        params = [value for node in ids for value in node]
        rows = self._read(_nodes_sql(len(ids)), params)
        found = {(int(level), int(idx)): bytes(hash_) for level, idx, hash_ in rows}
        missing = [node for node in ids if node not in found]
        if missing:
            raise LogStateError(f"stored tree lacks node {missing[0]}")
        return found


@functools.cache
def _nodes_sql(count: int) -> str:
    # Primary-key terms joined by OR, as ledger/log.py explains.
    terms = " OR ".join(["(level = ? AND idx = ?)"] * count)
    # Only placeholders are joined in; the values travel as parameters.
    return f"SELECT level, idx, hash FROM log_nodes WHERE {terms}"  # noqa: S608


def service_resolver(
    facts: ServiceFacts, base_url: str, allowed_hosts: tuple[str, ...] = ()
) -> Resolver:
    """A resolver answering this service's DIDs (its own, its issuers') from the
    key store."""
    return Resolver(
        local=facts.documents,
        local_prefix=service_did(base_url),
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


# What did_document reads of each key, in its order: what a DID document is built
# from, and the key it is cached under. A new key, or a key retired or reported
# compromised, changes it.
_KEY_SET = (
    "SELECT id, algorithm, public_key, state, compromised_at FROM keys "
    "WHERE owner = ? ORDER BY created_at, id"
)

# The questions of one verification, run by `RowReader` (see ServiceFacts).
_STATUS_LIST = (
    "SELECT purpose, length, bits, issuer_slug FROM status_lists WHERE id = ?"
)
_ISSUER = (
    "SELECT i.status, i.name_zh, i.name_en, i.learner_display, e.status, e.at, "
    "e.log_index "
    "FROM issuers i LEFT JOIN issuer_events e ON e.issuer_slug = i.slug "
    "WHERE i.slug = ? ORDER BY e.id"
)
_ACHIEVEMENT = "SELECT status, retired_at, definition FROM achievements WHERE id = ?"
_RECORD = (
    "SELECT c.log_index, c.learner_id, c.issuer_slug, e.data "
    "FROM credentials c LEFT JOIN log_entries e ON e.idx = c.log_index "
    "WHERE c.id = ?"
)
_LATEST_CHECKPOINT = "SELECT note FROM log_checkpoints ORDER BY tree_size DESC LIMIT 1"

_KeyColumns = tuple[str, str, bytes, str, datetime | None]


class _Memo(Generic[_K, _V]):
    """A bounded map shared by a process's threads; the least recently used entry
    goes first. Only for answers that never change once their key is known."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[_K, _V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _K) -> _V | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: _K, value: _V) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)


# The caches of this module: every key holds all that its answer depends on, so
# none is ever stale and none needs to be told of a change.
# - DID documents, by the DID and the key rows they are built from (a new key, a
#   retirement or a compromise changes the rows). NOTE: callers share these
#   documents; the resolver only reads them.
_DOCUMENTS: _Memo[tuple[str, tuple[_KeyColumns, ...]], Mapping[str, Any]] = _Memo(256)
# - Checkpoints whose signature verified, by the log key and the note's text.
_CHECKPOINTS: _Memo[tuple[NoteVerifier, str], Checkpoint] = _Memo(64)
# - Inclusion proofs that verified, by leaf index, tree size and root hash: in an
#   append-only log the path from a leaf to a given root never changes (RFC 9162
#   §2.1.3.1), and the root hash names the tree. A new checkpoint is a new key.
_PROOFS: _Memo[tuple[int, int, bytes], tuple[bytes, ...]] = _Memo(8192)


def _key_set(rows: Iterable[Sequence[Any]]) -> tuple[_KeyColumns, ...]:
    return tuple(
        (str(i), str(a), bytes(p), str(s), _datetime(c) if c else None)
        for i, a, p, s, c in rows
    )


def _open_checkpoint(note: str, log: TransparencyLog) -> Checkpoint:
    # A stream of verifications checks each new checkpoint's signature once.
    key = (log.verifier, note)
    found = _CHECKPOINTS.get(key)
    if found is not None:
        return found
    try:
        checkpoint = open_checkpoint(note, log.verifier)
    except CredbankError as exc:
        raise UnavailableFact(f"the checkpoint does not verify: {exc}") from exc
    _CHECKPOINTS.put(key, checkpoint)
    return checkpoint


def _check_inclusion(
    data: bytes, index: int, checkpoint: Checkpoint, read: _Read
) -> None:
    """RFC 9162 §2.1.3.2: the entry `data` is leaf `index` of the checkpoint's tree.

    The proof is read from the stored subtrees once per tree, then remembered; it
    is checked against the root on every call all the same.
    """
    key = (index, checkpoint.size, checkpoint.root_hash)
    proof = _PROOFS.get(key)
    fresh = proof is None
    if proof is None:
        proof = tuple(inclusion_proof(index, checkpoint.size, _RawNodes(read)))
    verify_inclusion(
        leaf_hash(data), index, checkpoint.size, proof, checkpoint.root_hash
    )
    if fresh:
        _PROOFS.put(key, proof)


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return _aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def _datetime(value: datetime | str) -> datetime:
    """A stored time as an aware UTC datetime: SQLite hands back the text
    SQLAlchemy wrote, naive UTC; PostgreSQL a datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return _aware(value)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
