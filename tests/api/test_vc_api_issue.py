"""POST /credentials/issue: the W3C VC-API issue endpoint (issue 4, item 2)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from api.services import Services
from credentials import credential_digest, verify_proof, verify_vc_jwt
from keys.multikey import decode_multikey
from tests.conftest import Caller, logged, tree_size

VC2 = "https://www.w3.org/ns/credentials/v2"
OB3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"


def plain_credential(**overrides: Any) -> dict[str, Any]:
    credential = {
        "@context": [VC2, EXAMPLES],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:learner", "favoriteColor": "blue"},
    }
    credential.update(overrides)
    return credential


def badge(achievement_url: str) -> dict[str, Any]:
    return {
        "@context": [VC2, OB3],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Badge",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {
                "id": achievement_url,
                "type": ["Achievement"],
                "name": "Course",
                "description": "A course",
                "criteria": {"narrative": "Pass it"},
            },
        },
    }


def key_resolver(client: FlaskClient, slug: str) -> Any:
    document = client.get(f"/issuers/{slug}/did.json").get_json()
    keys = {
        method["id"]: decode_multikey(method["publicKeyMultibase"])
        for method in document["verificationMethod"]
        if method["type"] == "Multikey"
    }

    def resolve(method_id: str) -> tuple[str, bytes]:
        return keys[method_id.removesuffix("-jwk")]

    return resolve


def test_a_conforming_vc2_credential_is_secured_logged_and_given_status(
    client: FlaskClient, services: Services, issuer: Caller
) -> None:
    before = tree_size(services)

    response = client.post(
        "/credentials/issue",
        json={"credential": plain_credential()},
        headers=issuer.headers,
    )

    assert response.status_code == 201
    body = response.get_json()
    vc = body["verifiableCredential"]
    did = client.get(f"/issuers/{issuer.subject}").get_json()["did"]
    assert vc["issuer"] == did
    assert vc["id"].startswith("urn:uuid:")
    purposes = [entry["statusPurpose"] for entry in vc["credentialStatus"]]
    assert purposes == ["revocation", "suspension"]
    verify_proof(vc, key_resolver(client, str(issuer.subject)))
    unsigned = {k: v for k, v in vc.items() if k != "proof"}
    assert credential_digest(unsigned) == body["digest"]
    assert tree_size(services) == before + 1
    (entry,) = logged(services, before)
    assert entry["kind"] == "credential.issued"
    assert entry["digest"] == body["digest"]


def test_a_jwt_answer_is_an_enveloped_credential(
    client: FlaskClient, issuer: Caller
) -> None:
    response = client.post(
        "/credentials/issue",
        json={"credential": plain_credential(), "options": {"formats": ["vc+jwt"]}},
        headers=issuer.headers,
    )

    assert response.status_code == 201
    vc = response.get_json()["verifiableCredential"]
    assert vc["type"] == "EnvelopedVerifiableCredential"
    prefix = "data:application/vc+jwt,"
    assert vc["id"].startswith(prefix)
    payload = verify_vc_jwt(
        vc["id"][len(prefix) :], key_resolver(client, str(issuer.subject))
    )
    assert payload["credentialSubject"]["favoriteColor"] == "blue"


def test_an_open_badge_must_name_an_approved_achievement_of_the_caller(
    client: FlaskClient,
    issuer: Caller,
    other_issuer: Caller,
    approved_achievement: str,
) -> None:
    url = f"http://credbank.test/achievements/{approved_achievement}"

    own = client.post(
        "/credentials/issue", json={"credential": badge(url)}, headers=issuer.headers
    )
    foreign = client.post(
        "/credentials/issue",
        json={"credential": badge(url)},
        headers=other_issuer.headers,
    )

    assert own.status_code == 201
    achievement = own.get_json()["verifiableCredential"]["credentialSubject"][
        "achievement"
    ]
    assert achievement["id"] == url
    assert foreign.status_code == 403
    assert "belongs to another issuer" in foreign.get_json()["detail"]


@pytest.mark.parametrize(
    ("credential", "field"),
    [
        (plain_credential(**{"@context": ["https://evil.example/v1"]}), "@context"),
        (plain_credential(type=["Credential"]), "type"),
        (plain_credential(issuer="did:web:elsewhere.example"), "issuer"),
        (plain_credential(proof={"type": "DataIntegrityProof"}), "proof"),
        (plain_credential(credentialStatus=[]), "credentialStatus"),
        (plain_credential(credentialSubject=[{"id": "did:example:1"}]), None),
    ],
    ids=[
        "unknown-context",
        "no-vc-type",
        "other-issuer",
        "own-proof",
        "own-status",
        "subject-list",
    ],
)
def test_nonconforming_credentials_are_refused_and_nothing_is_logged(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    credential: dict[str, Any],
    field: str | None,
) -> None:
    before = tree_size(services)

    response = client.post(
        "/credentials/issue", json={"credential": credential}, headers=issuer.headers
    )

    assert response.status_code == 400
    body = response.get_json()
    if field is not None:
        assert field in body["errors"]
    assert tree_size(services) == before


def test_an_unknown_context_inside_is_refused_not_fetched(
    client: FlaskClient, services: Services, issuer: Caller
) -> None:
    credential = plain_credential(**{"@context": [VC2, "https://evil.example/v1"]})
    before = tree_size(services)

    response = client.post(
        "/credentials/issue", json={"credential": credential}, headers=issuer.headers
    )

    assert response.status_code == 400
    assert "evil.example" in response.get_json()["detail"]
    assert tree_size(services) == before


def test_only_issuers_may_issue(client: FlaskClient, admin: Caller) -> None:
    anonymous = client.post("/credentials/issue", json={"credential": {}})
    as_admin = client.post(
        "/credentials/issue", json={"credential": {}}, headers=admin.headers
    )

    assert anonymous.status_code == 401
    assert as_admin.status_code == 403


@pytest.mark.parametrize(
    ("remove", "field"),
    [
        (("name",), "name"),
        (("credentialSubject", "type"), "credentialSubject.type"),
        (
            ("credentialSubject", "achievement", "criteria"),
            "credentialSubject.achievement.criteria",
        ),
        (
            ("credentialSubject", "achievement", "description"),
            "credentialSubject.achievement.description",
        ),
    ],
)
def test_a_badge_missing_an_ob3_property_is_refused(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    approved_achievement: str,
    remove: tuple[str, ...],
    field: str,
) -> None:
    credential = badge(f"http://credbank.test/achievements/{approved_achievement}")
    parent = credential
    for name in remove[:-1]:
        parent = parent[name]
    del parent[remove[-1]]
    before = tree_size(services)

    response = client.post(
        "/credentials/issue", json={"credential": credential}, headers=issuer.headers
    )

    assert response.status_code == 400
    assert field in response.get_json()["errors"]
    assert tree_size(services) == before
