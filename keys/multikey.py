"""Multikey public key encoding (W3C Controlled Identifiers v1.0 §2.2.2).

A Multikey is the multicodec prefix of the key type followed by the raw key, written
in multibase base58-btc (leading `z`).
"""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from keys.errors import KeyStoreError
from keys.signers import ED25519, P256

__all__ = ["b58decode", "b58encode", "decode_multikey", "encode_multikey"]

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {ch: i for i, ch in enumerate(_ALPHABET)}

# Multicodec table: ed25519-pub 0xed, p256-pub 0x1200 (compressed point), as varints.
_PREFIXES = {ED25519: b"\xed\x01", P256: b"\x80\x24"}


def b58encode(data: bytes) -> str:
    """Base58-btc: leading zero bytes become '1's, the rest a big-endian number."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, rest = divmod(number, 58)
        digits.append(_ALPHABET[rest])
    return "1" * zeros + "".join(reversed(digits))


def b58decode(text: str) -> bytes:
    number = 0
    for ch in text:
        if ch not in _INDEX:
            raise KeyStoreError(f"expected base58-btc, got character {ch!r}")
        number = number * 58 + _INDEX[ch]
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def encode_multikey(algorithm: str, public_key: bytes) -> str:
    """`publicKeyMultibase` for a raw public key (P-256 is stored uncompressed)."""
    if algorithm == P256:
        public_key = _compress_p256(public_key)
    return "z" + b58encode(_PREFIXES[algorithm] + public_key)


def decode_multikey(value: str) -> tuple[str, bytes]:
    """Return (algorithm, raw key) of a `publicKeyMultibase` value.

    The raw key is what `encode_multikey` takes: 32 bytes for Ed25519, the
    uncompressed point for P-256.
    """
    if not value.startswith("z"):
        raise KeyStoreError("expected a base58-btc multibase value starting with 'z'")
    blob = b58decode(value[1:])
    for algorithm, prefix in _PREFIXES.items():
        if blob.startswith(prefix):
            key = blob[len(prefix) :]
            if algorithm == P256:
                return algorithm, _decompress_p256(key)
            if len(key) != 32:
                raise KeyStoreError(
                    f"expected a 32-byte Ed25519 key, got {len(key)} bytes"
                )
            return algorithm, key
    raise KeyStoreError("expected an Ed25519 or P-256 Multikey")


def _decompress_p256(point: bytes) -> bytes:
    # Signers and the key store hold P-256 keys as uncompressed points; answer alike.
    try:
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError as exc:
        raise KeyStoreError("Multikey value is not a P-256 point") from exc
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def _compress_p256(point: bytes) -> bytes:
    if len(point) == 33:
        return point
    x, y = point[1:33], point[33:]
    return bytes([2 + (y[-1] & 1)]) + x
