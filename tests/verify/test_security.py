"""Attacks on verification: each is caught by the step meant to catch it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask.testing import FlaskClient

from api.services import Services
from credentials import add_proof, sign_vc_jwt
from issuers.did import multikey_method_id
from issuers.registry import issuer_key_owner
from keys import StoredKey
from keys.multikey import encode_multikey
from keys.signers import ED25519, LocalSigner
from tests.conftest import Caller
from verify.facts import NO_FACTS
from verify.procedure import verify_credential
from verify.resolver import Resolver

RDFC, JCS, JWT = "eddsa-rdfc-2022", "eddsa-jcs-2022", "vc+jwt"
ISSUER_DID = "did:web:credbank.test:issuers:centre-1"
OTHER_DID = "did:web:credbank.test:issuers:centre-2"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def verify(client: FlaskClient, credential: Any) -> dict[str, Any]:
    answer = client.post(
        "/credentials/verify", json={"verifiableCredential": credential}
    )
    assert answer.status_code == 200, answer.get_json()
    body: dict[str, Any] = answer.get_json()
    return body


def line(body: dict[str, Any], check: str) -> tuple[str, str]:
    found = next(c for c in body["checks"] if c["check"] == check)
    return found["outcome"], found["code"]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_parts(token: str) -> tuple[dict[str, Any], str]:
    header, payload, _ = token.split(".")
    return json.loads(base64.urlsafe_b64decode(header + "==")), payload


def active_key(services: Services, slug: str) -> StoredKey:
    with services.database.transaction() as session:
        key = services.keystore.active_key(session, issuer_key_owner(slug))
        assert key is not None
        session.expunge(key)
        return key


def signer_of(services: Services, slug: str) -> tuple[LocalSigner, str]:
    key = active_key(services, slug)
    return services.keystore.signer(key), key.id


def unsigned(issued: dict[str, Any]) -> dict[str, Any]:
    credential = dict(issued["credential"][RDFC])
    del credential["proof"]
    return credential


# JOSE: the algorithm comes from the key, never from the token


def test_alg_none_is_refused(client: FlaskClient, issued: dict[str, Any]) -> None:
    header, payload = jwt_parts(issued["credential"][JWT])
    forged = b64(json.dumps({**header, "alg": "none"}).encode()) + f".{payload}."

    body = verify(client, forged)

    assert body["verdict"] == "invalid"
    assert line(body, "signature") == ("failed", "signature.invalid")


def test_hs256_keyed_with_the_public_key_is_refused(
    client: FlaskClient, services: Services, issued: dict[str, Any]
) -> None:
    header, payload = jwt_parts(issued["credential"][JWT])
    public = active_key(services, "centre-1").public_key
    signing_input = b64(json.dumps({**header, "alg": "HS256"}).encode()) + "." + payload
    for secret in (public, b64(public).encode()):
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()

        body = verify(client, f"{signing_input}.{b64(mac)}")

        assert body["verdict"] == "invalid"
        assert line(body, "signature") == ("failed", "signature.invalid")
        assert "alg" in next(
            c["detail"] for c in body["checks"] if c["check"] == "signature"
        )


def test_a_kid_of_another_issuer_is_refused_even_with_a_good_signature(
    client: FlaskClient,
    services: Services,
    issued: dict[str, Any],
    other_issuer: Caller,
) -> None:
    # centre-2 signs, with its own genuine key, a credential naming centre-1.
    signer, key_id = signer_of(services, other_issuer.subject or "")
    forged = sign_vc_jwt(
        unsigned(issued), signer, kid=multikey_method_id(OTHER_DID, key_id)
    )

    body = verify(client, forged)

    assert body["verdict"] == "invalid"
    outcome, code = line(body, "method")
    assert (outcome, code) == ("failed", "method.unknown")
    assert OTHER_DID in next(
        c["detail"] for c in body["checks"] if c["check"] == "method"
    )


# Resolution: nothing is fetched from a host that is not allowed


def test_a_did_web_on_a_host_not_allowed_is_never_fetched(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, issued: dict[str, Any]
) -> None:
    requests: list[Any] = []
    monkeypatch.setattr(
        urllib.request, "urlopen", lambda *a, **k: requests.append(a) or None
    )
    key = Ed25519PrivateKey.generate()
    did = "did:web:evil.example:issuers:centre-1"
    credential = {
        **unsigned(issued),
        "issuer": {**unsigned(issued)["issuer"], "id": did},
    }
    signed = add_proof(
        credential,
        LocalSigner("k", key),
        cryptosuite=RDFC,
        verification_method=f"{did}#k",
        created="2026-01-01T00:00:00Z",
    )

    body = verify(client, signed)

    assert requests == []
    assert line(body, "method") == ("cannot-check", "method.not-allowed")
    assert body["verdict"] == "invalid"


def test_an_allowed_did_web_is_fetched_over_https_and_verifies() -> None:
    key = Ed25519PrivateKey.generate()
    signer = LocalSigner("k", key)
    did = "did:web:issuer.example:people:ada"
    method = f"{did}#k"
    document = {
        "id": did,
        "verificationMethod": [
            {
                "id": method,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": encode_multikey(ED25519, signer.public_key),
            }
        ],
        "assertionMethod": [method],
    }
    fetched: list[str] = []

    def fetch(url: str) -> bytes:
        fetched.append(url)
        return json.dumps(document).encode()

    credential = plain_credential(did)
    signed = add_proof(
        credential, signer, cryptosuite=JCS, verification_method=method,
        created="2026-01-01T00:00:00Z",
    )  # fmt: skip
    resolver = Resolver(allowed_hosts=["issuer.example"], fetch=fetch)

    result = verify_credential(signed, resolver=resolver, facts=NO_FACTS, now=NOW)

    assert fetched == ["https://issuer.example/people/ada/did.json"]
    assert result.verdict == "valid"
    outcomes = {c.check: c.outcome for c in result.checks}
    assert outcomes["signature"] == "passed"
    assert outcomes["log"] == outcomes["issuer"] == "not-applicable"


# did:key issuers, and the validity period


def plain_credential(issuer: str, **extra: Any) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner"},
        **extra,
    }


def did_key_signed(form: str, **extra: Any) -> Any:
    signer = LocalSigner("k", Ed25519PrivateKey.generate())
    multikey = encode_multikey(ED25519, signer.public_key)
    did = f"did:key:{multikey}"
    credential = plain_credential(did, **extra)
    if form == JWT:
        return sign_vc_jwt(credential, signer, kid=f"{did}#{multikey}")
    return add_proof(
        credential, signer, cryptosuite=form, verification_method=f"{did}#{multikey}",
        created="2026-01-01T00:00:00Z",
    )  # fmt: skip


@pytest.mark.parametrize("form", [RDFC, JCS, JWT])
def test_a_did_key_credential_verifies_with_registry_checks_not_applicable(
    client: FlaskClient, form: str
) -> None:
    body = verify(client, did_key_signed(form))

    assert body["verdict"] == "valid"
    assert line(body, "method") == ("passed", "method.resolved")
    for check in ("issuer", "achievement", "log"):
        assert line(body, check)[0] == "not-applicable"
    assert line(body, "status") == ("not-applicable", "status.none")


def test_a_status_list_here_does_not_vouch_for_another_issuer_s_credential(
    client: FlaskClient, issued: dict[str, Any]
) -> None:
    # A did:key credential pointing at a list one of our issuers serves: the bit
    # there is that issuer's statement about its own credentials, not this one.
    borrowed = issued["credential"][RDFC]["credentialStatus"]

    body = verify(client, did_key_signed(RDFC, credentialStatus=borrowed))

    assert body["verdict"] == "valid-with-warnings"
    outcome, code = line(body, "status")
    assert (outcome, code) == ("cannot-check", "status.unreadable")
    detail = next(c["detail"] for c in body["checks"] if c["check"] == "status")
    assert "not the credential issuer's" in detail
    assert "issuers:" in detail


@pytest.mark.parametrize("form", [RDFC, JWT])
def test_an_expired_credential_is_invalid(client: FlaskClient, form: str) -> None:
    body = verify(client, did_key_signed(form, validUntil="2026-02-01T00:00:00Z"))

    assert body["verdict"] == "invalid"
    assert line(body, "validity") == ("failed", "validity.expired")
    assert line(body, "signature") == ("passed", "signature.valid")


def test_a_credential_not_yet_valid_is_invalid(client: FlaskClient) -> None:
    body = verify(client, did_key_signed(RDFC, validFrom="2999-01-01T00:00:00Z"))

    assert line(body, "validity") == ("failed", "validity.not-yet")


# Keys reported compromised, and the log


def report_compromise(services: Services, slug: str, key_id: str, at: datetime) -> None:
    with services.database.transaction(write=True) as session:
        services.registry.report_compromise(session, slug, key_id, now=at)


@pytest.mark.parametrize(
    ("shift", "outcome", "code", "verdict"),
    [
        (timedelta(days=1), "passed", "key-state.compromised-after", "valid"),
        (timedelta(days=-1), "failed", "key-state.compromised-before", "invalid"),
    ],
)
def test_a_compromise_counts_only_against_credentials_logged_after_it(
    client: FlaskClient,
    services: Services,
    issued: dict[str, Any],
    shift: timedelta,
    outcome: str,
    code: str,
    verdict: str,
) -> None:
    key = active_key(services, "centre-1")
    report_compromise(services, "centre-1", key.id, datetime.now(UTC) + shift)

    for form in (RDFC, JWT):
        body = verify(client, issued["credential"][form])

        assert line(body, "key-state") == (outcome, code)
        assert line(body, "signature") == ("passed", "signature.valid")
        assert body["verdict"] == verdict


def test_a_genuinely_signed_credential_missing_from_the_log_is_invalid(
    client: FlaskClient, services: Services, issued: dict[str, Any]
) -> None:
    # The issuer's own key, used outside the service: nothing was logged.
    signer, key_id = signer_of(services, "centre-1")
    credential = {**unsigned(issued), "id": f"urn:uuid:{uuid.uuid4()}"}
    signed = add_proof(
        credential, signer, cryptosuite=RDFC,
        verification_method=multikey_method_id(ISSUER_DID, key_id),
        created="2026-01-01T00:00:00Z",
    )  # fmt: skip

    body = verify(client, signed)

    assert line(body, "signature") == ("passed", "signature.valid")
    assert line(body, "log") == ("failed", "log.missing")
    assert body["verdict"] == "invalid"


def test_a_known_id_with_another_digest_is_not_in_the_log(
    client: FlaskClient, services: Services, issued: dict[str, Any]
) -> None:
    signer, key_id = signer_of(services, "centre-1")
    credential = {**unsigned(issued), "awardedDate": "2020-01-01T00:00:00Z"}
    signed = sign_vc_jwt(credential, signer, kid=multikey_method_id(ISSUER_DID, key_id))

    body = verify(client, signed)

    assert line(body, "signature") == ("passed", "signature.valid")
    assert line(body, "log") == ("failed", "log.missing")


# Bodies


def test_an_oversized_body_is_413(client: FlaskClient) -> None:
    padding = "x" * (1024 * 1024 + 10)
    for path in ("/credentials/verify", "/presentations/verify"):
        answer = client.post(
            path, data=json.dumps({"verifiableCredential": padding}),
            content_type="application/json",
        )  # fmt: skip

        assert answer.status_code == 413
        assert answer.mimetype == "application/problem+json"


@pytest.mark.parametrize("depth", [40, 5_000, 200_000])
def test_deeply_nested_json_is_400(client: FlaskClient, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    for path in ("/credentials/verify", "/presentations/verify"):
        answer = client.post(
            path, data=f'{{"verifiableCredential": {nested}}}',
            content_type="application/json",
        )  # fmt: skip

        assert answer.status_code == 400
        assert "nested" in answer.get_json()["detail"]


def test_nesting_inside_a_credential_string_is_only_text(
    client: FlaskClient, issued: dict[str, Any]
) -> None:
    credential = {**issued["credential"][RDFC], "name": "[" * 1000}

    body = verify(client, credential)

    assert line(body, "signature") == ("failed", "signature.invalid")


def test_a_status_list_on_a_host_not_allowed_is_never_not_revoked(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests: list[Any] = []
    monkeypatch.setattr(
        urllib.request, "urlopen", lambda *a, **k: requests.append(a) or None
    )
    entry = {
        "id": "https://status.example/lists/1#7",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "7",
        "statusListCredential": "https://status.example/lists/1",
    }

    body = verify(client, did_key_signed(RDFC, credentialStatus=entry))

    assert requests == []
    assert line(body, "status") == ("cannot-check", "status.not-allowed")
    assert body["verdict"] == "valid-with-warnings"
    assert body["warnings"] == ["status.not-allowed"]
    status = next(c for c in body["checks"] if c["check"] == "status")
    assert "cannot be ruled out" in status["message"]["en"]
    assert "'status.example' is not on the allow-list" in status["detail"]
