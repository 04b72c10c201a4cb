"""Signer objects: the only way key material leaves the key store (DESIGN §5).

`Signer` is a protocol so that a PKCS#11 token or a cloud KMS can stand behind it later;
`LocalSigner` wraps a private key that the key store decrypted in memory.
"""

from __future__ import annotations

from typing import Protocol

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

__all__ = ["ED25519", "P256", "LocalSigner", "PrivateKey", "Signer"]

ED25519 = "Ed25519"
P256 = "P-256"

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey


class Signer(Protocol):
    """Signs bytes with one key; never exposes the private key."""

    @property
    def key_id(self) -> str: ...

    @property
    def algorithm(self) -> str:
        """`Ed25519` or `P-256`."""
        ...

    @property
    def public_key(self) -> bytes:
        """Raw public key: 32 bytes for Ed25519, the uncompressed point for P-256."""
        ...

    def sign(self, data: bytes) -> bytes:
        """Sign `data`: 64 raw bytes for Ed25519, r || s (64 bytes) for P-256."""
        ...


class LocalSigner:
    """A signer over a private key held in this process's memory."""

    def __init__(self, key_id: str, private_key: PrivateKey) -> None:
        self._key_id = key_id
        self._private_key = private_key
        self._public_key = public_key_bytes(private_key)

    def __repr__(self) -> str:
        return f"LocalSigner(key_id={self._key_id!r}, algorithm={self.algorithm!r})"

    @property
    def key_id(self) -> str:
        return self._key_id

    @property
    def algorithm(self) -> str:
        if isinstance(self._private_key, ed25519.Ed25519PrivateKey):
            return ED25519
        return P256

    @property
    def public_key(self) -> bytes:
        return self._public_key

    def sign(self, data: bytes) -> bytes:
        if isinstance(self._private_key, ed25519.Ed25519PrivateKey):
            return self._private_key.sign(data)
        der = self._private_key.sign(data, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def public_key_bytes(private_key: PrivateKey) -> bytes:
    """The raw encoding of a private key's public half."""
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
    return private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
