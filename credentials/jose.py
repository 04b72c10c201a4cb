"""Credentials secured as `vc+jwt` (W3C Securing Verifiable Credentials using JOSE and
COSE, §3.1.1 "Securing JSON-LD Verifiable Credentials with JOSE").

The JWS payload is the credential itself, with no `vc` wrapper, so its digest is the
credential's. The compact JWS is built here and signed through the `Signer`, so the
private key never leaves the key store. A verifier takes the algorithm from the key
that `kid` names (Ed25519 -> EdDSA, P-256 -> ES256), never from the token: a header
asking for anything else (`none`, `HS256`, another curve) is refused before the
signature is checked with that one algorithm.

Verification parses the JWS itself (RFC 7515 §5.2) and checks the signature with
`cryptography`: PyJWT 2.15 checks every character of every segment in a Python loop,
three times per token, which cost more than the signature on a 4 kB credential.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from credentials.errors import (
    AlgorithmMismatchError,
    CredentialError,
    InvalidSignatureError,
    MediaTypeError,
    ProofGenerationError,
    ProofVerificationError,
    UnknownKeyError,
)
from credentials.loader import check_contexts, check_document
from keys.jwk import JOSE_ALGORITHMS
from keys.signers import ED25519, P256, Signer
from ledger import jcs

__all__ = [
    "CONTENT_TYPE",
    "MEDIA_TYPE",
    "DecodedJWS",
    "decode_vc_jwt",
    "sign_vc_jwt",
    "verify_vc_jwt",
]

# VC-JOSE-COSE §3.1.1: `typ` SHOULD be vc+jwt and `cty` SHOULD be vc. RFC 7515
# §4.1.9 lets the "application/" prefix be left out, and media types compare
# case-insensitively (RFC 2045 §5.1).
MEDIA_TYPE = "vc+jwt"
CONTENT_TYPE = "vc"

# RFC 8032 / RFC 7518 §3.4: both algorithms give 64-byte signatures here.
_SIGNATURE_LENGTH = 64

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")

# VC-JOSE-COSE §3.1.1: these JWT claim names MUST NOT appear in a credential.
_FORBIDDEN_CLAIMS = ("vc", "vp")

logger = logging.getLogger(__name__)

KeyResolver = Callable[[str], tuple[str, bytes]]


def sign_vc_jwt(credential: Mapping[str, Any], signer: Signer, *, kid: str) -> str:
    """The compact JWS of `credential`, typ `vc+jwt`, signed by `signer`.

    `kid` is the verification method's DID URL (DESIGN §4). The payload is the
    credential's compact JSON, members sorted; an embedded `proof`, if any, rides
    along unchanged.

    Raises:
        ProofGenerationError: the signer's algorithm has no JWS name here, or the
            credential carries a `vc` or `vp` claim.
        UnknownContextError, ControlCharacterError, MalformedCredentialError: the
            credential cannot be issued as it is.
    """
    algorithm = JOSE_ALGORITHMS.get(signer.algorithm)
    if algorithm is None:
        raise ProofGenerationError(
            f"expected an {ED25519} or {P256} signer, got {signer.algorithm!r}"
        )
    forbidden = [claim for claim in _FORBIDDEN_CLAIMS if claim in credential]
    if forbidden:
        raise ProofGenerationError(
            f"expected no {' or '.join(_FORBIDDEN_CLAIMS)} claim, got {forbidden}"
        )
    check_document(credential)

    signing_input = _encoded_header(algorithm, kid) + b"." + _b64(_json(credential))
    signature = signer.sign(signing_input)
    if len(signature) != _SIGNATURE_LENGTH:
        raise ProofGenerationError(
            f"expected a {_SIGNATURE_LENGTH}-byte {algorithm} signature, "
            f"got {len(signature)} bytes"
        )
    logger.debug("signed vc+jwt with %s (%s)", kid, algorithm)
    return (signing_input + b"." + _b64(signature)).decode("ascii")


@dataclass(frozen=True)
class DecodedJWS:
    """A compact JWS split into its parts and decoded, nothing else checked yet.

    `decode_vc_jwt` makes one; `verify_vc_jwt` takes it in place of the token, so
    that a caller who needs the payload or the `kid` before verifying decodes the
    token once.
    """

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes
    payload_bytes: bytes


def decode_vc_jwt(token: str) -> DecodedJWS:
    """Split `token` and decode its three parts (RFC 7515 §5.2 steps 1-7): each in
    its one canonical base64url spelling, header and payload JSON objects.

    Raises:
        ProofVerificationError: naming the part that does not decode.
    """
    encoded_header, encoded_payload, encoded_signature = _split(token)
    payload = _segment(encoded_payload, "payload")
    return DecodedJWS(
        header=_json_object(_segment(encoded_header, "header"), "header"),
        payload=_json_object(payload, "payload"),
        signing_input=f"{encoded_header}.{encoded_payload}".encode("ascii"),
        signature=_segment(encoded_signature, "signature"),
        payload_bytes=payload,
    )


def verify_vc_jwt(token: str | DecodedJWS, key_for: KeyResolver) -> dict[str, Any]:
    """Verify a `vc+jwt` (compact, or as `decode_vc_jwt` decoded it) and return
    the credential it carries.

    `key_for` maps the header's `kid` to (algorithm, raw public key) and raises
    `LookupError` for a `kid` it does not know. Steps, in order:

    1. Parse the protected header; refuse `crit` (no extension is understood).
    2. Media type: `typ` must be vc+jwt; `cty`, when present, vc.
    3. Resolve `kid`; the key's type fixes the algorithm; the header must agree.
    4. The signature, with that algorithm alone, and `exp`/`nbf` where
       present. `iat` is not checked: the W3C vectors carry it as a string.
    5. The payload: no `vc`/`vp` claims; `iss`, when present, names the issuer;
       its contexts are all shipped ones.

    A compact token is decoded part by part as the steps reach it, so a token
    with several faults is refused for the first one in this order.

    Raises:
        ProofVerificationError: on any failure, never returning `False`:
            `MediaTypeError`, `AlgorithmMismatchError`, `UnknownKeyError`,
            `InvalidSignatureError`, or the base class for the rest.
    """
    try:
        if isinstance(token, DecodedJWS):
            return _verify_decoded(token, key_for)
        return _verify(token, key_for)
    except ProofVerificationError:
        raise
    except CredentialError as exc:
        raise ProofVerificationError(f"cannot verify: {exc}") from exc


def _verify(token: str, key_for: KeyResolver) -> dict[str, Any]:
    # Step 1: the protected header (RFC 7515 §5.2 steps 1-4).
    encoded_header, encoded_payload, encoded_signature = _split(token)
    header = _json_object(_segment(encoded_header, "header"), "header")

    # Steps 1-3: what the header says, and the key `kid` names.
    public_key = _header_key(header, key_for)

    # Step 4: the signature over ASCII(header.payload) (RFC 7515 §5.2 step 8).
    signature = _segment(encoded_signature, "signature")
    signing_input = f"{encoded_header}.{encoded_payload}".encode("ascii")
    _check_signature(public_key, signature, signing_input, header)
    payload = _json_object(_segment(encoded_payload, "payload"), "payload")

    # Steps 4-5: the claims.
    _check_payload(payload)
    logger.debug("verified vc+jwt by %s (%s)", header["kid"], header["alg"])
    return payload


def _verify_decoded(token: DecodedJWS, key_for: KeyResolver) -> dict[str, Any]:
    # The steps of `_verify`, in its order, on parts decoded already.
    public_key = _header_key(token.header, key_for)
    _check_signature(public_key, token.signature, token.signing_input, token.header)
    _check_payload(token.payload)
    logger.debug("verified vc+jwt by %s (%s)", token.header["kid"], token.header["alg"])
    return token.payload


def _split(token: str) -> list[str]:
    if not isinstance(token, str) or token.count(".") != 2:
        raise ProofVerificationError("expected a compact JWS of three parts")
    return token.split(".")


def _header_key(
    header: Mapping[str, Any], key_for: KeyResolver
) -> Ed25519PublicKey | ec.EllipticCurvePublicKey:
    """Steps 1-3: no critical parameters, the media types, and the key `kid`
    names, whose type must be the algorithm `alg` asks for."""
    if "crit" in header:
        raise ProofVerificationError(
            f"expected no critical header parameters, got {header['crit']!r}"
        )

    # Step 2: media types.
    if _media_type(header.get("typ")) != MEDIA_TYPE:
        raise MediaTypeError("typ", MEDIA_TYPE, header.get("typ"))
    if "cty" in header and _media_type(header["cty"]) != CONTENT_TYPE:
        raise MediaTypeError("cty", CONTENT_TYPE, header["cty"])

    # Step 3: the key, and the algorithm it implies.
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ProofVerificationError(f"expected a kid header, got {kid!r}")
    try:
        key_algorithm, raw_key = key_for(kid)
    except LookupError as exc:
        raise UnknownKeyError(kid) from exc
    algorithm = JOSE_ALGORITHMS.get(key_algorithm)
    if algorithm is None:
        raise ProofVerificationError(
            f"expected an {ED25519} or {P256} key, got {key_algorithm!r} for {kid}"
        )
    if header.get("alg") != algorithm:
        raise AlgorithmMismatchError(
            f"alg {algorithm!r} (the key is {key_algorithm})",
            f"alg {header.get('alg')!r}",
        )
    return _public_key(key_algorithm, raw_key)


def _check_signature(
    public_key: Ed25519PublicKey | ec.EllipticCurvePublicKey,
    signature: bytes,
    signing_input: bytes,
    header: Mapping[str, Any],
) -> None:
    # Step 4, with the key's algorithm only (checked against `alg` already).
    if not _signature_holds(public_key, signature, signing_input):
        raise InvalidSignatureError(
            f"expected a valid {header['alg']} signature by {header['kid']}, got "
            "one that does not match the token"
        )


def _check_payload(payload: Mapping[str, Any]) -> None:
    # Step 4: exp and nbf where present.
    _check_times(payload)

    # Step 5: the claims that make the payload a credential.
    present = [claim for claim in _FORBIDDEN_CLAIMS if claim in payload]
    if present:
        raise ProofVerificationError(
            f"expected no {' or '.join(_FORBIDDEN_CLAIMS)} claim, got {present}"
        )
    _check_issuer(payload)
    check_contexts(payload)


def _check_issuer(payload: Mapping[str, Any]) -> None:
    # VC-JOSE-COSE §3.1.1: iss, when present, matches issuer (or issuer.id).
    if "iss" not in payload:
        return
    issuer = payload.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    if payload["iss"] != issuer_id:
        raise ProofVerificationError(
            f"expected iss to be the issuer {issuer_id!r}, got {payload['iss']!r}"
        )


# Loading a P-256 point checks that it is on the curve; keys are few and the
# objects immutable, so each is loaded once.
@functools.lru_cache(maxsize=256)
def _public_key(
    algorithm: str, raw: bytes
) -> Ed25519PublicKey | ec.EllipticCurvePublicKey:
    try:
        if algorithm == ED25519:
            return Ed25519PublicKey.from_public_bytes(raw)
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError as exc:
        raise ProofVerificationError(
            f"expected a raw {algorithm} public key, got {len(raw)} unusable bytes"
        ) from exc


def _segment(text: str, name: str) -> bytes:
    """One base64url part (RFC 7515 §2: no padding), in its one canonical spelling."""
    if not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ProofVerificationError(f"expected a base64url {name}")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    # Leftover bits in the last character would let one token have two spellings.
    if _b64(raw) != text.encode("ascii"):
        raise ProofVerificationError(f"expected a canonical base64url {name}")
    return raw


def _json_object(data: bytes, name: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ProofVerificationError(f"expected a JSON {name}") from exc
    if not isinstance(value, dict):
        raise ProofVerificationError(f"expected a JSON object as the {name}")
    return value


def _signature_holds(
    public_key: Ed25519PublicKey | ec.EllipticCurvePublicKey,
    signature: bytes,
    signing_input: bytes,
) -> bool:
    if len(signature) != _SIGNATURE_LENGTH:
        return False
    try:
        if isinstance(public_key, Ed25519PublicKey):
            public_key.verify(signature, signing_input)
        else:
            # RFC 7518 §3.4: ES256 signs as the 32-byte r and s side by side.
            r = int.from_bytes(signature[:32], "big")
            s = int.from_bytes(signature[32:], "big")
            public_key.verify(
                encode_dss_signature(r, s), signing_input, ec.ECDSA(hashes.SHA256())
            )
    except InvalidSignature:
        return False
    return True


def _check_times(payload: Mapping[str, Any]) -> None:
    # RFC 7519 §4.1.4 and §4.1.5: NumericDate seconds, no leeway. `iat` is not
    # checked: the W3C vectors carry it as a string.
    now = time.time()
    for claim in ("exp", "nbf"):
        value = payload.get(claim)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ProofVerificationError(f"expected {claim} as a NumericDate")
    if "exp" in payload and now >= payload["exp"]:
        raise ProofVerificationError("the token has expired (exp)")
    if "nbf" in payload and now < payload["nbf"]:
        raise ProofVerificationError("the token is not valid yet (nbf)")


def _media_type(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.lower()
    return value.removeprefix("application/")


def _json(value: Mapping[str, Any]) -> bytes:
    # The RFC 8785 form: compact, members sorted, so the same credential always
    # gives the same bytes (as in the W3C test suite's tokens), and the payload's
    # SHA-256 is the credential digest (credentials/digest.py) of a credential
    # with no embedded proof.
    try:
        return jcs.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise ProofGenerationError(f"expected a JSON object, got: {exc}") from exc


@functools.lru_cache(maxsize=64)
def _encoded_header(algorithm: str, kid: str) -> bytes:
    """The base64url JOSE header of a token signed by `kid` (one per issuer key, so
    a batch encodes it once)."""
    header = {"alg": algorithm, "typ": MEDIA_TYPE, "cty": CONTENT_TYPE, "kid": kid}
    return _b64(_json(header))


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")
