"""The credential digest the log records (DESIGN §4).

SHA-256 over the RFC 8785 form of the credential without its `proof`, written as
multibase base64url without padding (prefix `u`). Every secured form of one credential
has the same digest: a Data Integrity proof is left out, and the payload of a `vc+jwt`
is the credential itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from credentials.canonical import canonicalize_json
from credentials.errors import MalformedCredentialError
from credentials.multibase import encode_base64url

__all__ = ["credential_digest", "digest_of"]


def credential_digest(credential: Mapping[str, Any]) -> str:
    """The multibase SHA-256 digest of `credential`, ignoring any `proof`."""
    if not isinstance(credential, Mapping):
        raise MalformedCredentialError(
            f"expected a credential object, got {type(credential).__name__}"
        )
    unsecured = {key: value for key, value in credential.items() if key != "proof"}
    return digest_of(canonicalize_json(unsecured))


def digest_of(canonical: bytes) -> str:
    """The digest of a credential whose RFC 8785 form, without `proof`, is
    `canonical`, written as `credential_digest` writes it."""
    return encode_base64url(hashlib.sha256(canonical).digest())
