"""Signed notes (C2SP signed-note): verifier keys, signing and opening."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keys.signers import LocalSigner
from ledger import (
    FormatError,
    NoteVerifier,
    ProofError,
    format_verifier_key,
    open_note,
    sign_note,
)
from ledger.notes import MAX_NOTE_SIZE, note_key_id

NAME = "credbank.test/log"
TEXT = "credbank.test/log\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"


def _signer(seed: int) -> LocalSigner:
    return LocalSigner(
        f"seed-{seed}", Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
    )


def _verifier(signer: LocalSigner, name: str = NAME) -> NoteVerifier:
    return NoteVerifier.from_public_key(name, signer.public_key)


def _key_with_plus_in_base64() -> LocalSigner:
    for seed in range(256):
        signer = _signer(seed)
        if "+" in base64.b64encode(b"\x01" + signer.public_key).decode():
            return signer
    raise AssertionError("no seed gives a '+' in the key's base64")


def test_verifier_key_round_trip() -> None:
    verifier = _verifier(_signer(1))
    text = str(verifier)

    assert text == format_verifier_key(NAME, _signer(1).public_key)
    assert text.startswith(f"{NAME}+{note_key_id(NAME, verifier.public_key).hex()}+")
    assert NoteVerifier.parse(text) == verifier


def test_verifier_key_whose_base64_has_a_plus_parses() -> None:
    # About half of all Ed25519 keys have a '+' in their base64; the sum.golang.org
    # key is one of them.
    signer = _key_with_plus_in_base64()
    vkey = format_verifier_key(NAME, signer.public_key)
    assert vkey.count("+") > 2

    assert NoteVerifier.parse(vkey) == _verifier(signer)
    assert open_note(sign_note(TEXT, NAME, signer), [NoteVerifier.parse(vkey)]) == TEXT


GOOD_VKEY = format_verifier_key(NAME, _signer(1).public_key)
GOOD_ID = note_key_id(NAME, _signer(1).public_key).hex()
GOOD_KEY = base64.b64encode(b"\x01" + _signer(1).public_key).decode()

BAD_VKEYS = {
    "two-fields": (f"{NAME}+{GOOD_ID}", "expected a verifier key name\\+hex8\\+base64"),
    "empty-name": (f"+{GOOD_ID}+{GOOD_KEY}", "key name '' is empty"),
    "space-in-name": (f"a b+{GOOD_ID}+{GOOD_KEY}", "key name 'a b'"),
    "bad-hex": (f"{NAME}+zzzzzzzz+{GOOD_KEY}", "malformed key ID or key"),
    "bad-base64": (f"{NAME}+{GOOD_ID}+!!!!", "malformed key ID or key"),
    "short-key-id": (f"{NAME}+{GOOD_ID[:6]}+{GOOD_KEY}", "Ed25519 \\(type 0x01\\)"),
    "wrong-type": (
        f"{NAME}+{GOOD_ID}+" + base64.b64encode(b"\x02" + bytes(32)).decode(),
        "Ed25519 \\(type 0x01\\)",
    ),
    "short-key": (
        f"{NAME}+{GOOD_ID}+" + base64.b64encode(b"\x01" + bytes(31)).decode(),
        "Ed25519 \\(type 0x01\\)",
    ),
    "wrong-key-id": (f"{NAME}+00000000+{GOOD_KEY}", "key ID does not match the key"),
    "other-name": (f"other+{GOOD_ID}+{GOOD_KEY}", "key ID does not match the key"),
}


@pytest.mark.parametrize(("vkey", "message"), BAD_VKEYS.values(), ids=BAD_VKEYS.keys())
def test_malformed_verifier_key_is_refused(vkey: str, message: str) -> None:
    assert NoteVerifier.parse(GOOD_VKEY).name == NAME

    with pytest.raises(FormatError, match=message):
        NoteVerifier.parse(vkey)


def test_sign_and_open() -> None:
    note = sign_note(TEXT, NAME, _signer(1))

    assert note.startswith(TEXT + "\n\u2014 " + NAME + " ")
    assert open_note(note, [_verifier(_signer(1))]) == TEXT


def test_second_signature_by_a_bad_known_key_rejects_the_note() -> None:
    good = sign_note(TEXT, NAME, _signer(1))
    other = sign_note(TEXT, "witness", _signer(2)).splitlines()[-1]
    # Keep the witness's key ID but break its signature.
    name, blob = other[2:].split(" ")
    raw = bytearray(base64.b64decode(blob))
    raw[-1] ^= 1
    broken = f"\u2014 {name} {base64.b64encode(bytes(raw)).decode()}\n"
    verifiers = [_verifier(_signer(1)), _verifier(_signer(2), "witness")]

    assert open_note(good + other + "\n", verifiers) == TEXT
    with pytest.raises(ProofError, match="note signature by witness does not verify"):
        open_note(good + broken, verifiers)


def test_p256_signer_cannot_sign_notes() -> None:
    signer = LocalSigner("p256", ec.generate_private_key(ec.SECP256R1()))

    with pytest.raises(FormatError, match="expected an Ed25519 signer, got P-256"):
        sign_note(TEXT, NAME, signer)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no final newline", "ending in a newline"),
        ("tab\there\n", "control character"),
        ("carriage\r\n", "control character"),
    ],
    ids=["no-newline", "tab", "carriage-return"],
)
def test_sign_refuses_bad_text(text: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        sign_note(text, NAME, _signer(1))


@pytest.mark.parametrize("name", ["", "a+b", "a b", "a\u00a0b"], ids=repr)
def test_sign_refuses_bad_key_name(name: str) -> None:
    with pytest.raises(FormatError, match="is empty or has a space or '\\+'"):
        sign_note(TEXT, name, _signer(1))


def _note() -> str:
    return sign_note(TEXT, NAME, _signer(1))


MALFORMED_NOTES = {
    "no-final-newline": (_note()[:-1], "expected a note ending in a newline"),
    "no-blank-line": (TEXT, "expected a blank line before the signatures"),
    "no-signature": (TEXT + "\n", "expected at least one signature line"),
    "hyphen-not-em-dash": (
        _note().replace("\u2014", "-"),
        "signature lines starting with an em dash",
    ),
    "bad-base64": (TEXT + f"\n\u2014 {NAME} !!!\n", "malformed base64"),
    "short-signature": (
        TEXT + f"\n\u2014 {NAME} {base64.b64encode(b'1234').decode()}\n",
        "signature line is too short",
    ),
    "control-character": (
        _note().replace("\n3\n", "\n3\x00\n"),
        "control character",
    ),
    "too-big": ("x" * MAX_NOTE_SIZE + "\n", f"at most {MAX_NOTE_SIZE} bytes"),
}


@pytest.mark.parametrize(
    ("note", "message"), MALFORMED_NOTES.values(), ids=MALFORMED_NOTES.keys()
)
def test_malformed_note_is_refused(note: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        open_note(note, [_verifier(_signer(1))])


def test_note_without_trusted_keys_fails() -> None:
    with pytest.raises(ProofError, match="not signed by any trusted key"):
        open_note(_note(), [])
