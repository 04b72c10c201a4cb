"""did:web identifiers, DID documents and JWK sets of hosted issuers."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from issuers.did import (
    DID_CONTEXTS,
    did_document,
    issuer_did,
    jwk_method_id,
    jwk_set,
    multikey_method_id,
)
from keys import ACTIVE, COMPROMISED, ED25519, P256, RETIRED, StoredKey
from keys.errors import KeyStoreError
from keys.jwk import public_jwk
from keys.multikey import encode_multikey
from keys.signers import public_key_bytes
from tests.conftest import NOW

DID = "did:web:credbank.test:issuers:centre-1"


def stored_key(
    key_id: str, algorithm: str, state: str, compromised_at: datetime | None = None
) -> StoredKey:
    private = (
        ed25519.Ed25519PrivateKey.generate()
        if algorithm == ED25519
        else ec.generate_private_key(ec.SECP256R1())
    )
    return StoredKey(
        id=key_id,
        owner="issuer:centre-1",
        algorithm=algorithm,
        public_key=public_key_bytes(private),
        sealed_private_key=b"sealed",
        state=state,
        created_at=NOW,
        compromised_at=compromised_at,
    )


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://credbank.example.cn", "did:web:credbank.example.cn:issuers:s"),
        # did:web §3.2: the port's colon is percent-encoded.
        ("http://127.0.0.1:8000", "did:web:127.0.0.1%3A8000:issuers:s"),
        # A path becomes colon-separated segments.
        ("https://example.org/bank/cn", "did:web:example.org:bank:cn:issuers:s"),
    ],
)
def test_issuer_did_follows_did_web(base_url: str, expected: str) -> None:
    assert issuer_did(base_url, "s") == expected


def test_every_key_appears_as_multikey_and_json_web_key() -> None:
    old = stored_key("k-old", ED25519, RETIRED)
    new = stored_key("k-new", P256, ACTIVE)

    document = did_document(DID, [old, new])

    assert document["@context"] == DID_CONTEXTS
    assert document["id"] == DID
    methods = {m["id"]: m for m in document["verificationMethod"]}
    assert list(methods) == [
        multikey_method_id(DID, "k-old"),
        jwk_method_id(DID, "k-old"),
        multikey_method_id(DID, "k-new"),
        jwk_method_id(DID, "k-new"),
    ]
    assert document["assertionMethod"] == list(methods)
    assert methods[f"{DID}#k-old"] == {
        "id": f"{DID}#k-old",
        "type": "Multikey",
        "controller": DID,
        "publicKeyMultibase": encode_multikey(ED25519, old.public_key),
    }
    assert methods[f"{DID}#k-new-jwk"]["type"] == "JsonWebKey"
    assert methods[f"{DID}#k-new-jwk"]["publicKeyJwk"]["crv"] == "P-256"
    assert not any("revoked" in m for m in methods.values())


def test_a_compromised_key_carries_revoked_and_leaves_the_jwk_set() -> None:
    naive = datetime(2026, 12, 2, 8, 15, 30)  # as SQLite hands it back
    kept = stored_key("k-kept", ED25519, ACTIVE)
    lost = stored_key("k-lost", ED25519, COMPROMISED, compromised_at=naive)

    document = did_document(DID, [lost, kept])
    keys = jwk_set(DID, [lost, kept])["keys"]

    revoked = {m["id"]: m.get("revoked") for m in document["verificationMethod"]}
    assert revoked == {
        f"{DID}#k-lost": "2026-12-02T08:15:30Z",
        f"{DID}#k-lost-jwk": "2026-12-02T08:15:30Z",
        f"{DID}#k-kept": None,
        f"{DID}#k-kept-jwk": None,
    }
    assert [k["kid"] for k in keys] == [f"{DID}#k-kept-jwk"]


def test_revoked_is_written_in_utc() -> None:
    china = datetime(2026, 12, 3, 0, 0, tzinfo=timezone(timedelta(hours=8)))
    lost = stored_key("k-lost", ED25519, COMPROMISED, compromised_at=china)

    methods = did_document(DID, [lost])["verificationMethod"]

    assert {m["revoked"] for m in methods} == {"2026-12-02T16:00:00Z"}


def test_the_jwk_set_names_each_key_with_its_algorithm() -> None:
    retired = stored_key("k-1", ED25519, RETIRED)
    p256 = stored_key("k-2", P256, ACTIVE)

    keys = jwk_set(DID, [retired, p256])["keys"]

    assert keys[0] == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url(retired.public_key),
        "kid": f"{DID}#k-1-jwk",
        "alg": "EdDSA",
        "use": "sig",
    }
    assert keys[1] == {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(p256.public_key[1:33]),
        "y": b64url(p256.public_key[33:]),
        "kid": f"{DID}#k-2-jwk",
        "alg": "ES256",
        "use": "sig",
    }


def test_a_compressed_p256_point_is_refused() -> None:
    with pytest.raises(KeyStoreError, match="expected an uncompressed P-256 point"):
        public_jwk(P256, b"\x02" + b"\x00" * 32)


def test_an_unknown_algorithm_is_refused() -> None:
    with pytest.raises(KeyStoreError, match="expected Ed25519 or P-256, got 'RSA'"):
        public_jwk("RSA", b"\x00" * 32)
