"""The W3C Bitstring Status List v1.0 codec and documents.

`Bitstring` holds one status bit per index. Invariants: its length is a multiple of 8
and at least `MINIMUM_BITS`; index 0 is the left-most (most significant) bit of byte 0
and the last index the right-most bit of the last byte (§2.2, `encodedList`). Its
encoded form is multibase base64url, without padding, of the GZIP (RFC 1952) of the
bytes (§3.3 Bitstring Generation, §3.4 Bitstring Expansion). The builders make the
BitstringStatusListCredential body (§2.2) and a credential's BitstringStatusListEntry
(§2.1); signing them is the caller's business.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from credentials.errors import (
    MalformedCredentialError,
    StatusListError,
    StatusListLengthError,
)
from credentials.loader import CREDENTIALS_V2
from credentials.multibase import decode_base64url, encode_base64url

__all__ = [
    "DEFAULT_TTL",
    "MAXIMUM_BYTES",
    "MINIMUM_BITS",
    "REVOCATION",
    "STATUS_PURPOSES",
    "SUSPENSION",
    "Bitstring",
    "StatusEntry",
    "parse_status_entry",
    "status_list_credential",
    "status_list_entry",
]

# §3.2 Validate Algorithm step 2 (and §2.2: "at least 16KB"): 131,072 entries.
MINIMUM_BITS = 131_072
# Our own cap on an expanded list, so that a small GZIP bomb cannot exhaust memory:
# 16 MiB is 128 times the minimum list and far above any list we publish.
MAXIMUM_BYTES = 16 * 1024 * 1024
# §2.2 `ttl`: milliseconds; a verifier assumes 300000 when it is absent.
DEFAULT_TTL = 300_000

REVOCATION = "revocation"
SUSPENSION = "suspension"
STATUS_PURPOSES = (REVOCATION, SUSPENSION)

_ENTRY_TYPE = "BitstringStatusListEntry"
_LIST_TYPE = "BitstringStatusList"
_CREDENTIAL_TYPE = "BitstringStatusListCredential"
# §2.1 statusListIndex: an integer >= 0 written in base 10 (no sign, no padding).
_INDEX = re.compile(r"0|[1-9][0-9]*")


class Bitstring:
    """A mutable list of status bits (see the module docstring for its invariants)."""

    __slots__ = ("_bytes",)

    def __init__(self, length: int = MINIMUM_BITS) -> None:
        if length < MINIMUM_BITS or length % 8:
            raise StatusListError(
                f"expected a length that is a multiple of 8 and at least "
                f"{MINIMUM_BITS}, got {length}"
            )
        self._bytes = bytearray(length // 8)

    @classmethod
    def from_bytes(cls, data: bytes) -> Bitstring:
        """The bitstring whose packed bytes are `data` (index 0 = MSB of byte 0)."""
        if len(data) * 8 < MINIMUM_BITS:
            raise StatusListLengthError(MINIMUM_BITS, len(data) * 8)
        bitstring = cls.__new__(cls)
        bitstring._bytes = bytearray(data)
        return bitstring

    @classmethod
    def decode(cls, encoded: str) -> Bitstring:
        """Expand an `encodedList` value (§3.4 Bitstring Expansion Algorithm).

        Raises:
            StatusListError: not multibase base64url, not a single GZIP member, or
                larger than `MAXIMUM_BYTES` once expanded.
            StatusListLengthError: fewer than `MINIMUM_BITS` bits (§3.2 step 9).
        """
        try:
            compressed = decode_base64url(encoded)
        except MalformedCredentialError as exc:
            raise StatusListError(f"encodedList: {exc}") from exc
        return cls.from_bytes(_gunzip(compressed))

    def __len__(self) -> int:
        return len(self._bytes) * 8

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Bitstring):
            return NotImplemented
        return self._bytes == other._bytes

    def __hash__(self) -> int:
        raise TypeError("Bitstring is mutable and cannot be hashed")

    def __repr__(self) -> str:
        return f"Bitstring(length={len(self)}, set={self.count()})"

    def get(self, index: int) -> bool:
        """Whether the bit at `index` is set (§3.2 step 10; RANGE_ERROR outside)."""
        byte, mask = self._locate(index)
        return bool(self._bytes[byte] & mask)

    def set(self, index: int, value: bool = True) -> None:
        """Set (or, with `value=False`, clear) the bit at `index`."""
        byte, mask = self._locate(index)
        if value:
            self._bytes[byte] |= mask
        else:
            self._bytes[byte] &= ~mask & 0xFF

    def count(self) -> int:
        """How many bits are set."""
        return int.from_bytes(self._bytes, "big").bit_count()

    def to_bytes(self) -> bytes:
        """The packed bits, index 0 in the most significant bit of byte 0."""
        return bytes(self._bytes)

    def encode(self) -> str:
        """The `encodedList` value (§3.3 Bitstring Generation Algorithm step 3)."""
        # mtime=0 keeps the output a function of the bits alone.
        return encode_base64url(gzip.compress(self._bytes, mtime=0))

    def _locate(self, index: int) -> tuple[int, int]:
        if isinstance(index, bool) or not isinstance(index, int):
            raise StatusListError(f"expected an integer index, got {index!r}")
        if not 0 <= index < len(self):
            raise StatusListError(f"expected an index in [0, {len(self)}), got {index}")
        # §2.2: index 0 is the left-most bit, so bit i is mask 0x80 >> (i mod 8).
        return index // 8, 0x80 >> (index % 8)


@dataclass(frozen=True)
class StatusEntry:
    """A parsed BitstringStatusListEntry (§2.1)."""

    list_url: str
    index: int
    status_purpose: str


def status_list_credential(
    list_url: str,
    *,
    issuer: str | Mapping[str, Any],
    status_purpose: str,
    bitstring: Bitstring,
    valid_from: str | None = None,
    valid_until: str | None = None,
    ttl: int = DEFAULT_TTL,
) -> dict[str, Any]:
    """The unsigned BitstringStatusListCredential served at `list_url` (§2.2).

    `ttl` is in milliseconds (§2.2); the HTTP cache headers should agree with it.
    """
    _check_purpose(status_purpose)
    if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0:
        raise StatusListError(f"expected ttl as a positive integer, got {ttl!r}")
    credential: dict[str, Any] = {
        "@context": [CREDENTIALS_V2],
        "id": list_url,
        "type": ["VerifiableCredential", _CREDENTIAL_TYPE],
        "issuer": issuer,
    }
    if valid_from is not None:
        credential["validFrom"] = valid_from
    if valid_until is not None:
        credential["validUntil"] = valid_until
    credential["credentialSubject"] = {
        "id": f"{list_url}#list",
        "type": _LIST_TYPE,
        "statusPurpose": status_purpose,
        "encodedList": bitstring.encode(),
        "ttl": ttl,
    }
    return credential


def status_list_entry(
    list_url: str,
    index: int,
    *,
    status_purpose: str,
    list_length: int = MINIMUM_BITS,
) -> dict[str, Any]:
    """A credential's BitstringStatusListEntry for bit `index` of `list_url` (§2.1).

    The entry's `id` is `<list_url>#<index>`, which §2.1 allows (it is not the list's
    own URL). `statusListIndex` is written as a base-10 string, as §2.1 requires.
    """
    _check_purpose(status_purpose)
    if isinstance(index, bool) or not isinstance(index, int):
        raise StatusListError(f"expected an integer index, got {index!r}")
    if not 0 <= index < list_length:
        raise StatusListError(f"expected an index in [0, {list_length}), got {index}")
    return {
        "id": f"{list_url}#{index}",
        "type": _ENTRY_TYPE,
        "statusPurpose": status_purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def parse_status_entry(entry: Mapping[str, Any]) -> StatusEntry:
    """Read a BitstringStatusListEntry, refusing what §2.1 does not allow.

    Only one-bit entries with a revocation or suspension purpose are understood;
    `statusSize` other than 1 and the `message` purpose are refused.
    """
    if not isinstance(entry, Mapping):
        raise StatusListError(
            f"expected a status entry object, got {type(entry).__name__}"
        )
    if entry.get("type") != _ENTRY_TYPE:
        raise StatusListError(
            f"expected type {_ENTRY_TYPE!r}, got {entry.get('type')!r}"
        )
    purpose = entry.get("statusPurpose")
    _check_purpose(purpose)
    index = entry.get("statusListIndex")
    if not isinstance(index, str) or not _INDEX.fullmatch(index):
        raise StatusListError(
            f"expected statusListIndex as a base-10 string, got {index!r}"
        )
    url = entry.get("statusListCredential")
    if not isinstance(url, str) or not url:
        raise StatusListError(f"expected statusListCredential as a URL, got {url!r}")
    if entry.get("statusSize", 1) != 1:
        raise StatusListError(f"expected statusSize 1, got {entry.get('statusSize')!r}")
    return StatusEntry(list_url=url, index=int(index), status_purpose=str(purpose))


def _check_purpose(purpose: object) -> None:
    if purpose not in STATUS_PURPOSES:
        raise StatusListError(
            f"expected statusPurpose {' or '.join(STATUS_PURPOSES)}, got {purpose!r}"
        )


def _gunzip(compressed: bytes) -> bytes:
    # wbits 16 + 15: a GZIP wrapper around a full-window deflate stream.
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(compressed, MAXIMUM_BYTES)
    except zlib.error as exc:
        raise StatusListError(f"expected GZIP data in encodedList, got: {exc}") from exc
    if inflater.unconsumed_tail:
        raise StatusListError(
            f"expected at most {MAXIMUM_BYTES} bytes once expanded, got more"
        )
    if not inflater.eof:
        raise StatusListError("expected a complete GZIP member, got a truncated one")
    if inflater.unused_data:
        raise StatusListError("expected one GZIP member, got trailing data")
    return data
