"""The stored log: appends, checkpoints and proofs, on each database backend."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from api.services import LOG_KEY_OWNER, Services
from keys.signers import LocalSigner
from ledger import (
    MAX_PAGE,
    Checkpoint,
    EntryError,
    LogRangeError,
    LogStateError,
    MemoryTree,
    NoteVerifier,
    TransparencyLog,
    canonical_entry,
    consistency_proof,
    leaf_hash,
    make_entry,
    open_checkpoint,
    parse_entry,
    root_hash,
    verify_consistency,
    verify_inclusion,
    verify_tlog_proof,
)
from ledger.models import LogCheckpoint, LogEntry, LogNode
from tests.conftest import NOW

# open_services logs the log key itself: entry 0, then checkpoints at sizes 0 and 1.
BOOTSTRAP = 1


def _entries(count: int, start: int = 0) -> list[dict[str, object]]:
    return [make_entry("test.appended", NOW, n=start + i) for i in range(count)]


def _append(services: Services, count: int, start: int = 0) -> list[int]:
    with services.database.transaction(write=True) as session:
        return services.log.append(session, _entries(count, start), now=NOW)


def _checkpoint_sizes(services: Services) -> list[int]:
    with services.database.transaction() as session:
        return list(
            session.scalars(
                select(LogCheckpoint.tree_size).order_by(LogCheckpoint.tree_size)
            )
        )


def _memory_tree(services: Services) -> MemoryTree:
    with services.database.transaction() as session:
        rows = session.scalars(select(LogEntry.data).order_by(LogEntry.idx))
        return MemoryTree(leaf_hash(data) for data in rows)


def test_new_log_holds_its_key_and_two_checkpoints(services: Services) -> None:
    with services.database.transaction() as session:
        head = services.log.head(session)
        first = parse_entry(services.log.read_entries(session, 0, 1)[0].data)

    assert head.origin == "credbank.test/log"
    assert head.size == BOOTSTRAP
    assert first["kind"] == "key.added"
    assert _checkpoint_sizes(services) == [0, 1]


def test_append_returns_contiguous_indexes_and_stores_exact_bytes(
    services: Services,
) -> None:
    assert _append(services, 3) == [1, 2, 3]
    assert _append(services, 2, start=3) == [4, 5]

    with services.database.transaction() as session:
        stored = [row.data for row in services.log.read_entries(session, 1, 6)]
        head = services.log.head(session)

    assert stored == [canonical_entry(entry) for entry in _entries(5)]
    assert head.size == 6
    assert head.root_hash == _memory_tree(services).root()


def test_appending_an_empty_list_is_a_no_op(services: Services) -> None:
    with services.database.transaction() as session:
        before = services.log.head(session)
        nodes = session.scalar(select(func.count()).select_from(LogNode))

    with services.database.transaction(write=True) as session:
        assert services.log.append(session, [], now=NOW) == []

    with services.database.transaction() as session:
        assert services.log.head(session) == before
        assert session.scalar(select(func.count()).select_from(LogNode)) == nodes
    assert _checkpoint_sizes(services) == [0, 1]


def test_batch_with_one_bad_entry_appends_nothing(services: Services) -> None:
    entries = [*_entries(2), {"v": 1, "kind": "Bad Kind", "at": "x"}]

    with (
        pytest.raises(EntryError, match="expected an entry kind like"),
        services.database.transaction(write=True) as session,
    ):
        services.log.append(session, entries, now=NOW)

    with services.database.transaction() as session:
        assert services.log.head(session).size == BOOTSTRAP
    assert _checkpoint_sizes(services) == [0, 1]


def test_initialise_refuses_a_changed_origin(services: Services) -> None:
    signer = LocalSigner("other", Ed25519PrivateKey.generate())
    moved = TransparencyLog("elsewhere.test/log", signer)

    with (
        pytest.raises(
            LogStateError,
            match=r"expected log origin 'credbank\.test/log' \(as stored\), "
            r"got 'elsewhere\.test/log'",
        ),
        services.database.transaction(write=True) as session,
    ):
        moved.initialise(session, now=NOW)

    with services.database.transaction() as session:
        assert services.log.head(session).origin == "credbank.test/log"


def test_initialise_again_changes_nothing(services: Services) -> None:
    with services.database.transaction(write=True) as session:
        services.log.initialise(session, now=NOW + timedelta(days=1))

    with services.database.transaction() as session:
        assert services.log.head(session).size == BOOTSTRAP
    assert _checkpoint_sizes(services) == [0, 1]


def test_each_append_signs_one_checkpoint_consistent_with_the_previous(
    services: Services,
) -> None:
    batches = [1, 2, 5, 8, 1, 13, 3]
    sizes = [0, BOOTSTRAP]
    for count in batches:
        _append(services, count, start=sizes[-1])
        sizes.append(sizes[-1] + count)
        # Exactly one more checkpoint, at the new size.
        assert _checkpoint_sizes(services) == sizes

    verifier = services.log.verifier
    tree = _memory_tree(services)
    with services.database.transaction() as session:
        checkpoints = [
            open_checkpoint(services.log.checkpoint(session, size).note, verifier)
            for size in sizes
        ]
        # From size 1 on: nothing can be proved about the empty tree.
        for older, newer in itertools.pairwise(checkpoints[1:]):
            proof = services.log.consistency_proof(session, older.size, newer.size)
            verify_consistency(
                older.size, newer.size, proof, older.root_hash, newer.root_hash
            )
    for size, checkpoint in zip(sizes, checkpoints, strict=True):
        assert checkpoint.size == size
        assert checkpoint.origin == services.log.origin
        assert checkpoint.root_hash == root_hash(size, tree)


def test_checkpoint_rows_match_their_notes(services: Services) -> None:
    _append(services, 4)

    with services.database.transaction() as session:
        rows = list(session.scalars(select(LogCheckpoint)))
        key = services.keystore.active_key(session, LOG_KEY_OWNER)

    assert key is not None
    assert [row.tree_size for row in rows] == [0, 1, 5]
    for row in rows:
        checkpoint = open_checkpoint(row.note, services.log.verifier)
        assert (checkpoint.size, checkpoint.root_hash) == (row.tree_size, row.root_hash)
        assert row.key_id == key.id


def test_published_verifier_key_checks_the_checkpoints(services: Services) -> None:
    _append(services, 6)
    verifier = NoteVerifier.parse(services.log.verifier_key)

    with services.database.transaction() as session:
        note = services.log.latest_checkpoint(session).note

    assert open_checkpoint(note, verifier) == Checkpoint(
        services.log.origin, 7, _memory_tree(services).root()
    )


def test_tlog_proof_under_latest_and_earlier_checkpoints(services: Services) -> None:
    _append(services, 6)
    _append(services, 9, start=6)
    tree = _memory_tree(services)
    leaf = tree.read_nodes([(0, 4)])[(0, 4)]

    with services.database.transaction() as session:
        latest = services.log.tlog_proof(session, 4)
        earlier = services.log.tlog_proof(session, 4, 7)

    assert verify_tlog_proof(latest, leaf, services.log.verifier).size == 16
    assert verify_tlog_proof(earlier, leaf, services.log.verifier).size == 7


def test_inclusion_proof_at_any_size_verifies(services: Services) -> None:
    _append(services, 20)
    tree = _memory_tree(services)

    with services.database.transaction() as session:
        for size in range(1, 22):
            for index in range(size):
                proof = services.log.inclusion_proof(session, index, size)
                leaf = tree.read_nodes([(0, index)])[(0, index)]
                verify_inclusion(leaf, index, size, proof, root_hash(size, tree))
        assert services.log.consistency_proof(session, 3, 21) == consistency_proof(
            3, 21, tree
        )


def test_proofs_refuse_sizes_beyond_the_head(services: Services) -> None:
    _append(services, 4)

    with services.database.transaction() as session:
        with pytest.raises(
            LogRangeError, match="expected a tree size from 1 to 5, got 6"
        ):
            services.log.inclusion_proof(session, 0, 6)
        with pytest.raises(LogRangeError, match="expected leaf index < tree size 0"):
            services.log.inclusion_proof(session, 0, 0)
        with pytest.raises(LogRangeError, match="expected 0 < old size <= new size"):
            services.log.consistency_proof(session, 0, 0)
        with pytest.raises(
            LogRangeError, match="expected a tree size from 1 to 5, got 9"
        ):
            services.log.consistency_proof(session, 2, 9)
        with pytest.raises(LogRangeError, match="expected leaf index < tree size 3"):
            services.log.inclusion_proof(session, 3, 3)


def test_tlog_proof_needs_a_signed_checkpoint(services: Services) -> None:
    _append(services, 4)

    with services.database.transaction() as session:
        with pytest.raises(
            LogRangeError, match="no checkpoint was signed at tree size 3"
        ):
            services.log.tlog_proof(session, 0, 3)
        with pytest.raises(LogRangeError, match="expected leaf index < tree size 5"):
            services.log.tlog_proof(session, 5)


def test_read_entries_bounds_and_page_size(services: Services) -> None:
    _append(services, MAX_PAGE + 10)

    with services.database.transaction() as session:
        page = services.log.read_entries(session, 5, 10**9)
        tail = services.log.read_entries(session, MAX_PAGE + 5, 10**9)
        with pytest.raises(LogRangeError, match="expected start < tree size 1011"):
            services.log.read_entries(session, 1011, 1012)
        with pytest.raises(LogRangeError, match="expected end > start 7, got 7"):
            services.log.read_entries(session, 7, 7)
        with pytest.raises(LogRangeError, match="expected start < tree size"):
            services.log.read_entries(session, -1, 3)

    assert [row.idx for row in page] == list(range(5, 5 + MAX_PAGE))
    assert [row.idx for row in tail] == list(range(MAX_PAGE + 5, MAX_PAGE + 11))
