"""ledger.merkle against RFC 9162's recursive definitions, and proof properties."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import (
    EMPTY_ROOT,
    CompactRange,
    LogRangeError,
    MemoryTree,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from ledger.merkle import range_nodes

MAX_SIZE = 3000

PROPERTIES = settings(max_examples=150, deadline=None)


def _data(index: int) -> bytes:
    return f"entry {index}".encode()


@cache
def _big_tree() -> MemoryTree:
    """One tree of MAX_SIZE leaves; every smaller tree is a prefix of it."""
    return MemoryTree(leaf_hash(_data(i)) for i in range(MAX_SIZE))


@cache
def _root(size: int) -> bytes:
    return root_hash(size, _big_tree())


# RFC 9162 §2.1 written as literally as possible, over leaf hashes, as an oracle.


def _k(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _mth(leaves: Sequence[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = _k(len(leaves))
    return node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


def _path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = _k(len(leaves))
    if m < k:
        return [*_path(m, leaves[:k]), _mth(leaves[k:])]
    return [*_path(m - k, leaves[k:]), _mth(leaves[:k])]


def _subproof(m: int, leaves: Sequence[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [_mth(leaves)]
    k = _k(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], whole), _mth(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), _mth(leaves[:k])]


def _flip(proof: list[bytes], position: int, bit: int) -> list[bytes]:
    changed = bytearray(proof[position])
    changed[bit // 8] ^= 1 << (bit % 8)
    return [*proof[:position], bytes(changed), *proof[position + 1 :]]


# --- against the recursive definitions -----------------------------------------

SMALL = 40


def test_roots_match_rfc_definition_for_every_size_up_to_40() -> None:
    leaves = [leaf_hash(_data(i)) for i in range(SMALL)]

    for size in range(SMALL + 1):
        want = _mth(leaves[:size])
        assert root_hash(size, _big_tree()) == want, size
        assert MemoryTree(leaves[:size]).root() == want, size


def test_inclusion_proofs_match_rfc_definition_for_every_leaf_up_to_40() -> None:
    leaves = [leaf_hash(_data(i)) for i in range(SMALL)]

    for size in range(1, SMALL + 1):
        for index in range(size):
            want = _path(index, leaves[:size])
            assert inclusion_proof(index, size, _big_tree()) == want, (index, size)


def test_consistency_proofs_match_rfc_definition_for_every_pair_up_to_40() -> None:
    leaves = [leaf_hash(_data(i)) for i in range(SMALL)]

    for new in range(1, SMALL + 1):
        for old in range(1, new + 1):
            want = _subproof(old, leaves[:new], True)
            assert consistency_proof(old, new, _big_tree()) == want, (old, new)


def test_empty_tree_root_is_hash_of_empty_string() -> None:
    assert root_hash(0, MemoryTree()) == EMPTY_ROOT == hashlib.sha256(b"").digest()


# --- proof builders refuse what is not in the tree -----------------------------


@pytest.mark.parametrize(("index", "size"), [(0, 0), (5, 5), (6, 5), (-1, 5)], ids=str)
def test_inclusion_proof_refuses_index_outside_tree(index: int, size: int) -> None:
    with pytest.raises(LogRangeError, match=f"expected leaf index < tree size {size}"):
        inclusion_proof(index, size, _big_tree())


@pytest.mark.parametrize(("old", "new"), [(0, 5), (6, 5), (-1, 3)], ids=str)
def test_consistency_proof_refuses_bad_sizes(old: int, new: int) -> None:
    with pytest.raises(LogRangeError, match="expected 0 < old size <= new size"):
        consistency_proof(old, new, _big_tree())


def test_memory_tree_refuses_nodes_it_does_not_have() -> None:
    tree = MemoryTree(leaf_hash(_data(i)) for i in range(5))

    with pytest.raises(KeyError):
        tree.read_nodes([(1, 2)])  # would cover leaves 4..5; 5 is not there


# --- verification edge cases ---------------------------------------------------


def test_consistency_between_equal_sizes_needs_empty_proof_and_same_root() -> None:
    verify_consistency(7, 7, [], _root(7), _root(7))

    with pytest.raises(ProofError, match="expected an empty proof"):
        verify_consistency(7, 7, [_root(3)], _root(7), _root(7))
    with pytest.raises(ProofError, match="same size have different roots"):
        verify_consistency(7, 7, [], _root(7), _root(8))


def test_consistency_from_empty_tree() -> None:
    verify_consistency(0, 9, [], EMPTY_ROOT, _root(9))

    with pytest.raises(ProofError, match="expected an empty proof from the empty"):
        verify_consistency(0, 9, [_root(8)], EMPTY_ROOT, _root(9))


def test_consistency_refuses_shrinking_tree() -> None:
    with pytest.raises(ProofError, match="expected old size <= new size 4, got 5"):
        verify_consistency(
            5, 4, consistency_proof(4, 5, _big_tree()), _root(5), _root(4)
        )


def test_consistency_refuses_empty_proof_between_different_sizes() -> None:
    with pytest.raises(ProofError, match="expected a non-empty consistency proof"):
        verify_consistency(4, 8, [], _root(4), _root(8))


def test_inclusion_refuses_index_outside_claimed_size() -> None:
    proof = inclusion_proof(2, 4, _big_tree())

    with pytest.raises(ProofError, match="expected leaf index < tree size 4, got 4"):
        verify_inclusion(leaf_hash(_data(4)), 4, 4, proof, _root(4))


def test_inclusion_in_single_leaf_tree() -> None:
    verify_inclusion(leaf_hash(_data(0)), 0, 1, [], _root(1))

    with pytest.raises(ProofError, match="too many"):
        verify_inclusion(leaf_hash(_data(0)), 0, 1, [_root(1)], _root(1))
    with pytest.raises(ProofError, match="expected root"):
        verify_inclusion(leaf_hash(_data(1)), 0, 1, [], _root(1))


# --- properties over trees of up to MAX_SIZE leaves ----------------------------


@st.composite
def _leaf_in_tree(
    draw: st.DrawFn, min_size: int = 1, max_size: int = MAX_SIZE
) -> tuple[int, int]:
    size = draw(st.integers(min_size, max_size))
    return draw(st.integers(0, size - 1)), size


@st.composite
def _two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    new = draw(st.integers(2, MAX_SIZE))
    return draw(st.integers(1, new - 1)), new


def _draw_other(
    data: st.DataObject, low: int, high: int, avoid: int, label: str
) -> int:
    """Draw from low..high except `avoid` (itself in that range), never rejecting."""
    drawn = data.draw(st.integers(low, high - 1), label=label)
    return drawn + 1 if drawn >= avoid else drawn


@PROPERTIES
@given(_leaf_in_tree())
def test_every_inclusion_proof_verifies(case: tuple[int, int]) -> None:
    index, size = case
    proof = inclusion_proof(index, size, _big_tree())

    verify_inclusion(leaf_hash(_data(index)), index, size, proof, _root(size))


@PROPERTIES
@given(_leaf_in_tree(min_size=2), st.data())
def test_inclusion_proof_with_a_flipped_bit_fails(
    case: tuple[int, int], data: st.DataObject
) -> None:
    index, size = case
    proof = inclusion_proof(index, size, _big_tree())
    position = data.draw(st.integers(0, len(proof) - 1), label="position")
    bit = data.draw(st.integers(0, 255), label="bit")

    with pytest.raises(ProofError, match="does not lead to the expected root"):
        verify_inclusion(
            leaf_hash(_data(index)),
            index,
            size,
            _flip(proof, position, bit),
            _root(size),
        )


@PROPERTIES
@given(_leaf_in_tree(min_size=2), st.data())
def test_inclusion_proof_at_a_wrong_index_fails(
    case: tuple[int, int], data: st.DataObject
) -> None:
    index, size = case
    proof = inclusion_proof(index, size, _big_tree())
    wrong = _draw_other(data, 0, size - 1, index, "wrong index")

    # Neither this entry nor the one really at `wrong` can use the proof there.
    for entry in (index, wrong):
        with pytest.raises(ProofError):
            verify_inclusion(leaf_hash(_data(entry)), wrong, size, proof, _root(size))


@PROPERTIES
@given(_leaf_in_tree(max_size=MAX_SIZE - 1), st.data())
def test_inclusion_proof_under_a_wrong_size_fails(
    case: tuple[int, int], data: st.DataObject
) -> None:
    index, size = case
    proof = inclusion_proof(index, size, _big_tree())
    # Any other tree that holds the leaf (the size is kept below MAX_SIZE so that
    # a bigger one always exists).
    wrong = _draw_other(data, index + 1, MAX_SIZE, size, "wrong size")

    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(_data(index)), index, wrong, proof, _root(wrong))


@PROPERTIES
@given(_leaf_in_tree(min_size=2))
def test_inclusion_proof_with_a_hash_added_or_removed_fails(
    case: tuple[int, int],
) -> None:
    index, size = case
    proof = inclusion_proof(index, size, _big_tree())
    leaf = leaf_hash(_data(index))

    with pytest.raises(ProofError, match="too many"):
        verify_inclusion(leaf, index, size, [*proof, proof[-1]], _root(size))
    with pytest.raises(ProofError, match="too few"):
        verify_inclusion(leaf, index, size, proof[:-1], _root(size))


@PROPERTIES
@given(_two_sizes())
def test_every_consistency_proof_verifies(sizes: tuple[int, int]) -> None:
    old, new = sizes
    proof = consistency_proof(old, new, _big_tree())

    verify_consistency(old, new, proof, _root(old), _root(new))


@PROPERTIES
@given(_two_sizes(), st.data())
def test_consistency_proof_with_a_flipped_bit_fails(
    sizes: tuple[int, int], data: st.DataObject
) -> None:
    old, new = sizes
    proof = consistency_proof(old, new, _big_tree())
    position = data.draw(st.integers(0, len(proof) - 1), label="position")
    bit = data.draw(st.integers(0, 255), label="bit")

    with pytest.raises(ProofError, match=r"does not lead to the (old|new) root"):
        verify_consistency(
            old, new, _flip(proof, position, bit), _root(old), _root(new)
        )


@PROPERTIES
@given(_two_sizes(), st.data())
def test_consistency_proof_between_wrong_sizes_fails(
    sizes: tuple[int, int], data: st.DataObject
) -> None:
    old, new = sizes
    proof = consistency_proof(old, new, _big_tree())
    # Either may also equal the other size, where a non-empty proof is wrong too.
    wrong_old = _draw_other(data, 1, new, old, "wrong old size")
    wrong_new = _draw_other(data, old, MAX_SIZE, new, "wrong new size")

    with pytest.raises(ProofError):
        verify_consistency(wrong_old, new, proof, _root(wrong_old), _root(new))
    with pytest.raises(ProofError):
        verify_consistency(old, wrong_new, proof, _root(old), _root(wrong_new))


@PROPERTIES
@given(_two_sizes(), st.data())
def test_consistency_proof_to_a_forked_tree_fails(
    sizes: tuple[int, int], data: st.DataObject
) -> None:
    old, new = sizes
    changed = data.draw(st.integers(0, new - 1), label="changed leaf")
    forked = [leaf_hash(_data(i)) for i in range(new)]
    forked[changed] = leaf_hash(b"forked")
    fork = MemoryTree(forked)

    # A proof from the fork checks against the honest old root only if the change
    # came after the old tree ended.
    proof = consistency_proof(old, new, fork)
    if changed < old:
        with pytest.raises(ProofError, match=r"does not lead to the (old|new) root"):
            verify_consistency(old, new, proof, _root(old), fork.root())
    else:
        verify_consistency(old, new, proof, _root(old), fork.root())
        with pytest.raises(ProofError, match="new root"):
            verify_consistency(old, new, proof, _root(old), _root(new))


# --- range_nodes and CompactRange ----------------------------------------------


RANGES = [
    (0, 0, []),
    (0, 1, [(0, 0)]),
    (0, 8, [(3, 0)]),
    (0, 13, [(3, 0), (2, 2), (0, 12)]),
    (1, 8, [(0, 1), (1, 1), (2, 1)]),
    (4, 7, [(1, 2), (0, 6)]),
    (6, 6, []),
    (5, 21, [(0, 5), (1, 3), (3, 1), (2, 4), (0, 20)]),
]


@pytest.mark.parametrize(
    ("start", "end", "want"),
    RANGES,
    ids=[f"leaves-{start}-to-{end}" for start, end, _ in RANGES],
)
def test_range_nodes(start: int, end: int, want: list[tuple[int, int]]) -> None:
    assert range_nodes(start, end) == want


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 1 << 40), st.integers(0, 1 << 20))
def test_range_nodes_tile_the_range_with_maximal_aligned_subtrees(
    start: int, length: int
) -> None:
    end = start + length
    position = start

    for level, index in range_nodes(start, end):
        width = 1 << level
        # Aligned: the node starts where the previous one stopped.
        assert index * width == position
        # Maximal: the parent would be misaligned or would overshoot the range.
        assert position % (2 * width) != 0 or position + 2 * width > end
        position += width
    assert position == end


def test_compact_range_reports_every_completed_node() -> None:
    border = CompactRange()
    leaves = [leaf_hash(_data(i)) for i in range(8)]

    for leaf in leaves[:3]:
        border.append(leaf)
    completed = border.append(leaves[3])

    assert [node for node, _ in completed] == [(0, 3), (1, 1), (2, 0)]
    assert [h for _, h in completed] == [
        leaves[3],
        node_hash(leaves[2], leaves[3]),
        _mth(leaves[:4]),
    ]
    assert border.size == 4
    assert border.hashes == [_mth(leaves[:4])]


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 700), st.integers(0, 300))
def test_compact_range_resumed_from_its_border_matches_the_tree(
    size: int, more: int
) -> None:
    leaves = [leaf_hash(_data(i)) for i in range(size + more)]
    first = CompactRange()
    for leaf in leaves[:size]:
        first.append(leaf)

    # The border is exactly the hashes of range_nodes(0, size).
    ids = range_nodes(0, size)
    stored = _big_tree().read_nodes(ids)
    assert first.hashes == [stored[node] for node in ids]
    assert first.root() == _root(size)

    resumed = CompactRange(size, first.hashes)
    completed: dict[tuple[int, int], bytes] = {}
    for leaf in leaves[size:]:
        completed.update(resumed.append(leaf))

    assert resumed.size == size + more
    assert resumed.root() == _root(size + more)
    assert completed == dict(_big_tree().read_nodes(list(completed)))


@pytest.mark.parametrize(("size", "count"), [(0, 1), (5, 1), (5, 3), (8, 0)], ids=str)
def test_compact_range_refuses_wrong_number_of_border_hashes(
    size: int, count: int
) -> None:
    with pytest.raises(
        LogRangeError, match=f"border hashes for size {size}, got {count}"
    ):
        CompactRange(size, [bytes(32)] * count)
