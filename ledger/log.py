"""The transparency log: appends, checkpoints and proofs over stored subtrees.

Invariants (DESIGN §3):
- entries have contiguous indexes from 0; entry i's leaf hash is node (0, i);
- every complete subtree of the tree is stored as a node, so any root or proof for any
  size up to the head is one read of O(log n) nodes;
- appends run under the head row's lock (the caller's write transaction), and each
  append ends with a checkpoint, signed only after proving it consistent with the
  previous one; every checkpoint is kept.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from keys.signers import Signer
from ledger.checkpoints import Checkpoint
from ledger.entries import canonical_entry
from ledger.errors import LogRangeError, LogStateError, ProofError
from ledger.merkle import (
    EMPTY_ROOT,
    CompactRange,
    NodeId,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    range_nodes,
    verify_consistency,
)
from ledger.models import LogCheckpoint, LogEntry, LogHead, LogNode
from ledger.notes import NoteVerifier, sign_note
from ledger.proofs import TLogProof

__all__ = [
    "HEAD_ID",
    "MAX_PAGE",
    "AppendHook",
    "Head",
    "StoredNodes",
    "TransparencyLog",
]

HEAD_ID = 1

# The most entries one `read_entries` call returns: about 1-2 MB of JSON at typical
# entry sizes, small enough for one HTTP response.
MAX_PAGE = 1000

# Told of each append's entries, in the appending transaction (metrics count them).
AppendHook = Callable[[Session, Sequence[Mapping[str, Any]]], None]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Head:
    """The log's size and root as stored in the head row."""

    origin: str
    size: int
    root_hash: bytes


