"""JSON Web Keys (RFC 7517) for the public keys the store holds (RFC 8037 for OKP)."""

from __future__ import annotations

import base64
from typing import Any

from keys.errors import KeyStoreError
from keys.signers import ED25519, P256

__all__ = ["JOSE_ALGORITHMS", "public_jwk"]

# The JWS algorithm each key type signs with (RFC 8037 §3.1, RFC 7518 §3.4).
JOSE_ALGORITHMS = {ED25519: "EdDSA", P256: "ES256"}


def public_jwk(algorithm: str, public_key: bytes) -> dict[str, Any]:
    """The public JWK of a raw key (P-256 as an uncompressed point)."""
    if algorithm == ED25519:
        return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(public_key)}
    if algorithm == P256:
        if len(public_key) != 65 or public_key[0] != 4:
            raise KeyStoreError("expected an uncompressed P-256 point")
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": _b64url(public_key[1:33]),
            "y": _b64url(public_key[33:]),
        }
    raise KeyStoreError(f"expected {ED25519} or {P256}, got {algorithm!r}")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
