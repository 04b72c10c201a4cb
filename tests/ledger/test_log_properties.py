"""Proofs served by one stored log of ~3000 entries, checked against a memory tree.

The log is built once per backend (module scope) in batches of assorted sizes, so it
holds many checkpoints; hypothesis then draws indexes and sizes across all of it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from api.config import Config
from api.services import Services, open_services
from ledger import (
    MAX_PAGE,
    MemoryTree,
    NoteVerifier,
    ProofError,
    TLogProof,
    canonical_entry,
    inclusion_proof,
    leaf_hash,
    make_entry,
    open_checkpoint,
    root_hash,
    verify_consistency,
    verify_inclusion,
    verify_tlog_proof,
)
from ledger.models import LogCheckpoint
from migrations.runner import upgrade
from tests.conftest import NOW, TEST_MASTER_KEY, postgres_schema

TARGET_SIZE = 3000

# Batch sizes around the powers of two, where the tree's shape changes most.
BATCH_SIZES = [1, 1, 2, 3, 4, 5, 7, 8, 9, 13, 31, 32, 33, 63, 64, 65, 127, 128, 200]

PROPERTIES = settings(max_examples=60, deadline=None)


@dataclass(frozen=True)
class BigLog:
    services: Services
    tree: MemoryTree
    checkpoint_sizes: list[int]

    @property
    def size(self) -> int:
        return self.tree.size

    def leaf(self, index: int) -> bytes:
        return self.tree.read_nodes([(0, index)])[(0, index)]

    def root(self, size: int) -> bytes:
        return root_hash(size, self.tree)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def big_log_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database of this module's own, on each backend (like `database_url`)."""
    if request.param == "sqlite":
        directory = tmp_path_factory.mktemp("big-log")
        yield f"sqlite:///{directory / 'credbank.sqlite3'}"
        return
    with postgres_schema() as url:
        yield url


@pytest.fixture(scope="module")
def big_log(
    big_log_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BigLog]:
    config = Config(
        data_dir=tmp_path_factory.mktemp("big-log-data"),
        database_url=big_log_url,
        base_url="http://credbank.test",
        log_origin="credbank.test/log",
        master_key=TEST_MASTER_KEY,
    )
    upgrade(config.database_url)
    services = open_services(config, now=NOW)
    try:
        appended = _fill(services)
        data = _read_all(services)
        # Entry 0 is the log's own key; the rest are exactly what was appended.
        assert data[1:] == [canonical_entry(entry) for entry in appended]
        with services.database.transaction() as session:
            sizes = list(
                session.scalars(
                    select(LogCheckpoint.tree_size).order_by(LogCheckpoint.tree_size)
                )
            )
        yield BigLog(services, MemoryTree(leaf_hash(d) for d in data), sizes)
    finally:
        services.close()


def _fill(services: Services) -> list[dict[str, object]]:
    batches = random.Random(6962)  # fixed seed: the same log on every run
    appended: list[dict[str, object]] = []
    size = 1
    while size < TARGET_SIZE:
        count = min(batches.choice(BATCH_SIZES), TARGET_SIZE - size)
        entries = [
            make_entry("test.appended", NOW, n=len(appended) + i) for i in range(count)
        ]
        with services.database.transaction(write=True) as session:
            indexes = services.log.append(session, entries, now=NOW)
        assert indexes == list(range(size, size + count))
        appended.extend(entries)
        size += count
    return appended


def _read_all(services: Services) -> list[bytes]:
    data: list[bytes] = []
    with services.database.transaction() as session:
        size = services.log.head(session).size
        while len(data) < size:
            page = services.log.read_entries(session, len(data), len(data) + MAX_PAGE)
            data.extend(row.data for row in page)
    return data


