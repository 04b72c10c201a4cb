"""Data Integrity proofs beyond the vectors: round trips, tampering, refusals."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from credentials.data_integrity import (
    CRYPTOSUITES,
    EDDSA_JCS_2022,
    EDDSA_RDFC_2022,
    add_proof,
    verify_proof,
)
from credentials.errors import (
    AlgorithmMismatchError,
    ControlCharacterError,
    InvalidSignatureError,
    MalformedCredentialError,
    ProofGenerationError,
    ProofVerificationError,
    UnknownContextError,
    UnknownKeyError,
)
from credentials.multibase import decode_base58btc, encode_base58btc
from keys.signers import LocalSigner
from tests.credentials.conftest import CREATED, Resolver

UNKNOWN = "https://example.org/attacker/context.jsonld"


def sign(
    document: dict[str, Any], signer: LocalSigner, suite: str, **options: Any
) -> dict[str, Any]:
    return add_proof(
        document,
        signer,
        cryptosuite=suite,
        verification_method=signer.key_id,
        created=options.pop("created", CREATED),
        **options,
    )


def leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every string, number and boolean in a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    else:
        yield path


def tampered(document: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    """A copy with the leaf at `path` changed, keeping its JSON type."""
    changed = copy.deepcopy(document)
    parent = changed
    for step in path[:-1]:
        parent = parent[step]
    value = parent[path[-1]]
    if isinstance(value, bool):
        parent[path[-1]] = not value
    elif isinstance(value, int | float):
        parent[path[-1]] = value + 1
    elif value.startswith(("http:", "https:", "did:", "urn:")):
        # Still an absolute IRI, so that only the signature can object.
        parent[path[-1]] = value + "x"
    else:
        parent[path[-1]] = value + " (changed)"
    return changed


@pytest.mark.parametrize("suite", CRYPTOSUITES)
def test_round_trip_with_an_ed25519_key(
    badge: dict[str, Any],
    ed25519_signer: LocalSigner,
    issuer_keys: Resolver,
    suite: str,
) -> None:
    before = copy.deepcopy(badge)
    signed = sign(badge, ed25519_signer, suite)
    assert badge == before  # the input is left as it was
    verified = verify_proof(signed, issuer_keys)
    assert verified.document == badge
    assert verified.verification_method == ed25519_signer.key_id
    assert verified.proof == signed["proof"]
    assert verified.cryptosuite == suite


@pytest.mark.parametrize("suite", CRYPTOSUITES)
def test_changing_any_field_of_the_credential_breaks_the_proof(
    badge: dict[str, Any],
    ed25519_signer: LocalSigner,
    issuer_keys: Resolver,
    suite: str,
) -> None:
    signed = sign(badge, ed25519_signer, suite)
    paths = [path for path in leaves(signed) if path[0] != "proof"]
    assert len(paths) > 40
    for path in paths:
        if path[0] == "@context":
            continue  # covered by test_changing_the_context_breaks_the_proof
        with pytest.raises(ProofVerificationError) as caught:
            verify_proof(tampered(signed, path), issuer_keys)
        # Either the signature fails, or (a changed type name is no longer a known
        # type, so an IRI or a type-scoped term goes missing) canonicalisation
        # refuses the document before it gets that far.
        refused = caught.value
        assert isinstance(refused, InvalidSignatureError) or (
            "type" in path and isinstance(refused.__cause__, MalformedCredentialError)
        ), (path, refused)


@pytest.mark.parametrize("suite", CRYPTOSUITES)
def test_changing_the_context_breaks_the_proof(
    vector: Any, vc_di_keys: Resolver, suite: str
) -> None:
    folder = {
        EDDSA_RDFC_2022: "eddsa-rdfc-2022/signedDataInt",
        EDDSA_JCS_2022: ("eddsa-jcs-2022/signedJCS"),
    }[suite]
    signed = vector(f"vc-di-eddsa/{folder}.json")
    undefined_terms = "https://www.w3.org/ns/credentials/undefined-terms/v2"
    signed["@context"] = [signed["@context"][0], undefined_terms]
    with pytest.raises(ProofVerificationError):
        verify_proof(signed, vc_di_keys)


@pytest.mark.parametrize("suite", CRYPTOSUITES)
@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("created", "2026-12-01T09:30:01Z"),
        ("proofPurpose", "authentication"),
        ("cryptosuite", "other"),
        ("type", "Ed25519Signature2020"),
    ],
)
def test_changing_the_proof_options_breaks_the_proof(
    badge: dict[str, Any],
    ed25519_signer: LocalSigner,
    issuer_keys: Resolver,
    suite: str,
    member: str,
    value: str,
) -> None:
    signed = sign(badge, ed25519_signer, suite)
    signed["proof"][member] = value
    with pytest.raises(ProofVerificationError):
        verify_proof(signed, issuer_keys)


def test_swapping_the_cryptosuite_name_breaks_the_signature(
    badge: dict[str, Any], ed25519_signer: LocalSigner, issuer_keys: Resolver
) -> None:
    signed = sign(badge, ed25519_signer, EDDSA_RDFC_2022)
    signed["proof"]["cryptosuite"] = EDDSA_JCS_2022
    with pytest.raises(InvalidSignatureError, match="eddsa-jcs-2022 signature"):
        verify_proof(signed, issuer_keys)


@pytest.mark.parametrize("suite", CRYPTOSUITES)
def test_a_flipped_signature_bit_is_an_invalid_signature(
    badge: dict[str, Any],
    ed25519_signer: LocalSigner,
    issuer_keys: Resolver,
    suite: str,
) -> None:
    signed = sign(badge, ed25519_signer, suite)
    signature = bytearray(decode_base58btc(signed["proof"]["proofValue"]))
    signature[10] ^= 1
    signed["proof"]["proofValue"] = encode_base58btc(bytes(signature))
    with pytest.raises(InvalidSignatureError, match="does not match"):
        verify_proof(signed, issuer_keys)


def test_a_proof_by_another_key_is_an_invalid_signature(
    badge: dict[str, Any], ed25519_signer: LocalSigner, vc_di_signer: LocalSigner
) -> None:
    signed = sign(badge, ed25519_signer, EDDSA_RDFC_2022)
    other = {ed25519_signer.key_id: ("Ed25519", vc_di_signer.public_key)}
    with pytest.raises(InvalidSignatureError):
        verify_proof(signed, other.__getitem__)


def test_a_p256_key_is_refused_for_an_eddsa_proof(
    badge: dict[str, Any], ed25519_signer: LocalSigner, p256_signer: LocalSigner
) -> None:
    signed = sign(badge, ed25519_signer, EDDSA_RDFC_2022)
    keys = {ed25519_signer.key_id: (p256_signer.algorithm, p256_signer.public_key)}
    with pytest.raises(AlgorithmMismatchError, match="expected an Ed25519 key") as e:
        verify_proof(signed, keys.__getitem__)
    assert "P-256" in e.value.got


def test_an_unknown_verification_method_is_refused(
    badge: dict[str, Any], ed25519_signer: LocalSigner
) -> None:
    signed = sign(badge, ed25519_signer, EDDSA_JCS_2022)
    with pytest.raises(UnknownKeyError, match="expected a known verification key"):
        verify_proof(signed, {}.__getitem__)


def test_a_p256_signer_cannot_make_an_eddsa_proof(
    badge: dict[str, Any], p256_signer: LocalSigner
) -> None:
    with pytest.raises(ProofGenerationError, match="expected an Ed25519 signer"):
        sign(badge, p256_signer, EDDSA_RDFC_2022)


def test_an_unknown_cryptosuite_is_refused(
    badge: dict[str, Any], ed25519_signer: LocalSigner
) -> None:
    with pytest.raises(ProofGenerationError, match="got 'ecdsa-rdfc-2019'"):
        sign(badge, ed25519_signer, "ecdsa-rdfc-2019")


@pytest.mark.parametrize(
    "created",
    ["2026-12-01", "2026-12-01T09:30:00", "2026-13-01T09:30:00Z", "yesterday", ""],
)
def test_created_must_be_a_date_time_stamp(
    badge: dict[str, Any], ed25519_signer: LocalSigner, created: str
) -> None:
    with pytest.raises(ProofGenerationError, match="dateTimeStamp"):
        sign(badge, ed25519_signer, EDDSA_JCS_2022, created=created)


def test_created_may_carry_fractions_and_an_offset(
    badge: dict[str, Any], ed25519_signer: LocalSigner, issuer_keys: Resolver
) -> None:
    created = "2026-12-01T17:30:00.250+08:00"
    signed = sign(badge, ed25519_signer, EDDSA_RDFC_2022, created=created)
    assert verify_proof(signed, issuer_keys).created == created


def test_a_document_with_a_proof_is_not_signed_again(
    badge: dict[str, Any], ed25519_signer: LocalSigner
) -> None:
    signed = sign(badge, ed25519_signer, EDDSA_RDFC_2022)
    with pytest.raises(ProofGenerationError, match="without a proof"):
        sign(signed, ed25519_signer, EDDSA_RDFC_2022)


@pytest.mark.parametrize("suite", CRYPTOSUITES)
def test_unknown_contexts_are_refused_at_issuance(
    badge: dict[str, Any], ed25519_signer: LocalSigner, suite: str
) -> None:
    badge["@context"].append(UNKNOWN)
    with pytest.raises(UnknownContextError, match=UNKNOWN):
        sign(badge, ed25519_signer, suite)


@pytest.mark.parametrize("suite", CRYPTOSUITES)
def test_unknown_contexts_are_refused_at_verification(
    badge: dict[str, Any],
    ed25519_signer: LocalSigner,
    issuer_keys: Resolver,
    suite: str,
) -> None:
    signed = sign(badge, ed25519_signer, suite)
    signed["@context"].append(UNKNOWN)
    with pytest.raises(ProofVerificationError, match=UNKNOWN) as caught:
        verify_proof(signed, issuer_keys)
    assert isinstance(caught.value.__cause__, UnknownContextError)


@pytest.mark.parametrize("suite", CRYPTOSUITES)
def test_control_characters_are_refused_at_issuance(
    badge: dict[str, Any], ed25519_signer: LocalSigner, suite: str
) -> None:
    badge["credentialSubject"]["achievement"]["name"] = "Warehouse\x0bManagement"
    with pytest.raises(ControlCharacterError, match="U\\+000B") as caught:
        sign(badge, ed25519_signer, suite)
    assert caught.value.path == "$.credentialSubject.achievement.name"


def test_an_undefined_term_is_refused_rather_than_left_unsigned(
    badge: dict[str, Any], ed25519_signer: LocalSigner
) -> None:
    # The VC 2.0 context has no @vocab: JSON-LD would drop this term from the RDF,
    # and an rdfc proof would not cover it.
    badge["credentialSubject"]["favouriteColour"] = "blue"
    with pytest.raises(MalformedCredentialError, match="undefined term"):
        sign(badge, ed25519_signer, EDDSA_RDFC_2022)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("type",), ["VerifiableCredential", "Unheard"], "relative 'Unheard'"),
        (("id",), "credentials/1", "relative 'credentials/1'"),
        (("credentialSubject", "id"), "not a url", "relative 'not a url'"),
    ],
)
def test_relative_or_malformed_iris_are_refused(
    badge: dict[str, Any],
    ed25519_signer: LocalSigner,
    path: tuple[str, ...],
    value: Any,
    message: str,
) -> None:
    # pyld would resolve these against http://example.org/base/ and jsonld.js would
    # drop them: neither is what the issuer meant.
    target = badge
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(MalformedCredentialError, match=message):
        sign(badge, ed25519_signer, EDDSA_RDFC_2022)


def test_the_proof_purpose_must_be_the_expected_one(
    badge: dict[str, Any], ed25519_signer: LocalSigner, issuer_keys: Resolver
) -> None:
    signed = sign(badge, ed25519_signer, EDDSA_JCS_2022, proof_purpose="authentication")
    assert verify_proof(signed, issuer_keys, proof_purpose="authentication")
    with pytest.raises(ProofVerificationError, match="expected proofPurpose"):
        verify_proof(signed, issuer_keys)


@pytest.mark.parametrize(
    ("proof", "message"),
    [
        (None, "expected a proof, got none"),
        ([], "expected one proof object, got a list of 0"),
        ("z123", "expected a proof object, got str"),
    ],
)
def test_malformed_proofs_are_refused(
    badge: dict[str, Any], issuer_keys: Resolver, proof: Any, message: str
) -> None:
    if proof is not None:
        badge["proof"] = proof
    with pytest.raises(ProofVerificationError, match=message):
        verify_proof(badge, issuer_keys)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("u" + "A" * 86, "base58-btc"),
        ("z0OIl", "base58-btc"),
        ("z" + "1" * 10, "64-byte signature"),
        (None, "base58-btc"),
    ],
)
def test_malformed_proof_values_are_refused(
    badge: dict[str, Any],
    ed25519_signer: LocalSigner,
    issuer_keys: Resolver,
    value: Any,
    message: str,
) -> None:
    signed = sign(badge, ed25519_signer, EDDSA_RDFC_2022)
    signed["proof"]["proofValue"] = value
    with pytest.raises(ProofVerificationError, match=message):
        verify_proof(signed, issuer_keys)


def test_a_proof_context_must_begin_the_document_context(
    vector: Any, vc_di_keys: Resolver
) -> None:
    signed = vector("vc-di-eddsa/eddsa-jcs-2022/signedJCS.json")
    signed["proof"]["@context"] = list(reversed(signed["proof"]["@context"]))
    with pytest.raises(ProofVerificationError, match="begin the document's"):
        verify_proof(signed, vc_di_keys)


def test_verification_does_not_change_the_document(
    badge: dict[str, Any], ed25519_signer: LocalSigner, issuer_keys: Resolver
) -> None:
    signed = sign(badge, ed25519_signer, EDDSA_RDFC_2022)
    before = copy.deepcopy(signed)
    verify_proof(signed, issuer_keys)
    assert signed == before
