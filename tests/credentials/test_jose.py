"""vc+jwt (VC-JOSE-COSE §3.1.1): the W3C test-suite tokens, round trips, refusals."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from credentials.digest import credential_digest
from credentials.errors import (
    AlgorithmMismatchError,
    ControlCharacterError,
    InvalidSignatureError,
    MediaTypeError,
    ProofGenerationError,
    ProofVerificationError,
    UnknownContextError,
    UnknownKeyError,
)
from credentials.jose import sign_vc_jwt, verify_vc_jwt
from keys.signers import LocalSigner
from tests.credentials.conftest import Resolver, b64url_decode

ED25519_KID = "2aOHaQxsWVT4mLsUkdtlCnUV-au0BBR-5yPYaPaCc5k"
P256_KID = "73voMXFNmNlOEpuYCSJlh8eN0dscykoO6gBukgRS1uU"


def token(name: str, vector: Any) -> str:
    text: str = vector(f"jose/{name}")
    return text.strip()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: dict[str, Any]) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def compact(
    header: dict[str, Any], payload: dict[str, Any], sign: Callable[[bytes], bytes]
) -> str:
    """A compact JWS with any header at all, signed by `sign`."""
    signing_input = f"{segment(header)}.{segment(payload)}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload))


def suite_ed25519_signer(vector: Any) -> LocalSigner:
    """The test suite's published Ed25519 key (vm-ed25519.json)."""
    secret = vector("jose/vm-ed25519.json")["secretKeyJwk"]
    private = ed25519.Ed25519PrivateKey.from_private_bytes(b64url_decode(secret["d"]))
    return LocalSigner(ED25519_KID, private)


# The W3C VC-JOSE-COSE test suite's tokens.


def test_minimal_es256_credential_verifies(vector: Any, jose_keys: Resolver) -> None:
    credential = verify_vc_jwt(token("credential-jose-minimal.txt", vector), jose_keys)
    # The payload is the credential itself, plus the JWT claims the suite added.
    claims = {"iat", "iss", "jti"}
    assert {k: v for k, v in credential.items() if k not in claims} == vector(
        "jose/credential-minimal.json"
    )
    assert credential["iss"] == credential["issuer"]


def test_bad_signature_is_an_invalid_signature(
    vector: Any, jose_keys: Resolver
) -> None:
    with pytest.raises(InvalidSignatureError, match="valid EdDSA signature"):
        verify_vc_jwt(token("credential-jose-bad-signature.txt", vector), jose_keys)


def test_bad_media_type_is_refused_although_the_signature_holds(
    vector: Any, jose_keys: Resolver
) -> None:
    bad = token("credential-jose-bad-media-type.txt", vector)
    with pytest.raises(
        MediaTypeError, match="expected typ 'vc\\+jwt', got 'bad\\+typ'"
    ):
        verify_vc_jwt(bad, jose_keys)
    # The signature itself is good: the media type alone is the reason.
    _, key = jose_keys(ED25519_KID)
    public = ed25519.Ed25519PublicKey.from_public_bytes(key)
    jwt.decode(bad, public, algorithms=["EdDSA"], options={"verify_iat": False})


def test_vc_and_vp_claims_are_refused(vector: Any, jose_keys: Resolver) -> None:
    # Test-suite statement 4: "The JWT Claim Names vc and vp MUST NOT be present".
    with pytest.raises(ProofVerificationError, match="expected no vc or vp claim"):
        verify_vc_jwt(token("credential-jose-vc-vp-claims.txt", vector), jose_keys)


def test_es512_token_with_an_unknown_key_is_refused(
    vector: Any, jose_keys: Resolver
) -> None:
    unknown = token("credential-jose-unknown-extensions.txt", vector)
    with pytest.raises(UnknownKeyError, match="KQsihxP-LTeTZO2ETEfduP153UBIiFRhI8"):
        verify_vc_jwt(unknown, jose_keys)


def test_es512_token_is_refused_even_if_its_kid_named_a_p256_key(
    vector: Any, jose_keys: Resolver
) -> None:
    unknown = token("credential-jose-unknown-extensions.txt", vector)
    with pytest.raises(AlgorithmMismatchError, match="got alg 'ES512'"):
        verify_vc_jwt(unknown, lambda kid: jose_keys(P256_KID))


def test_header_and_payload_are_built_as_the_test_suite_builds_them(
    vector: Any, jose_keys: Resolver
) -> None:
    # The suite's Ed25519 tokens sort their members and use compact JSON; so does
    # sign_vc_jwt, so its header and payload segments match byte for byte. (Only
    # the signature differs: the suite broke that one on purpose.)
    bad = token("credential-jose-bad-signature.txt", vector)
    _, payload = parts(bad)
    ours = sign_vc_jwt(payload, suite_ed25519_signer(vector), kid=ED25519_KID)
    assert ours.split(".")[:2] == bad.split(".")[:2]
    assert ours.split(".")[2] != bad.split(".")[2]
    assert verify_vc_jwt(ours, jose_keys) == payload


# Round trips with credbank's own keys.