def _flip(hashes: list[bytes], position: int, bit: int) -> list[bytes]:
    changed = bytearray(hashes[position])
    changed[bit // 8] ^= 1 << (bit % 8)
    return [*hashes[:position], bytes(changed), *hashes[position + 1 :]]


def test_log_has_the_target_size_and_many_checkpoints(big_log: BigLog) -> None:
    assert big_log.size == TARGET_SIZE
    assert len(big_log.checkpoint_sizes) > 40
    assert big_log.checkpoint_sizes[:2] == [0, 1]
    assert big_log.checkpoint_sizes[-1] == TARGET_SIZE


def test_head_and_every_checkpoint_match_the_memory_tree(big_log: BigLog) -> None:
    log = big_log.services.log
    with big_log.services.database.transaction() as session:
        head = log.head(session)
        notes = {
            size: log.checkpoint(session, size).note
            for size in big_log.checkpoint_sizes
        }

    assert head.root_hash == big_log.tree.root() == big_log.root(TARGET_SIZE)
    for size, note in notes.items():
        checkpoint = open_checkpoint(note, log.verifier)
        assert (checkpoint.size, checkpoint.root_hash) == (size, big_log.root(size))


def _draw_other(
    data: st.DataObject, low: int, high: int, avoid: int, label: str
) -> int:
    """Draw from low..high except `avoid` (itself in that range), never rejecting."""
    drawn = data.draw(st.integers(low, high - 1), label=label)
    return drawn + 1 if drawn >= avoid else drawn


@st.composite
def _leaf_and_size(draw: st.DrawFn) -> tuple[int, int]:
    # Below TARGET_SIZE, so that a bigger tree always exists to test against.
    size = draw(st.integers(2, TARGET_SIZE - 1), label="size")
    return draw(st.integers(0, size - 1), label="index"), size


@PROPERTIES
@given(case=_leaf_and_size(), data=st.data())
def test_stored_inclusion_proofs_verify_and_resist_mutation(
    big_log: BigLog, case: tuple[int, int], data: st.DataObject
) -> None:
    index, size = case
    with big_log.services.database.transaction() as session:
        proof = big_log.services.log.inclusion_proof(session, index, size)
    leaf, root = big_log.leaf(index), big_log.root(size)

    assert proof == inclusion_proof(index, size, big_log.tree)
    verify_inclusion(leaf, index, size, proof, root)

    position = data.draw(st.integers(0, len(proof) - 1), label="position")
    bit = data.draw(st.integers(0, 255), label="bit")
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, _flip(proof, position, bit), root)
    wrong = _draw_other(data, 0, size - 1, index, "wrong index")
    with pytest.raises(ProofError):
        verify_inclusion(leaf, wrong, size, proof, root)
    other = _draw_other(data, index + 1, TARGET_SIZE, size, "wrong size")
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, other, proof, big_log.root(other))


@st.composite
def _two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    new = draw(st.integers(1, TARGET_SIZE), label="new size")
    return draw(st.integers(1, new), label="old size"), new


@PROPERTIES
@given(sizes=_two_sizes(), data=st.data())
def test_stored_consistency_proofs_verify_and_resist_mutation(
    big_log: BigLog, sizes: tuple[int, int], data: st.DataObject
) -> None:
    old, new = sizes
    with big_log.services.database.transaction() as session:
        proof = big_log.services.log.consistency_proof(session, old, new)
    old_root, new_root = big_log.root(old), big_log.root(new)

    verify_consistency(old, new, proof, old_root, new_root)

    if old == new:
        assert proof == []
        different = big_log.root(new + 1 if new < TARGET_SIZE else new - 1)
        with pytest.raises(ProofError, match="same size have different roots"):
            verify_consistency(old, new, proof, old_root, different)
        return
    position = data.draw(st.integers(0, len(proof) - 1), label="position")
    bit = data.draw(st.integers(0, 255), label="bit")
    with pytest.raises(ProofError):
        verify_consistency(old, new, _flip(proof, position, bit), old_root, new_root)
    other = _draw_other(data, 1, new, old, "wrong old size")
    with pytest.raises(ProofError):
        verify_consistency(other, new, proof, big_log.root(other), new_root)


@PROPERTIES
@given(data=st.data())
def test_tlog_proofs_under_every_checkpoint_verify_and_resist_mutation(
    big_log: BigLog, data: st.DataObject
) -> None:
    signed = [size for size in big_log.checkpoint_sizes if size > 0]
    size = data.draw(st.sampled_from(signed), label="checkpoint size")
    index = data.draw(st.integers(0, size - 1), label="index")
    with big_log.services.database.transaction() as session:
        proof = big_log.services.log.tlog_proof(session, index, size)
    parsed = TLogProof.from_text(proof.to_text())
    verifier = NoteVerifier.parse(big_log.services.log.verifier_key)
    leaf = big_log.leaf(index)

    checkpoint = verify_tlog_proof(parsed, leaf, verifier)

    assert parsed == proof
    assert (checkpoint.size, checkpoint.root_hash) == (size, big_log.root(size))

    if size > 1:
        hashes = list(parsed.hashes)
        position = data.draw(st.integers(0, len(hashes) - 1), label="position")
        bit = data.draw(st.integers(0, 255), label="bit")
        flipped = TLogProof(
            index, tuple(_flip(hashes, position, bit)), parsed.checkpoint_note
        )
        with pytest.raises(ProofError):
            verify_tlog_proof(flipped, leaf, verifier)
        wrong = _draw_other(data, 0, size - 1, index, "wrong index")
        moved = TLogProof(wrong, parsed.hashes, parsed.checkpoint_note)
        with pytest.raises(ProofError):
            verify_tlog_proof(moved, leaf, verifier)
    # Another checkpoint: too small for the index, or with another root.
    other = data.draw(st.sampled_from([s for s in signed if s != size]), label="other")
    with big_log.services.database.transaction() as session:
        other_note = big_log.services.log.checkpoint(session, other).note
    with pytest.raises(ProofError):
        verify_tlog_proof(TLogProof(index, parsed.hashes, other_note), leaf, verifier)