class StoredNodes:
    """A `NodeReader` over the log_nodes table, one query per call.

    With `tree_size`, the same query also reads the head, and asking for nodes of a
    tree larger than the log is a `LogRangeError` rather than a missing node.
    """

    def __init__(self, session: Session, *, tree_size: int | None = None) -> None:
        self._session = session
        self._tree_size = tree_size

    def read_nodes(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        checking = self._tree_size is not None
        if not ids:
            if checking:
                self._check_head(_head_size(self._session))
            return {}
        params: dict[str, int] = {}
        for n, (level, idx) in enumerate(ids):
            params[f"level{n}"] = level
            params[f"idx{n}"] = idx
        rows = self._session.execute(_nodes_query(len(ids), checking), params).all()
        if checking:
            self._check_head(rows[0][3] if rows else _head_size(self._session))
        found = {(row[0], row[1]): row[2] for row in rows}
        missing = [node for node in ids if node not in found]
        if missing:
            raise LogStateError(f"stored tree lacks node {missing[0]}")
        return found

    def _check_head(self, head_size: int) -> None:
        assert self._tree_size is not None
        if not 0 < self._tree_size <= head_size:
            raise LogRangeError(
                f"expected a tree size from 1 to {head_size}, got {self._tree_size}"
            )


class TransparencyLog:
    """One log: its origin (the note key name) and the signer of its checkpoints."""

    def __init__(
        self, origin: str, signer: Signer, *, on_append: AppendHook | None = None
    ) -> None:
        self.origin = origin
        self._signer = signer
        self._on_append = on_append
        self.verifier = NoteVerifier.from_public_key(origin, signer.public_key)

    @property
    def verifier_key(self) -> str:
        """The signed-note verifier key that checks this log's checkpoints."""
        return str(self.verifier)

    def initialise(self, session: Session, *, now: datetime) -> None:
        """Create the empty log and its size-0 checkpoint, once; check the origin."""
        row = session.execute(
            select(LogHead.origin).where(LogHead.id == HEAD_ID)
        ).first()
        if row is not None:
            if row.origin != self.origin:
                raise LogStateError(
                    f"expected log origin {row.origin!r} (as stored), "
                    f"got {self.origin!r} from the configuration"
                )
            return
        session.execute(
            insert(LogHead).values(
                id=HEAD_ID,
                origin=self.origin,
                tree_size=0,
                root_hash=EMPTY_ROOT,
                updated_at=now,
            )
        )
        self._store_checkpoint(session, 0, EMPTY_ROOT, now)
        logger.info("created log %s", self.origin)

    def head(self, session: Session) -> Head:
        row = session.execute(
            select(LogHead.origin, LogHead.tree_size, LogHead.root_hash).where(
                LogHead.id == HEAD_ID
            )
        ).first()
        if row is None:
            raise LogStateError("the log has not been created; run credbank db upgrade")
        return Head(row.origin, row.tree_size, row.root_hash)

    def append(
        self, session: Session, entries: Sequence[Mapping[str, Any]], *, now: datetime
    ) -> list[int]:
        """Append `entries` in order and sign a checkpoint; return their indexes.

        Must run inside a write transaction; the caller commits.
        """
        blobs = [canonical_entry(entry) for entry in entries]
        if not blobs:
            return []

        old_size, old_root = self._lock_head(session)
        border = CompactRange(old_size, self._border_hashes(session, old_size))
        if border.root() != old_root:
            raise LogStateError(f"stored tree at size {old_size} disagrees with head")
        nodes: list[tuple[NodeId, bytes]] = []
        for blob in blobs:
            nodes.extend(border.append(leaf_hash(blob)))
        new_size, new_root = border.size, border.root()

        session.execute(
            insert(LogEntry),
            [{"idx": old_size + i, "data": blob} for i, blob in enumerate(blobs)],
        )
        session.execute(
            insert(LogNode),
            [{"level": lv, "idx": ix, "hash": h} for (lv, ix), h in nodes],
        )
        self._check_consistent(session, old_size, new_size, new_root)
        session.execute(
            update(LogHead)
            .where(LogHead.id == HEAD_ID)
            .values(tree_size=new_size, root_hash=new_root, updated_at=now)
        )
        self._store_checkpoint(session, new_size, new_root, now)

        logger.debug("appended entries %d..%d", old_size, new_size - 1)
        if self._on_append is not None:
            self._on_append(session, entries)
        return list(range(old_size, new_size))

    def latest_checkpoint(self, session: Session) -> LogCheckpoint:
        # Every append signs a checkpoint at the new head, so the largest is the
        # latest; one query instead of reading the head first.
        found = session.scalars(
            select(LogCheckpoint).order_by(LogCheckpoint.tree_size.desc()).limit(1)
        ).first()
        if found is None:
            raise LogStateError("the log has not been created; run credbank db upgrade")
        return found

    def checkpoint(self, session: Session, size: int) -> LogCheckpoint:
        """The checkpoint signed at exactly `size` entries."""
        found = session.get(LogCheckpoint, size)
        if found is None:
            raise LogRangeError(f"no checkpoint was signed at tree size {size}")
        return found

    def read_entries(self, session: Session, start: int, end: int) -> list[LogEntry]:
        """Entries with start <= index < end, at most MAX_PAGE of them."""
        size = self.head(session).size
        if not 0 <= start < size:
            raise LogRangeError(f"expected start < tree size {size}, got {start}")
        if end <= start:
            raise LogRangeError(f"expected end > start {start}, got {end}")
        end = min(end, size, start + MAX_PAGE)
        return list(
            session.scalars(
                select(LogEntry)
                .where(LogEntry.idx >= start, LogEntry.idx < end)
                .order_by(LogEntry.idx)
            )
        )

    def inclusion_proof(self, session: Session, index: int, size: int) -> list[bytes]:
        """RFC 9162 §2.1.3.1 audit path; one query, head check included."""
        return inclusion_proof(index, size, StoredNodes(session, tree_size=size))

    def consistency_proof(
        self, session: Session, old_size: int, new_size: int
    ) -> list[bytes]:
        """RFC 9162 §2.1.4.1 proof; one query, head check included."""
        reader = StoredNodes(session, tree_size=new_size)
        return consistency_proof(old_size, new_size, reader)

    def tlog_proof(
        self, session: Session, index: int, size: int | None = None
    ) -> TLogProof:
        """A tlog-proof of entry `index` under the checkpoint at `size` (latest)."""
        checkpoint = (
            self.latest_checkpoint(session)
            if size is None
            else self.checkpoint(session, size)
        )
        hashes = inclusion_proof(index, checkpoint.tree_size, StoredNodes(session))
        return TLogProof(index, tuple(hashes), checkpoint.note)

    def _lock_head(self, session: Session) -> tuple[int, bytes]:
        row = session.execute(
            select(LogHead.tree_size, LogHead.root_hash)
            .where(LogHead.id == HEAD_ID)
            .with_for_update()
        ).first()
        if row is None:
            raise LogStateError("the log has not been created; run credbank db upgrade")
        return row.tree_size, row.root_hash

    def _border_hashes(self, session: Session, size: int) -> list[bytes]:
        ids = range_nodes(0, size)
        found = StoredNodes(session).read_nodes(ids)
        return [found[node] for node in ids]

    def _check_consistent(
        self, session: Session, old_size: int, new_size: int, new_root: bytes
    ) -> None:
        previous = self.checkpoint(session, old_size)
        if old_size == 0:
            return
        proof = consistency_proof(old_size, new_size, StoredNodes(session))
        try:
            verify_consistency(old_size, new_size, proof, previous.root_hash, new_root)
        except ProofError as exc:
            raise LogStateError(
                f"refusing to sign size {new_size}: not consistent with the "
                f"checkpoint at size {old_size}"
            ) from exc

    def _store_checkpoint(
        self, session: Session, size: int, root: bytes, now: datetime
    ) -> None:
        text = Checkpoint(self.origin, size, root).to_text()
        note = sign_note(text, self.origin, self._signer)
        session.execute(
            insert(LogCheckpoint).values(
                tree_size=size,
                root_hash=root,
                note=note,
                key_id=self._signer.key_id,
                signed_at=now,
            )
        )


def _head_size(session: Session) -> int:
    size = session.scalar(select(LogHead.tree_size).where(LogHead.id == HEAD_ID))
    if size is None:
        raise LogStateError("the log has not been created; run credbank db upgrade")
    return size


@functools.cache
def _nodes_query(count: int, with_head: bool) -> Select[Any]:
    # NOTE: an OR of `(level = ? AND idx = ?)` terms, not the row value
    # `(level, idx) IN (VALUES ...)` that `tuple_().in_()` renders for SQLite: SQLite
    # answers that by scanning the whole table, which made every append and proof
    # O(n). Each term here is a primary-key search on SQLite and PostgreSQL alike.
    # Callers ask for about two nodes per level of the tree at most (123 at size
    # 2**62), far below SQLite's expression depth limit of 1000. The statement is
    # built once per count because building it per call cost more than running it.
    # With `with_head`, the head's size rides along as a fourth column (an
    # uncorrelated scalar subquery, evaluated once), saving a round trip.
    columns: list[Any] = [LogNode.level, LogNode.idx, LogNode.hash]
    if with_head:
        head = select(LogHead.tree_size).where(LogHead.id == HEAD_ID)
        columns.append(head.scalar_subquery())
    return select(*columns).where(
        or_(
            *(
                and_(
                    LogNode.level == bindparam(f"level{n}"),
                    LogNode.idx == bindparam(f"idx{n}"),
                )
                for n in range(count)
            )
        )
    )
