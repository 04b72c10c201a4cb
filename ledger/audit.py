"""Auditing a stored log from scratch (DESIGN §3, `credbank log audit`).

The audit trusts nothing stored but the log's public key. In order it checks that:
1. entry indexes run 0..n-1 and every entry is canonical JSON;
2. every stored leaf hash is the hash of its entry;
3. every stored inner node is the hash of its two children, level by level;
4. every checkpoint is signed by the log key, names the log, has the root the tree
   gives at its size, and is consistent with the checkpoint before it;
5. the head agrees with the tree and with the newest checkpoint.
It stops at the first discrepancy, naming the entry index, node or tree size.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ledger.checkpoints import Checkpoint, open_checkpoint
from ledger.entries import parse_entry
from ledger.errors import LedgerError
from ledger.log import HEAD_ID, StoredNodes
from ledger.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
)
from ledger.models import LogCheckpoint, LogEntry, LogHead, LogNode
from ledger.notes import NoteVerifier

__all__ = ["AuditReport", "Discrepancy", "audit_log"]

# Rows fetched per round trip while streaming the tables.
_CHUNK = 5000

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Discrepancy:
    """The first thing the audit found wrong."""

    where: str
    index: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class AuditReport:
    """How much was checked, and the first discrepancy if any."""

    entries: int
    checkpoints: int
    root_hash: bytes
    discrepancy: Discrepancy | None

    @property
    def is_clean(self) -> bool:
        return self.discrepancy is None


class _Found(LedgerError):
    """Raised inside the audit to stop at the first discrepancy."""

    def __init__(self, where: str, index: int | None, message: str) -> None:
        self.discrepancy = Discrepancy(where, index, message)
        super().__init__(str(self.discrepancy))


def audit_log(session: Session, verifiers: list[NoteVerifier]) -> AuditReport:
    """Re-derive the whole log from its entries and check it against what is stored."""
    size = checkpoints = 0
    root = EMPTY_ROOT
    try:
        head = session.get(LogHead, HEAD_ID)
        if head is None:
            raise _Found("head", None, "the log head row is missing")
        size = _check_entries(session)
        _check_nodes(session, size)
        root = root_hash(size, StoredNodes(session))
        checkpoints = _check_checkpoints(session, size, head.origin, verifiers)
        _check_head(session, head, size, root)
    except _Found as found:
        return AuditReport(size, checkpoints, root, found.discrepancy)
    logger.info("audit clean: %d entries, %d checkpoints", size, checkpoints)
    return AuditReport(size, checkpoints, root, None)


def _check_entries(session: Session) -> int:
    # Steps 1 and 2: stream entries and leaf hashes side by side.
    leaves = _stream(session, _level_query(0))
    entries = _stream(
        session, select(LogEntry.idx, LogEntry.data).order_by(LogEntry.idx)
    )
    expected = 0
    for idx, data in entries:
        where = f"entry {expected}"
        if idx != expected:
            raise _Found(where, expected, f"missing; next stored index is {idx}")
        try:
            parse_entry(data)
        except LedgerError as exc:
            raise _Found(where, idx, str(exc)) from exc
        leaf = next(leaves, None)
        if leaf is None or leaf[0] != idx:
            raise _Found(where, idx, "no stored leaf hash")
        if leaf_hash(data) != leaf[1]:
            raise _Found(where, idx, "entry bytes do not hash to the stored leaf")
        expected += 1
    extra = next(leaves, None)
    if extra is not None:
        raise _Found(f"leaf {extra[0]}", extra[0], "stored leaf hash has no entry")
    return expected


def _check_nodes(session: Session, size: int) -> None:
    # Step 3: level L is checked against level L-1, which is already known to be
    # right and complete, so `children` always has two nodes per parent.
    level = 1
    while size >> level:
        children = _stream(session, _level_query(level - 1))
        parents = _stream(session, _level_query(level))
        for expected in range(size >> level):
            (_, left), (_, right) = next(children), next(children)
            parent = next(parents, None)
            first = expected << level
            last = first + (1 << level) - 1
            where = f"node at level {level} over entries {first}..{last}"
            if parent is None or parent[0] != expected:
                raise _Found(where, first, "missing")
            if node_hash(left, right) != parent[1]:
                raise _Found(where, first, "hash does not match its children")
        extra = next(parents, None)
        if extra is not None:
            where = f"node at level {level} index {extra[0]}"
            raise _Found(where, None, "beyond the tree")
        level += 1
    stray = session.scalar(
        select(func.count()).select_from(LogNode).where(LogNode.level >= level)
    )
    if stray:
        raise _Found(f"level {level} and above", None, f"{stray} nodes beyond the tree")


def _check_checkpoints(
    session: Session, size: int, origin: str, verifiers: list[NoteVerifier]
) -> int:
    # Step 4.
    reader = StoredNodes(session)
    trusted = [v for v in verifiers if v.name == origin]
    rows = session.scalars(
        select(LogCheckpoint).order_by(LogCheckpoint.tree_size)
    ).yield_per(_CHUNK)
    previous: Checkpoint | None = None
    count = 0
    for row in rows:
        where = f"checkpoint at size {row.tree_size}"
        if row.tree_size > size:
            raise _Found(where, row.tree_size, f"beyond the tree of {size} entries")
        try:
            checkpoint = _open_with_any(row.note, trusted)
        except LedgerError as exc:
            raise _Found(where, row.tree_size, str(exc)) from exc
        if (checkpoint.size, checkpoint.root_hash) != (row.tree_size, row.root_hash):
            raise _Found(where, row.tree_size, "signed note disagrees with its row")
        if root_hash(checkpoint.size, reader) != checkpoint.root_hash:
            raise _Found(where, row.tree_size, "root does not match the tree")
        if previous is not None and previous.size > 0:
            proof = consistency_proof(previous.size, checkpoint.size, reader)
            try:
                verify_consistency(
                    previous.size,
                    checkpoint.size,
                    proof,
                    previous.root_hash,
                    checkpoint.root_hash,
                )
            except LedgerError as exc:
                message = f"not consistent with size {previous.size}: {exc}"
                raise _Found(where, row.tree_size, message) from exc
        previous = checkpoint
        count += 1
    return count


def _check_head(session: Session, head: LogHead, size: int, root: bytes) -> None:
    # Step 5.
    if head.tree_size != size:
        raise _Found("head", size, f"says {head.tree_size} entries; there are {size}")
    if head.root_hash != root:
        raise _Found("head", size, "root does not match the tree")
    if session.get(LogCheckpoint, size) is None:
        raise _Found("head", size, f"no checkpoint was signed at size {size}")


def _open_with_any(note: str, verifiers: list[NoteVerifier]) -> Checkpoint:
    last: LedgerError = LedgerError("no log key to check checkpoints with")
    for verifier in verifiers:
        try:
            return open_checkpoint(note, verifier)
        except LedgerError as exc:
            last = exc
    raise last


def _level_query(level: int) -> Select[tuple[int, bytes]]:
    return (
        select(LogNode.idx, LogNode.hash)
        .where(LogNode.level == level)
        .order_by(LogNode.idx)
    )


def _stream(session: Session, query: Select[Any]) -> Iterator[tuple[Any, ...]]:
    for row in session.execute(query.execution_options(yield_per=_CHUNK)):
        yield tuple(row)
