"""C2SP tlog-proof@v1: an offline-verifiable proof that an entry is in a log.

The text is the header line, an optional `extra` line, `index N`, the inclusion proof
hashes in base64 (leaf's sibling first), a blank line, then the signed checkpoint.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from ledger.checkpoints import Checkpoint, open_checkpoint
from ledger.errors import FormatError
from ledger.merkle import HASH_SIZE, verify_inclusion
from ledger.notes import MAX_NOTE_SIZE, NoteVerifier

__all__ = ["HEADER", "TLogProof", "verify_tlog_proof"]

HEADER = "c2sp.org/tlog-proof@v1"

# An inclusion proof has at most 64 hashes (tree sizes are 64-bit); the checkpoint is a
# signed note bounded by MAX_NOTE_SIZE.
MAX_PROOF_SIZE = MAX_NOTE_SIZE + 64 * 64 + 1024


@dataclass(frozen=True)
class TLogProof:
    """An entry's index, its inclusion proof and the checkpoint it leads to."""

    index: int
    hashes: tuple[bytes, ...]
    checkpoint_note: str
    extra: bytes | None = None

    def to_text(self) -> str:
        lines = [HEADER]
        if self.extra is not None:
            lines.append("extra " + base64.b64encode(self.extra).decode())
        lines.append(f"index {self.index}")
        lines.extend(base64.b64encode(h).decode() for h in self.hashes)
        return "\n".join(lines) + "\n\n" + self.checkpoint_note

    @classmethod
    def from_text(cls, text: str) -> TLogProof:
        if len(text.encode()) > MAX_PROOF_SIZE:
            raise FormatError(f"expected a proof of at most {MAX_PROOF_SIZE} bytes")
        head, sep, note = text.partition("\n\n")
        if not sep:
            raise FormatError("expected a blank line before the checkpoint")
        lines = head.split("\n")
        if lines[0] != HEADER:
            raise FormatError(f"expected first line {HEADER!r}")
        lines = lines[1:]
        extra = None
        if lines and lines[0].startswith("extra "):
            extra = _b64(lines.pop(0)[len("extra ") :], "extra data")
        if not lines or not lines[0].startswith("index "):
            raise FormatError("expected an 'index N' line")
        index = _decimal(lines.pop(0)[len("index ") :])
        hashes = tuple(_b64(line, "proof hash") for line in lines)
        if any(len(h) != HASH_SIZE for h in hashes):
            raise FormatError(f"expected {HASH_SIZE}-byte proof hashes")
        return cls(index, hashes, note, extra)


def verify_tlog_proof(
    proof: TLogProof, leaf: bytes, verifier: NoteVerifier
) -> Checkpoint:
    """Check the checkpoint's signature, then the leaf's inclusion under it."""
    checkpoint = open_checkpoint(proof.checkpoint_note, verifier)
    verify_inclusion(
        leaf, proof.index, checkpoint.size, proof.hashes, checkpoint.root_hash
    )
    return checkpoint


def _b64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise FormatError(f"{what} is not base64") from exc


def _decimal(value: str) -> int:
    if (
        not value.isascii()
        or not value.isdigit()
        or (value != "0" and value.startswith("0"))
    ):
        raise FormatError(f"expected a decimal index, got {value!r}")
    return int(value)
