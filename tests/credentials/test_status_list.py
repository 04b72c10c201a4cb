"""The Bitstring Status List v1.0 codec and its documents."""

from __future__ import annotations

import base64
import gzip
import zlib
from typing import Any

import pytest

from credentials.data_integrity import EDDSA_RDFC_2022, add_proof, verify_proof
from credentials.errors import StatusListError, StatusListLengthError
from credentials.status_list import (
    DEFAULT_TTL,
    MAXIMUM_BYTES,
    MINIMUM_BITS,
    REVOCATION,
    SUSPENSION,
    Bitstring,
    StatusEntry,
    parse_status_entry,
    status_list_credential,
    status_list_entry,
)
from keys.signers import LocalSigner
from tests.credentials.conftest import CREATED, ISSUER_DID, Resolver

# The encodedList of the spec's example BitstringStatusListCredential (§2.2): an
# empty list of the minimum size.
SPEC_EXAMPLE = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
LIST_URL = "http://credbank.test/status/centre-1-r1"


def encoded(data: bytes) -> str:
    """Multibase base64url of arbitrary (already compressed) bytes."""
    return "u" + base64.urlsafe_b64encode(data).decode().rstrip("=")


def expand(value: str) -> bytes:
    """An independent Bitstring Expansion (§3.4): strip 'u', base64url, gunzip."""
    body = value.removeprefix("u")
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def test_the_minimum_list_is_131072_bits_of_zero() -> None:
    bits = Bitstring()
    assert len(bits) == MINIMUM_BITS == 16 * 1024 * 8
    assert bits.count() == 0
    assert bits.to_bytes() == bytes(16 * 1024)


def test_the_spec_example_decodes_to_an_empty_minimum_list() -> None:
    bits = Bitstring.decode(SPEC_EXAMPLE)
    assert len(bits) == MINIMUM_BITS
    assert bits.count() == 0
    assert bits == Bitstring()


@pytest.mark.parametrize(
    ("index", "byte", "value"),
    [(0, 0, 0x80), (1, 0, 0x40), (7, 0, 0x01), (8, 1, 0x80), (MINIMUM_BITS - 1, -1, 1)],
)
def test_index_zero_is_the_left_most_bit(index: int, byte: int, value: int) -> None:
    # §2.2: "the first index, with a value of zero (0), is located at the left-most
    # bit in the bitstring and the last index ... at the right-most bit".
    bits = Bitstring()
    bits.set(index)
    packed = expand(bits.encode())
    assert packed[byte] == value
    assert sum(packed) == value


def test_set_get_and_clear() -> None:
    bits = Bitstring()
    for index in (0, 3, 94567, MINIMUM_BITS - 1):
        bits.set(index)
    assert [bits.get(i) for i in (0, 1, 3, 94567, 94568, MINIMUM_BITS - 1)] == [
        True,
        False,
        True,
        True,
        False,
        True,
    ]
    bits.set(3, False)
    assert not bits.get(3)
    assert bits.count() == 3


def test_encode_decode_round_trip() -> None:
    bits = Bitstring(2 * MINIMUM_BITS)
    for index in range(5, 2 * MINIMUM_BITS, 9973):
        bits.set(index)
    again = Bitstring.decode(bits.encode())
    assert again == bits
    assert len(again) == 2 * MINIMUM_BITS
    assert again.count() == bits.count() > 20


def test_encoding_depends_on_the_bits_alone() -> None:
    first, second = Bitstring(), Bitstring()
    first.set(42)
    second.set(42)
    assert first.encode() == second.encode()
    assert first.encode().startswith("u")
    assert "=" not in first.encode()


@pytest.mark.parametrize("length", [MINIMUM_BITS - 8, 8, 0, MINIMUM_BITS + 4])
def test_lists_shorter_than_the_minimum_or_ragged_cannot_be_made(length: int) -> None:
    with pytest.raises(StatusListError, match="at least 131072"):
        Bitstring(length)


