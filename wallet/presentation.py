"""The learner's signature on a wallet's presentation, made on the learner's machine.

The service never holds a learner's private key, so it exports the presentation
unsigned; `credbank wallet sign WALLET --holder-key FILE` (or `wallet export
--holder-key FILE`) signs it locally with the Ed25519 key behind the learner's
registered `did:key` (VC Data Model 2.0 §4.13; Data Integrity 1.0 with proof
purpose `authentication`, cryptosuite eddsa-rdfc-2022).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from credentials.data_integrity import EDDSA_RDFC_2022, add_proof
from keys.errors import CredbankError
from keys.multikey import encode_multikey
from keys.signers import ED25519, LocalSigner, Signer
from wallet.export import presented_form

__all__ = ["HolderKeyError", "did_key_of", "load_holder_key", "sign_presentation"]


class HolderKeyError(CredbankError):
    """The holder's key cannot sign this wallet's presentation."""


def load_holder_key(data: bytes) -> LocalSigner:
    """An Ed25519 private key from a PEM (PKCS #8) file, unencrypted."""
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise HolderKeyError(
            "expected an unencrypted PEM (PKCS #8) Ed25519 private key"
        ) from exc
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise HolderKeyError(
            f"expected an Ed25519 private key, got {type(key).__name__}"
        )
    return LocalSigner("holder", key)


def did_key_of(signer: Signer) -> str:
    """The did:key of the signer's public key (did:key 0.9 §3.1.1)."""
    return "did:key:" + encode_multikey(signer.algorithm, signer.public_key)


def sign_presentation(
    wallet: dict[str, Any], signer: Signer, *, now: datetime
) -> dict[str, Any]:
    """A copy of `wallet` whose presentation carries the holder's proof.

    Raises:
        HolderKeyError: the wallet names no did:key holder, the key is not the
            holder's, or the presentation is not the one the wallet prescribes
            (docs/wallet-format.md §2.5), which the learner would then vouch for.
    """
    holder = wallet.get("holder")
    if not isinstance(holder, str) or not holder.startswith("did:key:"):
        raise HolderKeyError(
            "the wallet names no did:key holder: register one "
            "(POST /learners/<id>/did) and export the wallet again"
        )
    if signer.algorithm != ED25519:
        raise HolderKeyError(f"expected an Ed25519 key, got {signer.algorithm}")
    own = did_key_of(signer)
    if own != holder:
        raise HolderKeyError(f"expected the key of {holder}, got the key of {own}")

    presented = wallet["presentation"]
    expected = [presented_form(item["secured"]) for item in wallet["credentials"]]
    if presented.get("verifiableCredential") != expected:
        raise HolderKeyError(
            "expected a presentation of the wallet's credentials, in order; "
            "got other ones: export the wallet again"
        )
    if presented.get("holder") != holder:
        raise HolderKeyError(
            f"expected a presentation by {holder}, got one by {presented.get('holder')}"
        )

    signed = copy.deepcopy(wallet)
    presentation = {k: v for k, v in signed["presentation"].items() if k != "proof"}
    encoded = holder.removeprefix("did:key:")
    signed["presentation"] = add_proof(
        presentation,
        signer,
        cryptosuite=EDDSA_RDFC_2022,
        verification_method=f"{holder}#{encoded}",
        created=now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        proof_purpose="authentication",
    )
    return signed
