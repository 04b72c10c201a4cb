"""Multikey and base58-btc encoding, against published vectors (tests/vectors/keys)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from keys import ED25519, P256, KeyStoreError
from keys.multikey import b58decode, b58encode, decode_multikey, encode_multikey
from keys.signers import public_key_bytes

VECTORS = Path(__file__).parents[1] / "vectors" / "keys"
BASE58 = json.loads((VECTORS / "base58_encode_decode.json").read_text())
MULTIKEYS = json.loads((VECTORS / "multikey_did_key.json").read_text())


def _public_key(case: dict[str, Any]) -> bytes:
    if case["algorithm"] == ED25519:
        seed = bytes.fromhex(case["seed"])
        return public_key_bytes(ed25519.Ed25519PrivateKey.from_private_bytes(seed))
    x, y = (
        base64.urlsafe_b64decode(case[name] + "=" * (-len(case[name]) % 4))
        for name in ("jwkX", "jwkY")
    )
    return b"\x04" + x + y


@pytest.mark.parametrize(("hex_bytes", "text"), BASE58, ids=[t[:12] for _, t in BASE58])
def test_base58_matches_bitcoin_vectors(hex_bytes: str, text: str) -> None:
    data = bytes.fromhex(hex_bytes)

    assert b58encode(data) == text
    assert b58decode(text) == data


@pytest.mark.parametrize("bad", ["0", "O", "I", "l", "abc+", "2g "])
def test_base58_refuses_characters_outside_the_alphabet(bad: str) -> None:
    with pytest.raises(KeyStoreError, match="expected base58-btc, got character"):
        b58decode(bad)


@pytest.mark.parametrize("case", MULTIKEYS, ids=[c["case"] for c in MULTIKEYS])
def test_multikey_matches_did_key_vectors(case: dict[str, Any]) -> None:
    public_key = _public_key(case)

    encoded = encode_multikey(case["algorithm"], public_key)

    assert encoded == case["publicKeyMultibase"]
    assert decode_multikey(encoded) == (case["algorithm"], public_key)
    if "publicKeyBase58" in case:
        assert b58encode(public_key) == case["publicKeyBase58"]


def test_ed25519_multikey_round_trips_with_z6mk_prefix() -> None:
    public_key = public_key_bytes(ed25519.Ed25519PrivateKey.generate())

    encoded = encode_multikey(ED25519, public_key)

    # 0xed 0x01 under base58 always starts "6Mk" for 34-byte values.
    assert encoded.startswith("z6Mk")
    assert decode_multikey(encoded) == (ED25519, public_key)


def test_p256_multikey_round_trips_to_the_uncompressed_point() -> None:
    private_key = ec.generate_private_key(ec.SECP256R1())
    public_key = public_key_bytes(private_key)
    compressed = private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )

    encoded = encode_multikey(P256, public_key)

    assert encoded.startswith("zDn")
    assert encoded == encode_multikey(P256, compressed)
    assert decode_multikey(encoded) == (P256, public_key)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "starting with 'z'"),
        ("u7QE", "starting with 'z'"),
        ("z" + b58encode(b"\xe7\x01" + bytes(33)), "expected an Ed25519 or P-256"),
        ("z" + b58encode(b"\xed\x01" + bytes(31)), "expected a 32-byte Ed25519 key"),
        ("z" + b58encode(b"\x80\x24\x02" + b"\xff" * 32), "not a P-256 point"),
        ("z" + b58encode(b"\x80\x24\x04" + bytes(64)), "not a P-256 point"),
    ],
    ids=["no-multibase", "base64url", "secp256k1", "short", "x-too-big", "off-curve"],
)
def test_decode_multikey_refuses_what_it_cannot_use(value: str, message: str) -> None:
    with pytest.raises(KeyStoreError, match=message):
        decode_multikey(value)
