"""The two multibase encodings credentials use (IETF draft-multiformats-multibase).

`z`: base58-btc, for `proofValue`. `u`: base64url without padding (RFC 4648 §5), for
digests and a status list's `encodedList`. Decoding is strict: the wrong prefix, a
character outside the alphabet, or padding is refused.
"""

from __future__ import annotations

import base64
import binascii
import re

from credentials.errors import MalformedCredentialError
from keys.errors import KeyStoreError
from keys.multikey import b58decode, b58encode

__all__ = [
    "decode_base58btc",
    "decode_base64url",
    "encode_base58btc",
    "encode_base64url",
]

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def encode_base58btc(data: bytes) -> str:
    return "z" + b58encode(data)


def decode_base58btc(value: object) -> bytes:
    if not isinstance(value, str) or not value.startswith("z"):
        raise MalformedCredentialError(
            f"expected multibase base58-btc (a 'z' prefix), got {value!r:.20}"
        )
    try:
        return b58decode(value[1:])
    except KeyStoreError as exc:
        raise MalformedCredentialError(str(exc)) from exc


def encode_base64url(data: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode_base64url(value: object) -> bytes:
    if not isinstance(value, str) or not value.startswith("u"):
        raise MalformedCredentialError(
            f"expected multibase base64url (a 'u' prefix), got {value!r:.20}"
        )
    body = value[1:]
    # A length of 1 mod 4 cannot come from any byte string.
    if not _BASE64URL.fullmatch(body) or len(body) % 4 == 1:
        raise MalformedCredentialError("expected base64url without padding")
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except binascii.Error as exc:
        raise MalformedCredentialError("expected base64url without padding") from exc
