"""C2SP signed-note with Ed25519 signatures (c2sp.org/signed-note).

A note is text ending in a newline, a blank line, then signature lines
`— <name> base64(key ID || signature)`. Only signature type 0x01 (Ed25519) is
supported, as the spec advises implementations to pick only what they need.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from keys.signers import ED25519, Signer
from ledger.errors import FormatError, ProofError

__all__ = [
    "MAX_NOTE_SIZE",
    "NoteVerifier",
    "format_verifier_key",
    "note_key_id",
    "open_note",
    "sign_note",
]

# signed-note §Format: verifiers must accept at least 16 signatures; 16 Ed25519 lines
# of a 255-byte name come to about 6 kB, so 64 kB leaves room for any sane note.
MAX_NOTE_SIZE = 65536

_ED25519_TYPE = b"\x01"
_SIGNATURE_PREFIX = "\u2014 "  # em dash, space


@dataclass(frozen=True)
class NoteVerifier:
    """A trusted Ed25519 note key: its name, 4-byte key ID and public key."""

    name: str
    key_id: bytes
    public_key: bytes

    @classmethod
    def from_public_key(cls, name: str, public_key: bytes) -> NoteVerifier:
        _check_name(name)
        return cls(name, note_key_id(name, public_key), public_key)

    @classmethod
    def parse(cls, vkey: str) -> NoteVerifier:
        """Parse a verifier key `<name>+<hex key ID>+<base64(0x01 || key)>`."""
        # The name holds no '+' but the base64 key may: split twice only.
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            raise FormatError("expected a verifier key name+hex8+base64")
        name, hex_id, encoded = parts
        _check_name(name)
        try:
            key_id = bytes.fromhex(hex_id)
            blob = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise FormatError("verifier key has a malformed key ID or key") from exc
        if len(key_id) != 4 or len(blob) != 33 or blob[:1] != _ED25519_TYPE:
            raise FormatError("expected an Ed25519 (type 0x01) verifier key")
        verifier = cls(name, key_id, blob[1:])
        if note_key_id(name, verifier.public_key) != key_id:
            raise FormatError(f"verifier key for {name}: key ID does not match the key")
        return verifier

    def __str__(self) -> str:
        return format_verifier_key(self.name, self.public_key)


def note_key_id(name: str, public_key: bytes) -> bytes:
    """signed-note §Signatures: SHA-256(name || 0x0A || 0x01 || key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + _ED25519_TYPE + public_key).digest()[
        :4
    ]


def format_verifier_key(name: str, public_key: bytes) -> str:
    """The verifier key text for an Ed25519 public key under `name`."""
    key_id = note_key_id(name, public_key)
    blob = base64.b64encode(_ED25519_TYPE + public_key).decode()
    return f"{name}+{key_id.hex()}+{blob}"


def sign_note(text: str, name: str, signer: Signer) -> str:
    """Sign `text` (which must end in a newline) as `name`; return the whole note."""
    if signer.algorithm != ED25519:
        raise FormatError(f"expected an {ED25519} signer, got {signer.algorithm}")
    _check_text(text)
    _check_name(name)
    signature = signer.sign(text.encode())
    blob = base64.b64encode(note_key_id(name, signer.public_key) + signature)
    return f"{text}\n{_SIGNATURE_PREFIX}{name} {blob.decode()}\n"


def open_note(note: str, verifiers: list[NoteVerifier]) -> str:
    """Verify `note` and return its text.

    signed-note §Signatures: lines from unknown keys are ignored; a known key whose
    signature fails rejects the note; at least one known key must have signed.
    """
    if len(note.encode()) > MAX_NOTE_SIZE:
        raise FormatError(f"expected a note of at most {MAX_NOTE_SIZE} bytes")
    text, lines = _split(note)
    known = {(v.name, v.key_id): v for v in verifiers}
    verified = 0
    for line in lines:
        name, blob = _parse_signature_line(line)
        verifier = known.get((name, blob[:4]))
        if verifier is None:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(verifier.public_key).verify(
                blob[4:], text.encode()
            )
        except (InvalidSignature, ValueError) as exc:
            raise ProofError(f"note signature by {name} does not verify") from exc
        verified += 1
    if not verified:
        raise ProofError("note is not signed by any trusted key")
    return text


def _split(note: str) -> tuple[str, list[str]]:
    if not note.endswith("\n"):
        raise FormatError("expected a note ending in a newline")
    _check_text(note)
    # The text is separated from the signatures by the last empty line.
    cut = note.rfind("\n\n")
    if cut < 0:
        raise FormatError("expected a blank line before the signatures")
    text = note[: cut + 1]
    lines = note[cut + 2 :].splitlines()
    if not lines:
        raise FormatError("expected at least one signature line")
    return text, lines


def _parse_signature_line(line: str) -> tuple[str, bytes]:
    if not line.startswith(_SIGNATURE_PREFIX):
        raise FormatError("expected signature lines starting with an em dash")
    name, _, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
    try:
        blob = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise FormatError(f"signature line for {name}: malformed base64") from exc
    if not name or len(blob) < 5:
        raise FormatError("signature line is too short")
    return name, blob


def _check_name(name: str) -> None:
    # signed-note §Format: non-empty, no Unicode spaces, no plus sign.
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise FormatError(f"key name {name!r} is empty or has a space or '+'")


def _check_text(text: str) -> None:
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise FormatError("note holds a control character other than newline")
    if not text.endswith("\n"):
        raise FormatError("expected note text ending in a newline")
