"""credentials: the W3C VC / Open Badges 3.0 data model, its JSON-LD contexts and
canonical forms, securing (Data Integrity EdDSA and VC-JOSE-COSE `vc+jwt`), the
credential digest and the Bitstring Status List codec (DESIGN §2, §4).

Pure: no database, no Flask, no network. Where a result depends on the time, the
time is an argument; the one exception is `verify_vc_jwt`, which lets PyJWT check a
token's `exp` and `nbf` claims (when it has them) against the clock.
"""

from credentials.canonical import canonicalize_json, canonicalize_rdf
from credentials.data_integrity import (
    CRYPTOSUITES,
    EDDSA_JCS_2022,
    EDDSA_RDFC_2022,
    VerifiedProof,
    add_proof,
    verify_proof,
)
from credentials.digest import credential_digest
from credentials.errors import (
    AlgorithmMismatchError,
    ControlCharacterError,
    CredentialError,
    InvalidSignatureError,
    MalformedCredentialError,
    MediaTypeError,
    ProofGenerationError,
    ProofVerificationError,
    StatusListError,
    StatusListLengthError,
    UnknownContextError,
    UnknownKeyError,
)
from credentials.jose import sign_vc_jwt, verify_vc_jwt
from credentials.loader import (
    CONTEXTS,
    check_characters,
    check_contexts,
    check_document,
    document_loader,
    load_context,
)
from credentials.status_list import (
    MINIMUM_BITS,
    REVOCATION,
    SUSPENSION,
    Bitstring,
    StatusEntry,
    parse_status_entry,
    status_list_credential,
    status_list_entry,
)

__all__ = [
    "CONTEXTS",
    "CRYPTOSUITES",
    "EDDSA_JCS_2022",
    "EDDSA_RDFC_2022",
    "MINIMUM_BITS",
    "REVOCATION",
    "SUSPENSION",
    "AlgorithmMismatchError",
    "Bitstring",
    "ControlCharacterError",
    "CredentialError",
    "InvalidSignatureError",
    "MalformedCredentialError",
    "MediaTypeError",
    "ProofGenerationError",
    "ProofVerificationError",
    "StatusEntry",
    "StatusListError",
    "StatusListLengthError",
    "UnknownContextError",
    "UnknownKeyError",
    "VerifiedProof",
    "add_proof",
    "canonicalize_json",
    "canonicalize_rdf",
    "check_characters",
    "check_contexts",
    "check_document",
    "credential_digest",
    "document_loader",
    "load_context",
    "parse_status_entry",
    "sign_vc_jwt",
    "status_list_credential",
    "status_list_entry",
    "verify_proof",
    "verify_vc_jwt",
]
