"""Issuer keys over HTTP: rotation, compromise, P-256; the DID document and JWKS."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask.testing import FlaskClient

from api.services import Services
from keys import KeyStateError, StoredKey
from tests.conftest import Caller, logged, tree_size

DID = "did:web:credbank.test:issuers:centre-1"


def keys_of(services: Services, slug: str = "centre-1") -> list[StoredKey]:
    with services.database.transaction() as session:
        keys = services.registry.keys(session, slug)
        session.expunge_all()
        return keys


def did_methods(client: FlaskClient) -> dict[str, dict[str, Any]]:
    document = client.get("/issuers/centre-1/did.json").get_json()
    methods = {m["id"]: m for m in document["verificationMethod"]}
    assert document["assertionMethod"] == list(methods)
    return methods


def jwks_kids(client: FlaskClient) -> list[str]:
    keys = client.get("/issuers/centre-1/jwks.json").get_json()["keys"]
    return [k["kid"] for k in keys]


def test_rotation_keeps_the_old_key_in_the_did_document(
    client: FlaskClient, services: Services, issuer: Caller
) -> None:
    (old,) = keys_of(services)
    start = tree_size(services)

    answer = client.post("/issuers/centre-1/keys", json={}, headers=issuer.headers)

    assert answer.status_code == 201
    new = answer.get_json()
    assert new["algorithm"] == "Ed25519"
    assert new["state"] == "active"
    assert new["verificationMethod"] == f"{DID}#{new['id']}"
    methods = did_methods(client)
    assert list(methods) == [
        f"{DID}#{old.id}",
        f"{DID}#{old.id}-jwk",
        f"{DID}#{new['id']}",
        f"{DID}#{new['id']}-jwk",
    ]
    assert [m["type"] for m in methods.values()] == ["Multikey", "JsonWebKey"] * 2
    assert not any("revoked" in m for m in methods.values())
    # A retired key still verifies: it stays in the key set.
    assert jwks_kids(client) == [f"{DID}#{old.id}-jwk", f"{DID}#{new['id']}-jwk"]
    added, retired = logged(services, start)
    assert (added["kind"], retired["kind"]) == ("key.added", "key.retired")
    assert added["key"]["id"] == new["id"]
    assert added["key"]["owner"] == "issuer:centre-1"
    assert added["key"]["type"] == "Ed25519"
    assert (
        added["key"]["publicKeyMultibase"]
        == (methods[f"{DID}#{new['id']}"]["publicKeyMultibase"])
    )
    assert retired["key"] == old.id


def test_a_retired_key_never_signs_again(
    client: FlaskClient, services: Services, issuer: Caller
) -> None:
    client.post("/issuers/centre-1/keys", json={}, headers=issuer.headers)

    old, new = keys_of(services)

    assert (old.state, new.state) == ("retired", "active")
    assert old.retired_at is not None
    with pytest.raises(KeyStateError, match=rf"key {old.id} is retired"):
        services.keystore.signer(old)
    signature = services.keystore.signer(new).sign(b"still signs")
    Ed25519PublicKey.from_public_bytes(new.public_key).verify(signature, b"still signs")


def test_a_compromised_key_is_marked_and_replaced(
    client: FlaskClient, services: Services, issuer: Caller
) -> None:
    (lost,) = keys_of(services)
    start = tree_size(services)

    answer = client.post(
        f"/issuers/centre-1/keys/{lost.id}/compromised", headers=issuer.headers
    )

    assert answer.status_code == 200
    reported = answer.get_json()
    assert reported["id"] == lost.id
    assert reported["state"] == "compromised"
    assert reported["compromisedAt"]
    old, replacement = keys_of(services)
    assert (old.id, old.state) == (lost.id, "compromised")
    assert (replacement.algorithm, replacement.state) == ("Ed25519", "active")
    methods = did_methods(client)
    revoked = {i: m.get("revoked") for i, m in methods.items()}
    stamp = revoked[f"{DID}#{lost.id}"]
    assert stamp is not None
    assert stamp.endswith("Z")
    assert stamp[:19] == reported["compromisedAt"][:19]
    assert revoked == {
        f"{DID}#{lost.id}": stamp,
        f"{DID}#{lost.id}-jwk": stamp,
        f"{DID}#{replacement.id}": None,
        f"{DID}#{replacement.id}-jwk": None,
    }
    assert jwks_kids(client) == [f"{DID}#{replacement.id}-jwk"]
    assert [e["kind"] for e in logged(services, start)] == [
        "key.compromised",
        "key.added",
    ]
    with pytest.raises(KeyStateError, match=r"is compromised; expected an active"):
        services.keystore.signer(old)


def test_a_retired_key_reported_compromised_gets_no_replacement(
    client: FlaskClient, services: Services, admin: Caller, issuer: Caller
) -> None:
    client.post("/issuers/centre-1/keys", json={}, headers=issuer.headers)
    old, current = keys_of(services)

    answer = client.post(
        f"/issuers/centre-1/keys/{old.id}/compromised", headers=admin.headers
    )

    assert answer.status_code == 200
    assert [(k.id, k.state) for k in keys_of(services)] == [
        (old.id, "compromised"),
        (current.id, "active"),
    ]
    assert jwks_kids(client) == [f"{DID}#{current.id}-jwk"]


def test_a_key_reported_twice_is_409(
    client: FlaskClient, services: Services, issuer: Caller
) -> None:
    (lost,) = keys_of(services)
    path = f"/issuers/centre-1/keys/{lost.id}/compromised"
    client.post(path, headers=issuer.headers)
    size = tree_size(services)

    again = client.post(path, headers=issuer.headers)

    assert again.status_code == 409
    assert again.get_json()["detail"] == (
        f"key {lost.id} was already reported compromised"
    )
    assert tree_size(services) == size
    assert len(keys_of(services)) == 2


def test_an_unknown_key_is_404(
    client: FlaskClient, services: Services, issuer: Caller
) -> None:
    size = tree_size(services)

    answer = client.post(
        "/issuers/centre-1/keys/k000000000000000000000000/compromised",
        headers=issuer.headers,
    )

    assert answer.status_code == 404
    assert answer.mimetype == "application/problem+json"
    assert answer.get_json()["detail"] == (
        "issuer centre-1 has no key 'k000000000000000000000000'"
    )
    assert tree_size(services) == size


def test_p256_on_request(
    client: FlaskClient, services: Services, issuer: Caller
) -> None:
    answer = client.post(
        "/issuers/centre-1/keys", json={"algorithm": "P-256"}, headers=issuer.headers
    )

    assert answer.status_code == 201
    assert answer.get_json()["algorithm"] == "P-256"
    ed25519, p256 = keys_of(services)
    # Rotation is per algorithm: the Ed25519 key stays active beside it.
    assert (ed25519.state, p256.state) == ("active", "active")
    jwks = client.get("/issuers/centre-1/jwks.json").get_json()["keys"]
    ec = [k for k in jwks if k["kid"] == f"{DID}#{p256.id}-jwk"]
    assert len(ec) == 1
    assert {k: ec[0][k] for k in ("kty", "crv", "alg", "use")} == {
        "kty": "EC",
        "crv": "P-256",
        "alg": "ES256",
        "use": "sig",
    }
    assert len(ec[0]["x"]) == len(ec[0]["y"]) == 43
    methods = did_methods(client)
    assert methods[f"{DID}#{p256.id}"]["publicKeyMultibase"].startswith("zDn")
    assert methods[f"{DID}#{p256.id}-jwk"]["publicKeyJwk"]["kty"] == "EC"
    assert "d" not in methods[f"{DID}#{p256.id}-jwk"]["publicKeyJwk"]


def test_a_suspended_issuer_can_still_report_a_compromise(
    client: FlaskClient, services: Services, admin: Caller, issuer: Caller
) -> None:
    client.post(
        "/issuers/centre-1/suspend", json={"reason": "audit"}, headers=admin.headers
    )
    (lost,) = keys_of(services)

    answer = client.post(
        f"/issuers/centre-1/keys/{lost.id}/compromised", headers=issuer.headers
    )

    assert answer.status_code == 200


def test_an_applicant_has_no_keys_to_rotate(
    client: FlaskClient, services: Services, applicant: Caller
) -> None:
    size = tree_size(services)

    answer = client.post("/issuers/centre-3/keys", json={}, headers=applicant.headers)

    assert answer.status_code == 409
    assert answer.get_json()["detail"] == "issuer centre-3 is not accredited (applied)"
    assert tree_size(services) == size
    assert keys_of(services, "centre-3") == []


def test_keys_of_an_unknown_issuer_are_404(client: FlaskClient, admin: Caller) -> None:
    rotate = client.post("/issuers/nobody/keys", json={}, headers=admin.headers)

    assert rotate.status_code == 404
    assert rotate.get_json()["detail"] == "no issuer 'nobody'"
    assert client.get("/issuers/nobody/jwks.json").status_code == 404
    assert client.get("/issuers/nobody/did.json").status_code == 404
