"""Data Integrity proofs with the cryptosuites eddsa-rdfc-2022 and eddsa-jcs-2022.

Implements W3C Verifiable Credential Data Integrity 1.0 ("Add Proof", "Verify Proof")
and W3C Data Integrity EdDSA Cryptosuites v1.0 §3.2 (eddsa-rdfc-2022) and §3.3
(eddsa-jcs-2022). The two suites differ only in how the document and the proof
configuration are canonicalised: RDFC-1.0 N-Quads, or RFC 8785 JSON. The private key
never leaves the signer; the verifier's key comes from a resolver, and its type, not
the proof, decides which algorithm is used.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from credentials.canonical import canonicalize_json, canonicalize_rdf
from credentials.errors import (
    AlgorithmMismatchError,
    CredentialError,
    InvalidSignatureError,
    ProofGenerationError,
    ProofVerificationError,
    UnknownKeyError,
)
from credentials.loader import check_contexts, check_document
from credentials.multibase import decode_base58btc, encode_base58btc
from keys.signers import ED25519, Signer

__all__ = [
    "CRYPTOSUITES",
    "EDDSA_JCS_2022",
    "EDDSA_RDFC_2022",
    "PROOF_TYPE",
    "VerifiedProof",
    "add_proof",
    "canonical_document",
    "canonical_proof_config",
    "hash_data",
    "verify_proof",
]

EDDSA_RDFC_2022 = "eddsa-rdfc-2022"
EDDSA_JCS_2022 = "eddsa-jcs-2022"
CRYPTOSUITES = (EDDSA_RDFC_2022, EDDSA_JCS_2022)
PROOF_TYPE = "DataIntegrityProof"

# Both suites sign with Ed25519 only (EdDSA Cryptosuites v1.0 §2.1 Verification
# Methods); its signatures are 64 bytes (RFC 8032 §5.1.6).
_SIGNATURE_LENGTH = 64

# An XML Schema 1.1 dateTimeStamp: a dateTime whose time zone is required, which is
# what Data Integrity 1.0 §2.1 asks of `created` and `expires`.
_DATE_TIME_STAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})"
)

logger = logging.getLogger(__name__)

KeyResolver = Callable[[str], tuple[str, bytes]]


@dataclass(frozen=True)
class VerifiedProof:
    """What a verified proof vouches for.

    `document` is the unsecured document the signature covers (with the proof's
    `@context`, where the proof carries one, as the suites prescribe); `proof` is the
    proof as found, for the checks that need the clock (`expires`) or a challenge.
    """

    document: dict[str, Any]
    proof: dict[str, Any]
    cryptosuite: str
    verification_method: str
    proof_purpose: str
    created: str | None


def add_proof(
    document: Mapping[str, Any],
    signer: Signer,
    *,
    cryptosuite: str,
    verification_method: str,
    created: str,
    proof_purpose: str = "assertionMethod",
    challenge: str | None = None,
    domain: str | None = None,
) -> dict[str, Any]:
    """A copy of `document` with a Data Integrity proof made by `signer`.

    `challenge` and `domain` (Data Integrity 1.0 §2.1) bind a presentation's
    proof to one verifier's request; they are signed with the other options.

    `created` is an XML Schema dateTimeStamp chosen by the caller (the time is an
    argument, never read from the clock). Data Integrity 1.0 "Add Proof" together with
    the suite's "Create Proof" (§3.2.1 for rdfc, §3.3.1 for jcs).

    Raises:
        ProofGenerationError: an unknown suite, a signer that is not Ed25519, a bad
            `created`, or a document that already has a proof.
        UnknownContextError, ControlCharacterError, MalformedCredentialError: the
            document cannot be signed as it is.
    """
    if cryptosuite not in CRYPTOSUITES:
        raise ProofGenerationError(
            f"expected cryptosuite {' or '.join(CRYPTOSUITES)}, got {cryptosuite!r}"
        )
    if signer.algorithm != ED25519:
        raise ProofGenerationError(
            f"expected an {ED25519} signer for {cryptosuite}, got {signer.algorithm}"
        )
    if "proof" in document:
        raise ProofGenerationError("expected a document without a proof, got one")
    if not _is_date_time_stamp(created):
        raise ProofGenerationError(
            f"expected created as an XML Schema dateTimeStamp, got {created!r}"
        )
    check_document(document)

    # A deep copy: the signed result must not change when the caller's document
    # does, nor the other way round.
    unsecured = copy.deepcopy(dict(document))

    # Create Proof step 1: the proof starts as a clone of the options.
    proof: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": cryptosuite,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    if domain is not None:
        proof["domain"] = domain
    if challenge is not None:
        proof["challenge"] = challenge
    # eddsa-jcs-2022 Create Proof step 2: the proof carries the document's context,
    # so that the JCS proof configuration binds it.
    if cryptosuite == EDDSA_JCS_2022 and "@context" in unsecured:
        proof["@context"] = copy.deepcopy(unsecured["@context"])

    # Steps 3-6: proof configuration, transformation, hashing, serialisation.
    config = canonical_proof_config(proof, unsecured)
    transformed = canonical_document(unsecured, cryptosuite)
    signature = signer.sign(hash_data(config, transformed))
    if len(signature) != _SIGNATURE_LENGTH:
        raise ProofGenerationError(
            f"expected a {_SIGNATURE_LENGTH}-byte Ed25519 signature, "
            f"got {len(signature)} bytes"
        )

    # Step 7: proofValue is the signature in multibase base58-btc.
    proof["proofValue"] = encode_base58btc(signature)
    logger.debug("added %s proof by %s", cryptosuite, verification_method)
    return {**unsecured, "proof": proof}


def verify_proof(
    document: Mapping[str, Any],
    public_key_for: KeyResolver,
    *,
    proof_purpose: str = "assertionMethod",
) -> VerifiedProof:
    """Verify the one Data Integrity proof of `document`.

    `public_key_for` maps a verificationMethod id to (algorithm, raw public key) and
    raises `LookupError` for an id it does not know; it is also where the caller
    checks that the method may be used for `proof_purpose`. Data Integrity 1.0
    "Verify Proof" with the suite's "Verify Proof" (§3.2.2 rdfc, §3.3.2 jcs).

    Raises:
        ProofVerificationError: any reason the proof does not hold, never `False`:
            `InvalidSignatureError`, `AlgorithmMismatchError`, `UnknownKeyError`, or
            the base class for a malformed or inapplicable proof.
            An unknown context or a malformed document is a `ProofVerificationError`
            too, whose `__cause__` is the `UnknownContextError` (or other
            `CredentialError`) that says why.
    """
    try:
        return _verify(document, public_key_for, proof_purpose)
    except ProofVerificationError:
        raise
    except CredentialError as exc:
        raise ProofVerificationError(f"cannot verify: {exc}") from exc


def _verify(
    document: Mapping[str, Any], public_key_for: KeyResolver, proof_purpose: str
) -> VerifiedProof:
    proof = _single_proof(document)

    # Data Integrity "Verify Proof": type, cryptosuite and purpose are what we expect.
    if proof.get("type") != PROOF_TYPE:
        raise ProofVerificationError(
            f"expected proof type {PROOF_TYPE!r}, got {proof.get('type')!r}"
        )
    cryptosuite = proof.get("cryptosuite")
    if cryptosuite not in CRYPTOSUITES:
        raise ProofVerificationError(
            f"expected cryptosuite {' or '.join(CRYPTOSUITES)}, got {cryptosuite!r}"
        )
    if proof.get("proofPurpose") != proof_purpose:
        raise ProofVerificationError(
            f"expected proofPurpose {proof_purpose!r}, "
            f"got {proof.get('proofPurpose')!r}"
        )
    method = proof.get("verificationMethod")
    if not isinstance(method, str) or not method:
        raise ProofVerificationError(
            f"expected verificationMethod as a URL, got {method!r}"
        )
    created = proof.get("created")
    if created is not None and not _is_date_time_stamp(created):
        raise ProofVerificationError(
            f"expected created as an XML Schema dateTimeStamp, got {created!r}"
        )
    check_contexts(document)

    # The key decides the algorithm: both suites are Ed25519 only.
    public_key = _resolve_ed25519(public_key_for, method, cryptosuite)

    # Suite Verify Proof steps 1-3: split the document, the options and the bytes.
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    options = {key: value for key, value in proof.items() if key != "proofValue"}
    signature = decode_base58btc(proof.get("proofValue"))
    if len(signature) != _SIGNATURE_LENGTH:
        raise ProofVerificationError(
            f"expected a {_SIGNATURE_LENGTH}-byte signature in proofValue, "
            f"got {len(signature)} bytes"
        )

    # Step 4: a proof that carries @context must carry a prefix of the document's,
    # and that prefix is what was signed.
    if "@context" in options:
        _check_context_prefix(options["@context"], document.get("@context"))
        unsecured["@context"] = options["@context"]

    # Steps 5-8: transformation, proof configuration, hashing, verification.
    transformed = canonical_document(unsecured, cryptosuite)
    config = canonical_proof_config(options, unsecured)
    try:
        public_key.verify(signature, hash_data(config, transformed))
    except InvalidSignature as exc:
        raise InvalidSignatureError(
            f"expected a valid {cryptosuite} signature by {method}, got one that "
            "does not match the document"
        ) from exc

    logger.debug("verified %s proof by %s", cryptosuite, method)
    return VerifiedProof(
        document=unsecured,
        proof=dict(proof),
        cryptosuite=cryptosuite,
        verification_method=method,
        proof_purpose=proof_purpose,
        created=created,
    )


def canonical_document(document: Mapping[str, Any], cryptosuite: str) -> bytes:
    """The transformed document: Transformation, §3.2.3 (rdfc) or §3.3.3 (jcs)."""
    if cryptosuite == EDDSA_RDFC_2022:
        return canonicalize_rdf(document).encode("utf-8")
    if cryptosuite == EDDSA_JCS_2022:
        return canonicalize_json(document)
    raise ProofGenerationError(
        f"expected cryptosuite {' or '.join(CRYPTOSUITES)}, got {cryptosuite!r}"
    )


def canonical_proof_config(
    options: Mapping[str, Any], document: Mapping[str, Any]
) -> bytes:
    """The canonical proof configuration: Proof Configuration, §3.2.5 or §3.3.5.

    `options` is the proof without `proofValue`. For eddsa-rdfc-2022 the
    configuration takes the document's `@context` (§3.2.5 step 4); for eddsa-jcs-2022
    it is the options as they are, which carry the context since Create Proof put it
    there.
    """
    cryptosuite = options.get("cryptosuite")
    # Proof Configuration step 2: only DataIntegrityProof with this suite.
    if options.get("type") != PROOF_TYPE or cryptosuite not in CRYPTOSUITES:
        raise ProofGenerationError(
            f"expected a {PROOF_TYPE} with cryptosuite {' or '.join(CRYPTOSUITES)}, "
            f"got type {options.get('type')!r}, cryptosuite {cryptosuite!r}"
        )
    # Step 3: created, when present, is a dateTimeStamp.
    created = options.get("created")
    if created is not None and not _is_date_time_stamp(created):
        raise ProofGenerationError(
            f"expected created as an XML Schema dateTimeStamp, got {created!r}"
        )
    config = {key: value for key, value in options.items() if key != "proofValue"}
    if cryptosuite == EDDSA_RDFC_2022:
        config["@context"] = document.get("@context")
        return canonicalize_rdf(config).encode("utf-8")
    return canonicalize_json(config)


def hash_data(canonical_config: bytes, canonical_document: bytes) -> bytes:
    """SHA-256 of the proof configuration, then of the document (§3.2.4, §3.3.4)."""
    return (
        hashlib.sha256(canonical_config).digest()
        + hashlib.sha256(canonical_document).digest()
    )


def _single_proof(document: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(document, Mapping):
        raise ProofVerificationError(
            f"expected a secured document object, got {type(document).__name__}"
        )
    proof = document.get("proof")
    if proof is None:
        raise ProofVerificationError("expected a proof, got none")
    if isinstance(proof, list):
        # NOTE: proof sets and chains (Data Integrity "Add Proof Set/Chain") are not
        # issued here; a list is refused rather than half-checked.
        raise ProofVerificationError(
            f"expected one proof object, got a list of {len(proof)}"
        )
    if not isinstance(proof, Mapping):
        raise ProofVerificationError(
            f"expected a proof object, got {type(proof).__name__}"
        )
    return proof


def _resolve_ed25519(
    public_key_for: KeyResolver, method: str, cryptosuite: str
) -> Ed25519PublicKey:
    try:
        algorithm, raw = public_key_for(method)
    except LookupError as exc:
        raise UnknownKeyError(method) from exc
    if algorithm != ED25519:
        raise AlgorithmMismatchError(
            f"an {ED25519} key for {cryptosuite}", f"a {algorithm} key at {method}"
        )
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise ProofVerificationError(
            f"expected a 32-byte {ED25519} public key, got {len(raw)} bytes"
        ) from exc


def _check_context_prefix(proof_context: Any, document_context: Any) -> None:
    proof_list = proof_context if isinstance(proof_context, list) else [proof_context]
    document_list = (
        document_context if isinstance(document_context, list) else [document_context]
    )
    if document_list[: len(proof_list)] != proof_list:
        raise ProofVerificationError(
            "expected the proof's @context to begin the document's @context, "
            f"got {proof_list!r} against {document_list!r}"
        )


def _is_date_time_stamp(value: object) -> bool:
    if not isinstance(value, str) or not _DATE_TIME_STAMP.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True
