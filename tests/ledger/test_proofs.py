"""C2SP tlog-proof@v1 text and its offline verification."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keys.signers import LocalSigner
from ledger import (
    Checkpoint,
    FormatError,
    MemoryTree,
    NoteVerifier,
    ProofError,
    TLogProof,
    inclusion_proof,
    leaf_hash,
    sign_note,
    verify_tlog_proof,
)
from ledger.proofs import HEADER, MAX_PROOF_SIZE

ORIGIN = "credbank.test/log"
SIZE = 11
SIGNER = LocalSigner("log", Ed25519PrivateKey.from_private_bytes(bytes([7]) * 32))
VERIFIER = NoteVerifier.from_public_key(ORIGIN, SIGNER.public_key)
LEAVES = [leaf_hash(f"entry {i}".encode()) for i in range(SIZE)]
TREE = MemoryTree(LEAVES)
NOTE = sign_note(Checkpoint(ORIGIN, SIZE, TREE.root()).to_text(), ORIGIN, SIGNER)


def _proof(index: int, extra: bytes | None = None) -> TLogProof:
    hashes = tuple(inclusion_proof(index, SIZE, TREE))
    return TLogProof(index, hashes, NOTE, extra)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_text_layout() -> None:
    proof = _proof(3)
    hashes = "".join(f"{_b64(h)}\n" for h in proof.hashes)

    assert proof.to_text() == f"{HEADER}\nindex 3\n{hashes}\n{NOTE}"


@pytest.mark.parametrize(
    "extra", [None, b"", b"\x00opaque\xff"], ids=["no-extra", "empty-extra", "extra"]
)
def test_text_round_trip(extra: bytes | None) -> None:
    proof = _proof(3, extra)

    assert TLogProof.from_text(proof.to_text()) == proof


def test_round_trip_of_single_leaf_proof_without_hashes() -> None:
    note = sign_note(Checkpoint(ORIGIN, 1, LEAVES[0]).to_text(), ORIGIN, SIGNER)
    proof = TLogProof(0, (), note)

    assert proof.to_text() == f"{HEADER}\nindex 0\n\n{note}"
    assert TLogProof.from_text(proof.to_text()) == proof
    verify_tlog_proof(proof, LEAVES[0], VERIFIER)


@pytest.mark.parametrize("index", range(SIZE), ids=lambda i: f"entry-{i}")
def test_every_entry_verifies_after_a_round_trip(index: int) -> None:
    parsed = TLogProof.from_text(_proof(index).to_text())

    checkpoint = verify_tlog_proof(parsed, LEAVES[index], VERIFIER)

    assert checkpoint == Checkpoint(ORIGIN, SIZE, TREE.root())


def test_proof_of_another_leaf_fails() -> None:
    with pytest.raises(ProofError, match="does not lead to the expected root"):
        verify_tlog_proof(_proof(3), LEAVES[4], VERIFIER)


def test_proof_with_a_changed_index_fails() -> None:
    proof = _proof(3)
    moved = TLogProof(5, proof.hashes, proof.checkpoint_note)

    with pytest.raises(ProofError):
        verify_tlog_proof(moved, LEAVES[3], VERIFIER)


def test_proof_under_an_untrusted_key_fails() -> None:
    stranger = LocalSigner("x", Ed25519PrivateKey.from_private_bytes(bytes(32)))
    note = sign_note(Checkpoint(ORIGIN, SIZE, TREE.root()).to_text(), ORIGIN, stranger)
    proof = TLogProof(3, _proof(3).hashes, note)

    with pytest.raises(ProofError, match="not signed by any trusted key"):
        verify_tlog_proof(proof, LEAVES[3], VERIFIER)


def test_proof_beyond_the_checkpoint_fails() -> None:
    proof = TLogProof(SIZE, _proof(3).hashes, NOTE)

    with pytest.raises(ProofError, match=f"expected leaf index < tree size {SIZE}"):
        verify_tlog_proof(proof, LEAVES[3], VERIFIER)


def test_blank_line_inside_the_hashes_ends_up_in_the_checkpoint_and_fails() -> None:
    # The first blank line ends the proof lines; what follows must be the note.
    hashes = [_b64(h) for h in _proof(3).hashes]
    text = f"{HEADER}\nindex 3\n{hashes[0]}\n\n" + "\n".join(hashes[1:]) + f"\n\n{NOTE}"
    proof = TLogProof.from_text(text)

    assert proof.hashes == _proof(3).hashes[:1]
    with pytest.raises(ProofError, match="does not verify"):
        verify_tlog_proof(proof, LEAVES[3], VERIFIER)


def _with_head(head: str) -> str:
    return f"{head}\n\n{NOTE}"


GOOD_HASH = _b64(bytes(32))

MALFORMED = {
    "wrong-header": (
        _with_head(f"c2sp.org/tlog-proof@v2\nindex 1\n{GOOD_HASH}"),
        "expected first line 'c2sp.org/tlog-proof@v1'",
    ),
    "no-blank-line": (
        f"{HEADER}\nindex 1\n{GOOD_HASH}\n",
        "expected a blank line before the checkpoint",
    ),
    "note-glued-to-hashes": (
        f"{HEADER}\nindex 1\n{GOOD_HASH}\n{NOTE}",
        "proof hash is not base64",
    ),
    "missing-index": (_with_head(f"{HEADER}\n{GOOD_HASH}"), "expected an 'index N'"),
    "index-leading-zero": (
        _with_head(f"{HEADER}\nindex 01"),
        "expected a decimal index, got '01'",
    ),
    "index-negative": (
        _with_head(f"{HEADER}\nindex -1"),
        "expected a decimal index, got '-1'",
    ),
    "index-empty": (_with_head(f"{HEADER}\nindex "), "expected a decimal index"),
    "index-non-ascii": (
        _with_head(f"{HEADER}\nindex \u0663"),
        "expected a decimal index",
    ),
    "index-after-hashes": (
        _with_head(f"{HEADER}\n{GOOD_HASH}\nindex 1"),
        "expected an 'index N'",
    ),
    "extra-after-index": (
        _with_head(f"{HEADER}\nindex 1\nextra {GOOD_HASH}"),
        "proof hash is not base64",
    ),
    "bad-extra": (
        _with_head(f"{HEADER}\nextra %%%\nindex 1"),
        "extra data is not base64",
    ),
    "bad-hash": (_with_head(f"{HEADER}\nindex 1\nnot-base64!"), "not base64"),
    "short-hash": (
        _with_head(f"{HEADER}\nindex 1\n{_b64(bytes(31))}"),
        "expected 32-byte proof hashes",
    ),
    "too-big": (
        _with_head(f"{HEADER}\nindex 1\n" + "\n".join([GOOD_HASH] * 2000)),
        f"expected a proof of at most {MAX_PROOF_SIZE} bytes",
    ),
}


@pytest.mark.parametrize(("text", "message"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_proof_is_refused(text: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        TLogProof.from_text(text)