def test_decoding_refuses_a_list_shorter_than_the_minimum() -> None:
    short = encoded(gzip.compress(bytes(MINIMUM_BITS // 8 - 1)))
    with pytest.raises(StatusListLengthError, match="at least 131072 bits, got 131064"):
        Bitstring.decode(short)


@pytest.mark.parametrize("index", [-1, MINIMUM_BITS, 2**40])
def test_indexes_outside_the_list_are_refused(index: int) -> None:
    with pytest.raises(StatusListError, match=r"expected an index in \[0, 131072\)"):
        Bitstring().get(index)
    with pytest.raises(StatusListError, match="expected an index"):
        Bitstring().set(index)


@pytest.mark.parametrize("index", [True, 1.0, "1"])
def test_non_integer_indexes_are_refused(index: Any) -> None:
    with pytest.raises(StatusListError, match="expected an integer index"):
        Bitstring().get(index)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (SPEC_EXAMPLE[1:], "'u' prefix"),
        ("z" + SPEC_EXAMPLE[1:], "'u' prefix"),
        (SPEC_EXAMPLE + "=", "base64url without padding"),
        (SPEC_EXAMPLE[:-1] + "+", "base64url without padding"),
        (SPEC_EXAMPLE + "A", "base64url without padding"),
        (encoded(b"not gzip at all"), "expected GZIP data"),
        (encoded(zlib.compress(bytes(MINIMUM_BITS // 8))), "expected GZIP data"),
        (encoded(gzip.compress(bytes(MINIMUM_BITS // 8))[:-12]), "truncated"),
        (encoded(gzip.compress(bytes(MINIMUM_BITS // 8)) + b"\0"), "trailing data"),
        (encoded(gzip.compress(bytes(MAXIMUM_BYTES + 1))), "at most 16777216 bytes"),
    ],
    ids=[
        "no-prefix",
        "base58-prefix",
        "padding",
        "plus-sign",
        "impossible-length",
        "not-gzip",
        "zlib-not-gzip",
        "truncated",
        "trailing-data",
        "gzip-bomb",
    ],
)
def test_malformed_encoded_lists_are_refused(value: Any, message: str) -> None:
    with pytest.raises(StatusListError, match=message):
        Bitstring.decode(value)


def test_status_list_credential_body() -> None:
    bits = Bitstring()
    bits.set(94567)
    credential = status_list_credential(
        LIST_URL,
        issuer=ISSUER_DID,
        status_purpose=REVOCATION,
        bitstring=bits,
        valid_from="2026-12-01T09:30:00Z",
    )
    assert credential == {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": LIST_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": ISSUER_DID,
        "validFrom": "2026-12-01T09:30:00Z",
        "credentialSubject": {
            "id": f"{LIST_URL}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": bits.encode(),
            "ttl": DEFAULT_TTL,
        },
    }
    assert Bitstring.decode(credential["credentialSubject"]["encodedList"]) == bits


def test_status_list_credential_signs_and_verifies(
    ed25519_signer: LocalSigner, issuer_keys: Resolver
) -> None:
    # Every term it uses is defined by the VC 2.0 context, so rdfc accepts it.
    credential = status_list_credential(
        LIST_URL,
        issuer=ISSUER_DID,
        status_purpose=SUSPENSION,
        bitstring=Bitstring(),
        valid_from="2026-12-01T09:30:00Z",
        valid_until="2026-12-02T09:30:00Z",
        ttl=60_000,
    )
    signed = add_proof(
        credential,
        ed25519_signer,
        cryptosuite=EDDSA_RDFC_2022,
        verification_method=ed25519_signer.key_id,
        created=CREATED,
    )
    assert verify_proof(signed, issuer_keys).document == credential


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"status_purpose": "message"}, "expected statusPurpose"),
        ({"ttl": 0}, "positive integer"),
        ({"ttl": 1.5}, "positive integer"),
    ],
)
def test_status_list_credential_refuses_bad_options(
    options: dict[str, Any], message: str
) -> None:
    arguments: dict[str, Any] = {"status_purpose": REVOCATION, **options}
    with pytest.raises(StatusListError, match=message):
        status_list_credential(
            LIST_URL, issuer=ISSUER_DID, bitstring=Bitstring(), **arguments
        )


def test_status_list_entry() -> None:
    entry = status_list_entry(LIST_URL, 94567, status_purpose=REVOCATION)
    assert entry == {
        "id": f"{LIST_URL}#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": LIST_URL,
    }
    assert parse_status_entry(entry) == StatusEntry(LIST_URL, 94567, REVOCATION)


@pytest.mark.parametrize("index", [-1, MINIMUM_BITS])
def test_status_list_entry_index_must_fit_the_list(index: int) -> None:
    with pytest.raises(StatusListError, match="expected an index"):
        status_list_entry(LIST_URL, index, status_purpose=SUSPENSION)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": "StatusList2021Entry"}, "expected type"),
        ({"statusPurpose": "message"}, "expected statusPurpose"),
        ({"statusListIndex": 5}, "base-10 string"),
        ({"statusListIndex": "05"}, "base-10 string"),
        ({"statusListIndex": "-5"}, "base-10 string"),
        ({"statusListIndex": "5 "}, "base-10 string"),
        ({"statusListCredential": None}, "as a URL"),
        ({"statusSize": 2}, "expected statusSize 1"),
    ],
)
def test_parse_status_entry_refuses_malformed_entries(
    change: dict[str, Any], message: str
) -> None:
    entry = {**status_list_entry(LIST_URL, 5, status_purpose=REVOCATION), **change}
    with pytest.raises(StatusListError, match=message):
        parse_status_entry(entry)
