"""RFC 9162 Merkle tree hashing, proofs over stored subtrees, and proof checking.

A node is named `(level, index)`: the complete subtree of the 2**level leaves starting
at leaf index * 2**level. Proof builders first work out, without any I/O, which complete
subtrees they need, read them all through one `NodeReader` call, then fold them; so a
root, an inclusion proof or a consistency proof costs one read of O(log n) nodes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from ledger.errors import LogRangeError, ProofError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "MemoryTree",
    "NodeId",
    "NodeReader",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "range_nodes",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32

# RFC 9162 §2.1.1: the hash of an empty list is the hash of an empty string.
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeId = tuple[int, int]


class NodeReader(Protocol):
    """Reads the stored hashes of complete subtrees."""

    def read_nodes(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        """Return the hash of every node in `ids`; all of them must exist."""
        ...


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 §2.1.1: MTH({d(0)}) = HASH(0x00 || d(0))."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: HASH(0x01 || MTH(left) || MTH(right))."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def range_nodes(start: int, end: int) -> list[NodeId]:
    """Split leaves [start, end) into maximal aligned complete subtrees, left first.

    For the ranges RFC 9162's recursion produces (start aligned to the next power of
    two above the range's size), folding these from the right gives MTH(D[start:end]).
    """
    nodes: list[NodeId] = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else (end - 1).bit_length()
        while start + (1 << level) > end:
            level -= 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def root_hash(size: int, reader: NodeReader) -> bytes:
    """MTH of the first `size` leaves."""
    if size == 0:
        return EMPTY_ROOT
    nodes = range_nodes(0, size)
    return _fold(nodes, reader.read_nodes(nodes))


def inclusion_proof(index: int, size: int, reader: NodeReader) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(index, D[size]), leaf's sibling first."""
    if not 0 <= index < size:
        raise LogRangeError(f"expected leaf index < tree size {size}, got {index}")
    return _hash_ranges(_inclusion_ranges(index, size), reader)


def consistency_proof(old_size: int, new_size: int, reader: NodeReader) -> list[bytes]:
    """RFC 9162 §2.1.4.1 PROOF(old_size, D[new_size]); empty when the sizes match."""
    if not 0 < old_size <= new_size:
        raise LogRangeError(
            f"expected 0 < old size <= new size, got {old_size} and {new_size}"
        )
    return _hash_ranges(_consistency_ranges(old_size, new_size), reader)


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2; raises `ProofError` unless `leaf` is at `index` of `root`."""
    if not 0 <= index < size:
        raise ProofError(f"expected leaf index < tree size {size}, got {index}")
    # Step 2: fn and sn walk up from the leaf and from the last leaf.
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise ProofError(f"inclusion proof has {len(proof)} hashes, too many")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    # Step 5.
    if sn != 0:
        raise ProofError(f"inclusion proof has {len(proof)} hashes, too few")
    if r != root:
        raise ProofError("inclusion proof does not lead to the expected root")


def verify_consistency(
    old_size: int,
    new_size: int,
    proof: Sequence[bytes],
    old_root: bytes,
    new_root: bytes,
) -> None:
    """RFC 9162 §2.1.4.2; raises `ProofError` unless the old tree prefixes the new."""
    if old_size > new_size:
        raise ProofError(f"expected old size <= new size {new_size}, got {old_size}")
    if old_size == new_size:
        if proof:
            raise ProofError("expected an empty proof between equal tree sizes")
        if old_root != new_root:
            raise ProofError("two trees of the same size have different roots")
        return
    if old_size == 0:
        # The empty tree is a prefix of every tree; nothing can be proved about it.
        if proof:
            raise ProofError("expected an empty proof from the empty tree")
        return
    # Step 1.
    if not proof:
        raise ProofError("expected a non-empty consistency proof")
    path = list(proof)
    # Step 2: a power-of-two old tree is itself a node of the new one.
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    # Steps 3 and 4.
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    # Step 5.
    fr = sr = path[0]
    # Step 6.
    for c in path[1:]:
        if sn == 0:
            raise ProofError(f"consistency proof has {len(proof)} hashes, too many")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    # Step 7.
    if sn != 0:
        raise ProofError(f"consistency proof has {len(proof)} hashes, too few")
    if fr != old_root:
        raise ProofError("consistency proof does not lead to the old root")
    if sr != new_root:
        raise ProofError("consistency proof does not lead to the new root")


class CompactRange:
    """The right border of a tree: the roots of its maximal complete subtrees.

    Appending a leaf merges equal-sized subtrees; every node it completes is reported,
    which is how the log learns which subtree hashes to store.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        ids = range_nodes(0, size)
        if len(ids) != len(hashes):
            raise LogRangeError(
                f"expected {len(ids)} border hashes for size {size}, got {len(hashes)}"
            )
        self.size = size
        self._stack: list[tuple[int, bytes]] = [
            (level, h) for (level, _), h in zip(ids, hashes, strict=True)
        ]

    @property
    def hashes(self) -> list[bytes]:
        return [h for _, h in self._stack]

    def append(self, leaf: bytes) -> list[tuple[NodeId, bytes]]:
        """Add one leaf hash; return every node it completes, the leaf first."""
        index = self.size
        completed = [((0, index), leaf)]
        level, current = 0, leaf
        while self._stack and self._stack[-1][0] == level:
            _, left = self._stack.pop()
            current = node_hash(left, current)
            level += 1
            completed.append(((level, index >> level), current))
        self._stack.append((level, current))
        self.size += 1
        return completed

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        result = self._stack[-1][1]
        for _, h in reversed(self._stack[:-1]):
            result = node_hash(h, result)
        return result


class MemoryTree:
    """A whole tree in memory: for checking, tests and small offline jobs."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self._nodes: dict[NodeId, bytes] = {}
        self._border = CompactRange()
        for leaf in leaves:
            self.append(leaf)

    @property
    def size(self) -> int:
        return self._border.size

    def append(self, leaf: bytes) -> None:
        self._nodes.update(self._border.append(leaf))

    def read_nodes(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        return {node: self._nodes[node] for node in ids}

    def root(self) -> bytes:
        return self._border.root()


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    # RFC 9162 §2.1.3.1, walked top-down; the wire order is bottom-up.
    ranges = []
    start, end = 0, size
    while end - start > 1:
        k = _largest_power_of_two_below(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    return ranges[::-1]


def _consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    # RFC 9162 §2.1.4.1 SUBPROOF, walked top-down; the wire order is bottom-up.
    ranges = []
    start, end, m, complete = 0, new_size, old_size, True
    while m != end - start:
        k = _largest_power_of_two_below(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            m -= k
            complete = False
    if not complete:
        ranges.append((start, end))
    return ranges[::-1]


def _hash_ranges(ranges: list[tuple[int, int]], reader: NodeReader) -> list[bytes]:
    per_range = [range_nodes(start, end) for start, end in ranges]
    wanted = sorted({node for nodes in per_range for node in nodes})
    hashes = reader.read_nodes(wanted)
    return [_fold(nodes, hashes) for nodes in per_range]


def _fold(nodes: Sequence[NodeId], hashes: Mapping[NodeId, bytes]) -> bytes:
    result = hashes[nodes[-1]]
    for node in reversed(nodes[:-1]):
        result = node_hash(hashes[node], result)
    return result


def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)
