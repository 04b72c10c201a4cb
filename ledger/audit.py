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

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.checkpoints import open_checkpoint
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
    def __init__(self, discrepancy: Discrepancy) -> None:
        super().__init__(str(discrepancy))
        self.discrepancy = discrepancy


def audit_log(session: Session, verifiers: list[NoteVerifier]) -> AuditReport:
    """Re-derive the whole log from its entries and check it against what is stored."""
    counts = {"entries": 0, "checkpoints": 0}
    root = EMPTY_ROOT
    try:
        head = session.get(LogHead, HEAD_ID)
        if head is None:
            raise _Found(Discrepancy("head", None, "the log head row is missing"))
        size = _check_entries(session)
        counts["entries"] = size
        _check_nodes(session, size)
        root = root_hash(size, StoredNodes(session))
        counts["checkpoints"] = _check_checkpoints(
            session, size, head.origin, verifiers
        )
        _check_head(session, head, size, root)
    except _Found as found:
        return AuditReport(
            counts["entries"], counts["checkpoints"], root, found.discrepancy
        )
    logger.info("audit clean: %d entries", size)
    return AuditReport(counts["entries"], counts["checkpoints"], root, None)


def _check_entries(session: Session) -> int:
    # Steps 1 and 2: stream entries and leaves side by side.
    expected = 0
    leaves = _stream(
        session,
        select(LogNode.idx, LogNode.hash)
        .where(LogNode.level == 0)
        .order_by(LogNode.idx),
    )
    for idx, data in _stream(
        session, select(LogEntry.idx, LogEntry.data).order_by(LogEntry.idx)
    ):
        if idx != expected:
            raise _Found(
                Discrepancy(
                    f"entry {expected}",
                    expected,
                    f"missing; next stored index is {idx}",
                )
            )
        try:
            parse_entry(data)
        except LedgerError as exc:
            raise _Found(Discrepancy(f"entry {idx}", idx, str(exc))) from exc
        leaf = next(leaves, None)
        if leaf is None or leaf[0] != idx:
            raise _Found(Discrepancy(f"entry {idx}", idx, "no stored leaf hash"))
        if leaf_hash(data) != leaf[1]:
            raise _Found(
                Discrepancy(
                    f"entry {idx}",
                    idx,
                    "entry bytes do not hash to the stored leaf hash",
                )
            )
        expected += 1
    extra = next(leaves, None)
    if extra is not None:
        raise _Found(
            Discrepancy(f"leaf {extra[0]}", extra[0], "stored leaf hash has no entry")
        )
    return expected


def _check_nodes(session: Session, size: int) -> None:
    # Step 3: level L is checked against level L-1, already known to be right.
    level = 1
    while size >> level:
        width = size >> level
        children = _stream(
            session,
            select(LogNode.idx, LogNode.hash)
            .where(LogNode.level == level - 1)
            .order_by(LogNode.idx),
        )
        parents = _stream(
            session,
            select(LogNode.idx, LogNode.hash)
            .where(LogNode.level == level)
            .order_by(LogNode.idx),
        )
        for expected in range(width):
            left, right = next(children), next(children)
            parent = next(parents, None)
            first = expected << level
            where = f"node at level {level} over entries {first}..{first + (1 << level) - 1}"
            if parent is None or parent[0] != expected:
                raise _Found(Discrepancy(where, first, "missing"))
            if node_hash(left[1], right[1]) != parent[1]:
                raise _Found(
                    Discrepancy(where, first, "hash does not match its children")
                )
        extra = next(parents, None)
        if extra is not None:
            raise _Found(
                Discrepancy(
                    f"node at level {level} index {extra[0]}", None, "beyond the tree"
                )
            )
        level += 1
    stray = session.scalar(
        select(func.count()).select_from(LogNode).where(LogNode.level >= level)
    )
    if stray:
        raise _Found(
            Discrepancy(
                f"nodes at level {level} and above", None, f"{stray} beyond the tree"
            )
        )


def _check_checkpoints(
    session: Session, size: int, origin: str, verifiers: list[NoteVerifier]
) -> int:
    # Step 4.
    reader = StoredNodes(session)
    trusted = [v for v in verifiers if v.name == origin]
    previous: tuple[int, bytes] | None = None
    count = 0
    for row in session.scalars(
        select(LogCheckpoint).order_by(LogCheckpoint.tree_size)
    ).yield_per(_CHUNK):
        where = f"checkpoint at size {row.tree_size}"
        if row.tree_size > size:
            raise _Found(
                Discrepancy(where, row.tree_size, f"beyond the tree of {size} entries")
            )
        try:
            checkpoint = _open_with_any(row.note, trusted)
        except LedgerError as exc:
            raise _Found(Discrepancy(where, row.tree_size, str(exc))) from exc
        if checkpoint.size != row.tree_size or checkpoint.root_hash != row.root_hash:
            raise _Found(
                Discrepancy(where, row.tree_size, "signed note disagrees with its row")
            )
        if root_hash(checkpoint.size, reader) != checkpoint.root_hash:
            raise _Found(
                Discrepancy(where, row.tree_size, "root does not match the tree")
            )
        if previous is not None and previous[0] > 0:
            old_size, old_root = previous
            try:
                verify_consistency(
                    old_size,
                    checkpoint.size,
                    consistency_proof(old_size, checkpoint.size, reader),
                    old_root,
                    checkpoint.root_hash,
                )
            except LedgerError as exc:
                raise _Found(
                    Discrepancy(
                        where,
                        row.tree_size,
                        f"not consistent with size {old_size}: {exc}",
                    )
                ) from exc
        previous = (checkpoint.size, checkpoint.root_hash)
        count += 1
    return count


def _check_head(session: Session, head: LogHead, size: int, root: bytes) -> None:
    # Step 5.
    if head.tree_size != size or head.root_hash != root:
        raise _Found(
            Discrepancy(
                "head",
                size,
                f"says size {head.tree_size}; the entries make {size} with another root"
                if head.tree_size != size
                else "root does not match the tree",
            )
        )
    if session.get(LogCheckpoint, size) is None:
        raise _Found(
            Discrepancy("head", size, f"no checkpoint signed at the head's size {size}")
        )


def _open_with_any(note: str, verifiers: list[NoteVerifier]):  # type: ignore[no-untyped-def]
    last: LedgerError = LedgerError("no log key to check checkpoints with")
    for verifier in verifiers:
        try:
            return open_checkpoint(note, verifier)
        except LedgerError as exc:
            last = exc
    raise last


def _stream(session: Session, query) -> Iterator[tuple]:  # type: ignore[no-untyped-def,type-arg]
    for row in session.execute(query.execution_options(yield_per=_CHUNK)):
        yield tuple(row)