@pytest.mark.parametrize(
    ("signer_name", "alg"), [("ed25519_signer", "EdDSA"), ("p256_signer", "ES256")]
)
def test_round_trip(
    request: pytest.FixtureRequest,
    badge: dict[str, Any],
    issuer_keys: Resolver,
    signer_name: str,
    alg: str,
) -> None:
    signer: LocalSigner = request.getfixturevalue(signer_name)
    signed = sign_vc_jwt(badge, signer, kid=signer.key_id)
    header, payload = parts(signed)
    assert header == {"alg": alg, "typ": "vc+jwt", "cty": "vc", "kid": signer.key_id}
    assert payload == badge
    assert verify_vc_jwt(signed, issuer_keys) == badge
    assert credential_digest(payload) == credential_digest(badge)


def test_payload_is_plain_utf8_json(
    badge: dict[str, Any], ed25519_signer: LocalSigner
) -> None:
    signed = sign_vc_jwt(badge, ed25519_signer, kid=ed25519_signer.key_id)
    payload = b64url_decode(signed.split(".")[1]).decode("utf-8")
    assert "示范培训中心" in payload
    assert json.loads(payload) == badge


def test_changing_any_payload_member_breaks_the_signature(
    badge: dict[str, Any], ed25519_signer: LocalSigner, issuer_keys: Resolver
) -> None:
    signed = sign_vc_jwt(badge, ed25519_signer, kid=ed25519_signer.key_id)
    header, _, signature = signed.split(".")
    for key in badge:
        changed = dict(badge)
        changed[key] = "changed"
        forged = f"{header}.{segment(changed)}.{signature}"
        with pytest.raises(InvalidSignatureError):
            verify_vc_jwt(forged, issuer_keys)


def test_changing_the_header_breaks_the_signature(
    badge: dict[str, Any], ed25519_signer: LocalSigner, issuer_keys: Resolver
) -> None:
    signed = sign_vc_jwt(badge, ed25519_signer, kid=ed25519_signer.key_id)
    header, _ = parts(signed)
    header["typ"] = "application/vc+jwt"  # still acceptable, but not what was signed
    forged = ".".join([segment(header), *signed.split(".")[1:]])
    with pytest.raises(InvalidSignatureError):
        verify_vc_jwt(forged, issuer_keys)


# The algorithm comes from the key.


def test_alg_none_is_refused(
    badge: dict[str, Any], ed25519_signer: LocalSigner, issuer_keys: Resolver
) -> None:
    header = {"alg": "none", "typ": "vc+jwt", "kid": ed25519_signer.key_id}
    unsigned = compact(header, badge, lambda data: b"")
    with pytest.raises(AlgorithmMismatchError, match="got alg 'none'"):
        verify_vc_jwt(unsigned, issuer_keys)


def test_hs256_with_the_public_key_as_secret_is_refused(
    badge: dict[str, Any], ed25519_signer: LocalSigner, issuer_keys: Resolver
) -> None:
    # The classic key-confusion forgery: an HMAC keyed with the public key.
    secret = ed25519_signer.public_key
    header = {"typ": "vc+jwt", "kid": ed25519_signer.key_id}
    forged = jwt.encode(badge, secret, algorithm="HS256", headers=header)
    with pytest.raises(AlgorithmMismatchError, match="got alg 'HS256'"):
        verify_vc_jwt(forged, issuer_keys)


def test_a_header_alg_other_than_the_keys_is_refused(
    badge: dict[str, Any],
    ed25519_signer: LocalSigner,
    p256_signer: LocalSigner,
    issuer_keys: Resolver,
) -> None:
    # Signed with the P-256 key but naming the Ed25519 key's kid.
    header = {"alg": "ES256", "typ": "vc+jwt", "kid": ed25519_signer.key_id}
    forged = compact(header, badge, p256_signer.sign)
    with pytest.raises(AlgorithmMismatchError, match="alg 'EdDSA' \\(the key is"):
        verify_vc_jwt(forged, issuer_keys)


def test_an_unknown_kid_is_refused(
    badge: dict[str, Any], ed25519_signer: LocalSigner
) -> None:
    signed = sign_vc_jwt(badge, ed25519_signer, kid="did:example:nobody#key-1")
    with pytest.raises(UnknownKeyError, match="did:example:nobody#key-1"):
        verify_vc_jwt(signed, {}.__getitem__)


def test_a_missing_kid_is_refused(
    badge: dict[str, Any], ed25519_signer: LocalSigner, issuer_keys: Resolver
) -> None:
    header = {"alg": "EdDSA", "typ": "vc+jwt"}
    with pytest.raises(ProofVerificationError, match="expected a kid header"):
        verify_vc_jwt(compact(header, badge, ed25519_signer.sign), issuer_keys)


# Media types, critical headers and claims.


