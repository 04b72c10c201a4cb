"""The credential digest: one value for every secured form of a credential."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

from credentials.data_integrity import CRYPTOSUITES, add_proof
from credentials.digest import credential_digest
from credentials.errors import MalformedCredentialError
from credentials.jose import sign_vc_jwt
from keys.signers import LocalSigner
from tests.credentials.conftest import CREATED, VECTOR_FILES, b64url_decode


def test_digest_is_multibase_sha256_of_the_jcs_form(vector: Any) -> None:
    # The JCS vector's canonical document is the RFC 8785 form of unsigned.json,
    # so its SHA-256 is, independently of credbank's code, the expected digest.
    canonical = VECTOR_FILES / "vc-di-eddsa/eddsa-jcs-2022/canonDocJCS.txt"
    expected = hashlib.sha256(canonical.read_bytes()).digest()
    digest = credential_digest(vector("vc-di-eddsa/unsigned.json"))
    assert digest.startswith("u")
    assert len(digest) == 1 + 43
    assert b64url_decode(digest[1:]) == expected
    assert digest == "u" + base64.urlsafe_b64encode(expected).decode().rstrip("=")


def test_the_vector_credentials_share_one_digest_in_both_suites(vector: Any) -> None:
    unsigned = credential_digest(vector("vc-di-eddsa/unsigned.json"))
    assert (
        credential_digest(vector("vc-di-eddsa/eddsa-rdfc-2022/signedDataInt.json"))
        == unsigned
    )
    assert (
        credential_digest(vector("vc-di-eddsa/eddsa-jcs-2022/signedJCS.json"))
        == unsigned
    )


def test_every_secured_form_has_the_credentials_digest(
    badge: dict[str, Any], ed25519_signer: LocalSigner, p256_signer: LocalSigner
) -> None:
    digest = credential_digest(badge)
    for suite in CRYPTOSUITES:
        secured = add_proof(
            badge,
            ed25519_signer,
            cryptosuite=suite,
            verification_method=ed25519_signer.key_id,
            created=CREATED,
        )
        assert credential_digest(secured) == digest
    for signer in (ed25519_signer, p256_signer):
        token = sign_vc_jwt(badge, signer, kid=signer.key_id)
        payload = json.loads(b64url_decode(token.split(".")[1]))
        assert credential_digest(payload) == digest


def test_member_order_does_not_change_the_digest(badge: dict[str, Any]) -> None:
    reordered = dict(reversed(list(badge.items())))
    assert credential_digest(reordered) == credential_digest(badge)


def test_any_change_changes_the_digest(badge: dict[str, Any]) -> None:
    changed = {**badge, "name": badge["name"] + "!"}
    assert credential_digest(changed) != credential_digest(badge)


@pytest.mark.parametrize(
    "value", [float("nan"), 2**60, {1: "non-string key"}], ids=["nan", "big", "key"]
)
def test_values_json_cannot_carry_exactly_are_refused(
    badge: dict[str, Any], value: Any
) -> None:
    badge["credentialSubject"]["creditsEarned"] = value
    with pytest.raises(MalformedCredentialError, match="RFC 8785"):
        credential_digest(badge)


def test_a_non_object_is_refused() -> None:
    with pytest.raises(MalformedCredentialError, match="expected a credential object"):
        credential_digest(["not", "a", "credential"])  # type: ignore[arg-type]
