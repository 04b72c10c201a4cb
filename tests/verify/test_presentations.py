"""POST /presentations/verify: the holder's proof, its binding, each credential."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask.testing import FlaskClient

from credentials import add_proof
from keys.multikey import encode_multikey
from keys.signers import ED25519, LocalSigner
from tests.conftest import Caller

RDFC, JCS, JWT = "eddsa-rdfc-2022", "eddsa-jcs-2022", "vc+jwt"
CHALLENGE, DOMAIN = "c-8f2b7e", "employer.example"


class Holder:
    def __init__(self) -> None:
        self.signer = LocalSigner("holder", Ed25519PrivateKey.generate())
        multikey = encode_multikey(ED25519, self.signer.public_key)
        self.did = f"did:key:{multikey}"
        self.method = f"{self.did}#{multikey}"

    def present(
        self,
        credentials: list[Any],
        *,
        suite: str = RDFC,
        challenge: str | None = CHALLENGE,
        domain: str | None = DOMAIN,
        holder: str | None = None,
    ) -> dict[str, Any]:
        presentation = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiablePresentation"],
            "holder": holder or self.did,
            "verifiableCredential": credentials,
        }
        return add_proof(
            presentation,
            self.signer,
            cryptosuite=suite,
            verification_method=self.method,
            created="2026-06-01T00:00:00Z",
            proof_purpose="authentication",
            challenge=challenge,
            domain=domain,
        )


def enveloped(token: str) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": f"data:application/vc+jwt,{token}",
        "type": "EnvelopedVerifiableCredential",
    }


def verify(client: FlaskClient, presentation: Any, **options: str) -> dict[str, Any]:
    answer = client.post(
        "/presentations/verify",
        json={
            "verifiablePresentation": presentation,
            "options": {"challenge": CHALLENGE, "domain": DOMAIN, **options},
        },
    )
    assert answer.status_code == 200, answer.get_json()
    body: dict[str, Any] = answer.get_json()
    return body


@pytest.mark.parametrize("suite", [RDFC, JCS])
def test_a_presentation_of_two_credentials_verifies(
    client: FlaskClient, issued: dict[str, Any], suite: str
) -> None:
    holder = Holder()
    presentation = holder.present(
        [issued["credential"][RDFC], enveloped(issued["credential"][JWT])], suite=suite
    )

    body = verify(client, presentation)

    assert body["verified"] is True, body
    assert body["verdict"] == "valid"
    assert [c["code"] for c in body["checks"]] == ["presentation.valid"]
    assert [r["verdict"] for r in body["credentialResults"]] == ["valid", "valid"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"challenge": "another"}, "challenge"),
        ({"domain": "elsewhere.example"}, "domain"),
    ],
)
def test_a_proof_made_for_another_request_fails(
    client: FlaskClient, issued: dict[str, Any], change: dict[str, str], field: str
) -> None:
    presentation = Holder().present([issued["credential"][RDFC]])

    body = verify(client, presentation, **change)

    assert body["verdict"] == "invalid"
    assert body["checks"][0]["code"] == "presentation.invalid"
    assert field in body["checks"][0]["detail"]


def test_a_presentation_signed_by_someone_other_than_the_holder_fails(
    client: FlaskClient, issued: dict[str, Any]
) -> None:
    presentation = Holder().present([issued["credential"][RDFC]], holder=Holder().did)

    body = verify(client, presentation)

    assert body["verdict"] == "invalid"
    assert body["checks"][0]["detail"] == "the key is not the holder's"


def test_a_changed_presentation_fails_its_proof(
    client: FlaskClient, issued: dict[str, Any]
) -> None:
    presentation = Holder().present([issued["credential"][RDFC]])
    presentation["verifiableCredential"] = []

    body = verify(client, presentation)

    assert body["verdict"] == "invalid"
    assert body["checks"][0]["outcome"] == "failed"


def test_a_revoked_credential_makes_the_presentation_invalid(
    client: FlaskClient, issuer: Caller, issued: dict[str, Any]
) -> None:
    client.post(
        "/credentials/status",
        json={"credentialId": issued["id"], "action": "revoke", "reason": "test"},
        headers=issuer.headers,
    )
    presentation = Holder().present([issued["credential"][RDFC]])

    body = verify(client, presentation)

    assert body["checks"][0]["code"] == "presentation.valid"
    assert body["credentialResults"][0]["verdict"] == "invalid"
    assert body["verdict"] == "invalid"


def test_an_unsigned_presentation_is_refused_when_a_challenge_is_asked(
    client: FlaskClient, issued: dict[str, Any]
) -> None:
    presentation = copy.deepcopy(Holder().present([issued["credential"][RDFC]]))
    del presentation["proof"]

    asked = verify(client, presentation)
    not_asked = client.post(
        "/presentations/verify", json={"presentation": presentation}
    ).get_json()

    assert asked["verdict"] == "invalid"
    assert asked["checks"][0]["code"] == "presentation.unsigned"
    assert not_asked["verdict"] == "valid"
    assert not_asked["checks"][0]["outcome"] == "not-applicable"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"verifiablePresentation": "text"},
        {"verifiablePresentation": {}, "options": {"challenge": 5}},
        {"verifiablePresentation": {}, "options": "x"},
    ],
)
def test_a_bad_request_is_a_400_problem(client: FlaskClient, body: Any) -> None:
    answer = client.post("/presentations/verify", json=body)

    assert answer.status_code == 400
    assert answer.mimetype == "application/problem+json"
