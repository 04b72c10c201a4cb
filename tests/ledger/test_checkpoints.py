"""Checkpoint bodies (C2SP tlog-checkpoint) and opening signed checkpoints."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keys.signers import LocalSigner
from ledger import (
    Checkpoint,
    FormatError,
    NoteVerifier,
    ProofError,
    open_checkpoint,
    sign_note,
)

ORIGIN = "credbank.test/log"
ROOT = bytes(range(32))
ROOT_B64 = base64.b64encode(ROOT).decode()


def _signer(seed: int) -> LocalSigner:
    return LocalSigner(
        f"seed-{seed}", Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
    )


def _verifier(signer: LocalSigner, name: str = ORIGIN) -> NoteVerifier:
    return NoteVerifier.from_public_key(name, signer.public_key)


def test_text_round_trip() -> None:
    checkpoint = Checkpoint(ORIGIN, 42, ROOT)

    assert checkpoint.to_text() == f"{ORIGIN}\n42\n{ROOT_B64}\n"
    assert Checkpoint.from_text(checkpoint.to_text()) == checkpoint


def test_size_zero_is_a_decimal() -> None:
    assert Checkpoint.from_text(f"{ORIGIN}\n0\n{ROOT_B64}\n").size == 0


def test_extension_lines_are_accepted_and_ignored() -> None:
    text = f"{ORIGIN}\n7\n{ROOT_B64}\nextension one\nextension two\n"

    assert Checkpoint.from_text(text) == Checkpoint(ORIGIN, 7, ROOT)


MALFORMED = {
    "leading-zero": (f"{ORIGIN}\n042\n{ROOT_B64}\n", "size '042' is not a decimal"),
    "double-zero": (f"{ORIGIN}\n00\n{ROOT_B64}\n", "size '00' is not a decimal"),
    "plus-sign": (f"{ORIGIN}\n+42\n{ROOT_B64}\n", "size '\\+42' is not a decimal"),
    "negative": (f"{ORIGIN}\n-1\n{ROOT_B64}\n", "size '-1' is not a decimal"),
    "space-in-size": (f"{ORIGIN}\n 42\n{ROOT_B64}\n", "size ' 42' is not a decimal"),
    "empty-size": (f"{ORIGIN}\n\n{ROOT_B64}\n", "size '' is not a decimal"),
    "non-ascii-digits": (f"{ORIGIN}\n\u0664\u0662\n{ROOT_B64}\n", "not a decimal"),
    "hex-size": (f"{ORIGIN}\n0x2a\n{ROOT_B64}\n", "not a decimal"),
    "bad-base64": (f"{ORIGIN}\n42\nnot base64!\n", "root hash is not base64"),
    "unpadded-base64": (
        f"{ORIGIN}\n42\n{ROOT_B64.rstrip('=')}\n",
        "root hash is not base64",
    ),
    "short-root": (
        f"{ORIGIN}\n42\n{base64.b64encode(bytes(31)).decode()}\n",
        "expected a 32-byte root, got 31",
    ),
    "long-root": (
        f"{ORIGIN}\n42\n{base64.b64encode(bytes(33)).decode()}\n",
        "expected a 32-byte root, got 33",
    ),
    "empty-origin": (f"\n42\n{ROOT_B64}\n", "origin line is empty"),
    "two-lines": (f"{ORIGIN}\n42\n", "at least three lines"),
    "no-final-newline": (f"{ORIGIN}\n42\n{ROOT_B64}", "at least three lines"),
    "empty-extension": (
        f"{ORIGIN}\n42\n{ROOT_B64}\n\nextension\n",
        "extension lines must not be empty",
    ),
}


@pytest.mark.parametrize(("text", "message"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_checkpoint_is_refused(text: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        Checkpoint.from_text(text)


def test_open_checkpoint_returns_the_signed_body() -> None:
    signer = _signer(1)
    note = sign_note(Checkpoint(ORIGIN, 9, ROOT).to_text(), ORIGIN, signer)

    assert open_checkpoint(note, _verifier(signer)) == Checkpoint(ORIGIN, 9, ROOT)


def test_open_checkpoint_refuses_another_logs_checkpoint() -> None:
    # Signed by our key under our name, but the body names another log.
    signer = _signer(1)
    note = sign_note(Checkpoint("other.test/log", 9, ROOT).to_text(), ORIGIN, signer)

    with pytest.raises(FormatError, match="expected checkpoint origin 'credbank"):
        open_checkpoint(note, _verifier(signer))


def test_open_checkpoint_refuses_another_key() -> None:
    note = sign_note(Checkpoint(ORIGIN, 9, ROOT).to_text(), ORIGIN, _signer(2))

    with pytest.raises(ProofError, match="not signed by any trusted key"):
        open_checkpoint(note, _verifier(_signer(1)))


def test_open_checkpoint_refuses_a_changed_size() -> None:
    signer = _signer(1)
    note = sign_note(Checkpoint(ORIGIN, 9, ROOT).to_text(), ORIGIN, signer)
    forged = note.replace("\n9\n", "\n10\n", 1)

    with pytest.raises(ProofError, match=f"note signature by {ORIGIN} does not"):
        open_checkpoint(forged, _verifier(signer))
