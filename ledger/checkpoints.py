"""C2SP tlog-checkpoint bodies (c2sp.org/tlog-checkpoint).

The body is the origin line, the tree size in decimal, the base64 root hash, and
optional extension lines, each ending in a newline. It is signed as a signed note whose
key name is the origin.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from ledger.errors import FormatError
from ledger.merkle import HASH_SIZE
from ledger.notes import NoteVerifier, open_note

__all__ = ["Checkpoint", "open_checkpoint"]


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: which log, how many entries, and their root hash."""

    origin: str
    size: int
    root_hash: bytes

    def to_text(self) -> str:
        root = base64.b64encode(self.root_hash).decode()
        return f"{self.origin}\n{self.size}\n{root}\n"

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise FormatError("expected a checkpoint of at least three lines")
        origin, size_line, root_line = lines[0], lines[1], lines[2]
        if not origin:
            raise FormatError("checkpoint origin line is empty")
        # Sizes are ASCII decimal without leading zeroes.
        if (
            not size_line.isascii()
            or not size_line.isdigit()
            or (size_line != "0" and size_line.startswith("0"))
        ):
            raise FormatError(f"checkpoint size {size_line!r} is not a decimal")
        try:
            root = base64.b64decode(root_line, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise FormatError("checkpoint root hash is not base64") from exc
        if len(root) != HASH_SIZE:
            raise FormatError(f"expected a {HASH_SIZE}-byte root, got {len(root)}")
        if any(not line for line in lines[3:-1]):
            raise FormatError("checkpoint extension lines must not be empty")
        return cls(origin, int(size_line), root)


def open_checkpoint(note: str, verifier: NoteVerifier) -> Checkpoint:
    """Verify a signed checkpoint note and check it names the verifier's log."""
    checkpoint = Checkpoint.from_text(open_note(note, [verifier]))
    if checkpoint.origin != verifier.name:
        raise FormatError(
            f"expected checkpoint origin {verifier.name!r}, got {checkpoint.origin!r}"
        )
    return checkpoint
