"""did:web identifiers, DID documents and JWK sets of hosted issuers.

DID Core v1.0 §5 for the document; did:web method §3.2 for the identifier (a port's
colon is percent-encoded; path segments become colon-separated). Each key appears twice:
as a Multikey (Controlled Identifiers v1.0 §2.2.2) and as a JsonWebKey (§2.2.3). Retired
keys stay, so old credentials keep verifying; a compromised key stays too, carrying
`revoked` (Controlled Identifiers §2.2) with the time it was reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any
from urllib.parse import quote, urlsplit

from keys import COMPROMISED, StoredKey
from keys.jwk import JOSE_ALGORITHMS, public_jwk
from keys.multikey import encode_multikey

__all__ = [
    "DID_CONTEXTS",
    "SERVICE_KEY_OWNER",
    "did_document",
    "issuer_did",
    "jwk_method_id",
    "jwk_set",
    "multikey_method_id",
    "service_did",
]

# Only contexts the project ships (DESIGN §4), so that the document can be processed
# without fetching anything. Neither defines JsonWebKey, so a small inline context
# maps the two JWK terms to their IRIs in the Security Vocabulary (as Controlled
# Identifiers v1.0 §2.2.3 names them); without it JSON-LD processors drop the keys.
DID_CONTEXTS: list[str | dict[str, Any]] = [
    "https://www.w3.org/ns/did/v1",
    "https://w3id.org/security/multikey/v1",
    {
        "JsonWebKey": "https://w3id.org/security#JsonWebKey",
        "publicKeyJwk": {
            "@id": "https://w3id.org/security#publicKeyJwk",
            "@type": "@json",
        },
    },
]


# The key store owner of the service's own keys (credit-transfer statements).
SERVICE_KEY_OWNER = "service"


def service_did(base_url: str) -> str:
    """The service's own did:web: did:web:<host>, resolving to
    <host>/.well-known/did.json, or did:web:<host>:<path> (<base>/did.json) when
    the base URL has a path (did:web §3.2.1)."""
    parts = urlsplit(base_url)
    segments = [quote(parts.netloc, safe="")]
    segments += [quote(s, safe="") for s in parts.path.split("/") if s]
    return "did:web:" + ":".join(segments)


def issuer_did(base_url: str, slug: str) -> str:
    """did:web:<host>:issuers:<slug>, resolving to <base>/issuers/<slug>/did.json."""
    return f"{service_did(base_url)}:issuers:{slug}"


def multikey_method_id(did: str, key_id: str) -> str:
    return f"{did}#{key_id}"


def jwk_method_id(did: str, key_id: str) -> str:
    return f"{did}#{key_id}-jwk"


def did_document(did: str, keys: Sequence[StoredKey]) -> dict[str, Any]:
    """The DID document listing every key the issuer ever had."""
    methods: list[dict[str, Any]] = []
    for key in keys:
        revoked = _revoked(key)
        multikey = {
            "id": multikey_method_id(did, key.id),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": encode_multikey(key.algorithm, key.public_key),
        }
        jwk = {
            "id": jwk_method_id(did, key.id),
            "type": "JsonWebKey",
            "controller": did,
            "publicKeyJwk": public_jwk(key.algorithm, key.public_key),
        }
        for method in (multikey, jwk):
            methods.append(method | revoked)
    return {
        "@context": DID_CONTEXTS,
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }


def jwk_set(did: str, keys: Sequence[StoredKey]) -> dict[str, Any]:
    """RFC 7517 §5 JWK Set of the keys that verify; compromised keys are left out,
    because a JWK has no way to say since when it may no longer be trusted."""
    return {
        "keys": [
            public_jwk(key.algorithm, key.public_key)
            | {
                "kid": jwk_method_id(did, key.id),
                "alg": JOSE_ALGORITHMS[key.algorithm],
                "use": "sig",
            }
            for key in keys
            if key.state != COMPROMISED
        ]
    }


def _revoked(key: StoredKey) -> dict[str, str]:
    if key.state != COMPROMISED or key.compromised_at is None:
        return {}
    moment = key.compromised_at
    if moment.tzinfo is None:  # SQLite hands back naive UTC datetimes
        moment = moment.replace(tzinfo=UTC)
    return {"revoked": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
