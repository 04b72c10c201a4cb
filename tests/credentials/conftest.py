"""Fixtures for the credentials tests: the published test keys as signers and
resolvers, and an Open Badges 3.0 credential of the shape DESIGN §4 describes."""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from credentials.achievements import achievement_document
from credentials.status_list import REVOCATION, SUSPENSION, status_list_entry
from keys.multikey import b58decode, decode_multikey
from keys.signers import ED25519, P256, LocalSigner

Resolver = Callable[[str], tuple[str, bytes]]

# Where the vector files are, for tests that need their exact bytes.
VECTOR_FILES = Path(__file__).parents[1] / "vectors"

ISSUER_DID = "did:web:credbank.test:issuers:centre-1"
BASE_URL = "http://credbank.test"
CREATED = "2026-12-01T09:30:00Z"

# The vc-di-eddsa key pair's verification method (did:key of its public key).
VC_DI_METHOD = (
    "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    "#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
)
VC_DI_CREATED = "2023-02-24T23:36:38Z"

# Multicodec ed25519-priv (0x1300) as a varint: the prefix of privateKeyMultibase.
_ED25519_PRIVATE_PREFIX = b"\x80\x26"


def resolver(keys: dict[str, tuple[str, bytes]]) -> Resolver:
    """A key resolver over a dict: KeyError (a LookupError) for an unknown id."""
    return keys.__getitem__


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwk_public_key(jwk: dict[str, str]) -> tuple[str, bytes]:
    """(algorithm, raw public key) of an OKP Ed25519 or EC P-256 JWK."""
    if jwk["kty"] == "OKP":
        return ED25519, b64url_decode(jwk["x"])
    return P256, b"\x04" + b64url_decode(jwk["x"]) + b64url_decode(jwk["y"])


@pytest.fixture
def vc_di_signer(vector: Any) -> LocalSigner:
    """The vc-di-eddsa vectors' published private key, as a signer."""
    encoded = vector("vc-di-eddsa/keyPair.json")["privateKeyMultibase"]
    blob = b58decode(encoded.removeprefix("z"))
    assert blob.startswith(_ED25519_PRIVATE_PREFIX)
    private = ed25519.Ed25519PrivateKey.from_private_bytes(blob[2:])
    return LocalSigner(VC_DI_METHOD, private)


@pytest.fixture
def vc_di_keys(vector: Any) -> Resolver:
    public = vector("vc-di-eddsa/keyPair.json")["publicKeyMultibase"]
    return resolver({VC_DI_METHOD: decode_multikey(public)})


@pytest.fixture
def ob3_signer(vector: Any) -> LocalSigner:
    """The 1EdTech OB 3.0 vector's published key (seed, then public key, in hex)."""
    pair = vector("ob3/keypair-and-hashes.json")
    seed = bytes.fromhex(pair["secretKeyHex_seed_then_pub"])[:32]
    private = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    return LocalSigner(pair["verificationMethod"], private)


@pytest.fixture
def ob3_keys(vector: Any) -> Resolver:
    pair = vector("ob3/keypair-and-hashes.json")
    return resolver(
        {pair["verificationMethod"]: (ED25519, bytes.fromhex(pair["publicKeyHex"]))}
    )


@pytest.fixture
def jose_keys(vector: Any) -> Resolver:
    """The VC-JOSE-COSE test suite's verification methods, keyed by JWK kid."""
    keys = {}
    for name in ("vm-ed25519.json", "vm-p256.json", "vm-did-ed25519.json"):
        jwk = vector(f"jose/{name}")["publicKeyJwk"]
        keys[jwk["kid"]] = jwk_public_key(jwk)
    return resolver(keys)


@pytest.fixture
def ed25519_signer() -> LocalSigner:
    return LocalSigner(f"{ISSUER_DID}#key-1", ed25519.Ed25519PrivateKey.generate())


@pytest.fixture
def p256_signer() -> LocalSigner:
    return LocalSigner(f"{ISSUER_DID}#key-2", ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture
def issuer_keys(ed25519_signer: LocalSigner, p256_signer: LocalSigner) -> Resolver:
    """Both issuer keys, by verification method id (and by key id for JOSE)."""
    return resolver(
        {
            signer.key_id: (signer.algorithm, signer.public_key)
            for signer in (ed25519_signer, p256_signer)
        }
    )


@pytest.fixture
def badge() -> dict[str, Any]:
    """An unsigned OpenBadgeCredential shaped as DESIGN §4 describes."""
    return copy.deepcopy(_BADGE)


def _badge() -> dict[str, Any]:
    issuer = {
        "id": ISSUER_DID,
        "type": ["Profile"],
        "name": "示范培训中心1号 Demo Training Centre 1",
        "url": "https://centre1.example.cn",
    }
    achievement_url = f"{BASE_URL}/achievements/ach-1"
    definition = {
        "name": {"zh": "智能仓储管理", "en": "Smart Warehouse Management"},
        "description": {
            "zh": "规划并运行自动化仓库。",
            "en": "Plan and run an automated warehouse.",
        },
        "criteria": {"en": "Pass the practical assessment in a training warehouse."},
        "achievementType": "MicroCredential",
        "credits": "3",
        "unit": "ECTS",
        "eqfLevel": 5,
        "fieldOfStudy": "Logistics",
        "alignments": [
            {
                "targetName": "Warehouse operations",
                "targetUrl": "https://competencies.example.org/wms",
            }
        ],
    }
    status_url = f"{BASE_URL}/status/centre-1-r1"
    suspension_url = f"{BASE_URL}/status/centre-1-s1"
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:0b1f3c2e-7d4a-4c55-9a51-3f1d2c4b5a69",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Smart Warehouse Management",
        "issuer": issuer,
        "validFrom": "2026-12-01T09:30:00Z",
        "validUntil": "2029-12-01T09:30:00Z",
        "credentialSubject": {
            "id": "did:key:z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi",
            "type": ["AchievementSubject"],
            "achievement": achievement_document(
                achievement_url, definition, creator=issuer, base_url=BASE_URL
            ),
            "creditsEarned": 3,
            "result": [{"type": ["Result"], "value": "A", "status": "Completed"}],
        },
        "credentialStatus": [
            status_list_entry(status_url, 94567, status_purpose=REVOCATION),
            status_list_entry(suspension_url, 23452, status_purpose=SUSPENSION),
        ],
    }


_BADGE = _badge()