@pytest.mark.parametrize("typ", ["vc+jwt", "application/vc+jwt", "VC+JWT"])
def test_accepted_typ_spellings(
    badge: dict[str, Any],
    ed25519_signer: LocalSigner,
    issuer_keys: Resolver,
    typ: str,
) -> None:
    header = {"alg": "EdDSA", "typ": typ, "kid": ed25519_signer.key_id}
    assert verify_vc_jwt(compact(header, badge, ed25519_signer.sign), issuer_keys)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ({}, "expected typ 'vc\\+jwt', got None"),
        ({"typ": "JWT"}, "expected typ 'vc\\+jwt', got 'JWT'"),
        ({"typ": "vc+ld+jwt"}, "got 'vc\\+ld\\+jwt'"),
        ({"typ": "vc+jwt", "cty": "vp"}, "expected cty 'vc', got 'vp'"),
    ],
)
def test_wrong_media_types_are_refused(
    badge: dict[str, Any],
    ed25519_signer: LocalSigner,
    issuer_keys: Resolver,
    header: dict[str, Any],
    message: str,
) -> None:
    header = {"alg": "EdDSA", "kid": ed25519_signer.key_id, **header}
    with pytest.raises(MediaTypeError, match=message):
        verify_vc_jwt(compact(header, badge, ed25519_signer.sign), issuer_keys)


@pytest.mark.parametrize(
    "extra",
    [{"crit": ["exp"]}, {"crit": ["b64"], "b64": True}],
    ids=["unknown-extension", "known-to-pyjwt"],
)
def test_critical_header_parameters_are_refused(
    badge: dict[str, Any],
    ed25519_signer: LocalSigner,
    issuer_keys: Resolver,
    extra: dict[str, Any],
) -> None:
    # No JWS extension is understood here, so none may be critical (RFC 7515
    # §4.1.11), even one PyJWT itself would accept.
    header = {"alg": "EdDSA", "typ": "vc+jwt", "kid": ed25519_signer.key_id, **extra}
    with pytest.raises(ProofVerificationError, match=r"(?i)critical"):
        verify_vc_jwt(compact(header, badge, ed25519_signer.sign), issuer_keys)


def claims_token(signer: LocalSigner, payload: dict[str, Any]) -> str:
    header = {"alg": "EdDSA", "typ": "vc+jwt", "kid": signer.key_id}
    return compact(header, payload, signer.sign)


def test_iss_must_name_the_issuer(
    badge: dict[str, Any], ed25519_signer: LocalSigner, issuer_keys: Resolver
) -> None:
    good = claims_token(ed25519_signer, {**badge, "iss": badge["issuer"]["id"]})
    assert verify_vc_jwt(good, issuer_keys)["iss"] == badge["issuer"]["id"]
    bad = claims_token(ed25519_signer, {**badge, "iss": "did:example:someone-else"})
    with pytest.raises(ProofVerificationError, match="expected iss to be the issuer"):
        verify_vc_jwt(bad, issuer_keys)


def test_an_expired_token_is_refused(
    badge: dict[str, Any], ed25519_signer: LocalSigner, issuer_keys: Resolver
) -> None:
    expired = claims_token(ed25519_signer, {**badge, "exp": 1_000_000_000})
    with pytest.raises(ProofVerificationError, match="expired"):
        verify_vc_jwt(expired, issuer_keys)


def test_unknown_contexts_in_the_payload_are_refused(
    badge: dict[str, Any], ed25519_signer: LocalSigner, issuer_keys: Resolver
) -> None:
    badge["@context"] = [*badge["@context"], "https://example.org/evil"]
    signed = claims_token(ed25519_signer, badge)
    with pytest.raises(ProofVerificationError, match=r"example\.org/evil") as caught:
        verify_vc_jwt(signed, issuer_keys)
    assert isinstance(caught.value.__cause__, UnknownContextError)


@pytest.mark.parametrize(
    "bad", ["", "abc", "a.b", "a.b.c.d", "!!.??.**", f"{b64(b'not json')}.e30.AA"]
)
def test_malformed_tokens_are_refused(bad: str, issuer_keys: Resolver) -> None:
    with pytest.raises(ProofVerificationError, match="expected a"):
        verify_vc_jwt(bad, issuer_keys)


# Issuance refusals.


def test_unknown_contexts_are_refused_at_issuance(
    badge: dict[str, Any], ed25519_signer: LocalSigner
) -> None:
    badge["@context"].append("https://example.org/evil")
    with pytest.raises(UnknownContextError):
        sign_vc_jwt(badge, ed25519_signer, kid=ed25519_signer.key_id)


def test_control_characters_are_refused_at_issuance(
    badge: dict[str, Any], ed25519_signer: LocalSigner
) -> None:
    badge["name"] = "Smart\x00Warehouse"
    with pytest.raises(ControlCharacterError, match=r"U\+0000 at \$\.name"):
        sign_vc_jwt(badge, ed25519_signer, kid=ed25519_signer.key_id)


def test_vc_claim_is_refused_at_issuance(
    badge: dict[str, Any], ed25519_signer: LocalSigner
) -> None:
    badge["vc"] = {}
    with pytest.raises(ProofGenerationError, match="expected no vc or vp claim"):
        sign_vc_jwt(badge, ed25519_signer, kid=ed25519_signer.key_id)
