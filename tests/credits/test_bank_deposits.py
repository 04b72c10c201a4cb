"""Deposits of credentials another platform issued (DESIGN §7): verified first,
accepted only from a trusted issuer, once, and logged as `external`."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask.testing import FlaskClient

from api.app import create_app
from api.config import Config
from api.services import Services, open_services
from credentials import add_proof
from credentials.achievements import achievement_document
from credentials.ob3 import achievement_credential, email_identity
from credits.bank import Holder, trusted_hosts
from issuers.learners import Learner
from keys.multikey import encode_multikey
from keys.signers import ED25519, LocalSigner
from tests.conftest import (
    NOW,
    Caller,
    achievement_definition,
    logged,
    make_token,
    tree_size,
)

RDFC, JCS = "eddsa-rdfc-2022", "eddsa-jcs-2022"
PLATFORM_ACHIEVEMENT = "https://platform.example/achievements/ml-101"


@dataclass(frozen=True)
class Platform:
    """Another credential platform: a did:key issuer that signs Open Badges."""

    signer: LocalSigner
    did: str

    def credential(
        self,
        *,
        cryptosuite: str = RDFC,
        achievement_id: str = PLATFORM_ACHIEVEMENT,
        status: list[dict[str, Any]] | None = None,
        **definition: Any,
    ) -> dict[str, Any]:
        """A signed OB 3.0 credential shaped as credbank writes its own: credits
        and the credit-unit and EQF alignments on the achievement; `status` its
        status list entries, if any."""
        achievement = achievement_document(
            achievement_id,
            achievement_definition(**definition),
            creator={"id": self.did, "type": ["Profile"]},
            base_url="https://platform.example",
        )
        unsigned = achievement_credential(
            credential_id=f"urn:uuid:{uuid.uuid4()}",
            issuer={"id": self.did, "type": ["Profile"], "name": "Platform"},
            achievement=achievement,
            valid_from="2026-03-01T00:00:00Z",
            valid_until=None,
            learner_did="did:example:learner",
            identity=None,
            credits_earned=None,
            result=None,
            awarded_date=None,
            evidence=None,
            status=status or [],
        )
        if not status:
            unsigned.pop("credentialStatus")
        multikey = self.did.removeprefix("did:key:")
        return add_proof(
            unsigned,
            self.signer,
            cryptosuite=cryptosuite,
            verification_method=f"{self.did}#{multikey}",
            created="2026-03-01T00:00:00Z",
        )


def new_platform() -> Platform:
    signer = LocalSigner("platform", Ed25519PrivateKey.generate())
    return Platform(signer, f"did:key:{encode_multikey(ED25519, signer.public_key)}")


@pytest.fixture
def platform() -> Platform:
    return new_platform()


@pytest.fixture
def trusting(migrated: Config, platform: Platform) -> Iterator[FlaskClient]:
    """A client of an app whose credit bank trusts `platform`."""
    opened = open_services(replace(migrated, trusted_platforms=(platform.did,)))
    app = create_app(opened.config, services=opened)
    app.config["TESTING"] = True
    yield app.test_client()
    opened.close()


def deposit(client: FlaskClient, learner: Caller, credential: Any) -> Any:
    return client.post(
        f"/learners/{learner.subject}/deposits",
        json={"verifiableCredential": credential},
        headers=learner.headers,
    )


@pytest.mark.parametrize("cryptosuite", [RDFC, JCS])
def test_a_trusted_platforms_credential_is_deposited_and_logged(
    trusting: FlaskClient,
    services: Services,
    platform: Platform,
    learner: Caller,
    cryptosuite: str,
) -> None:
    credential = platform.credential(cryptosuite=cryptosuite, credits="2.5")
    size = tree_size(services)

    answer = deposit(trusting, learner, credential)

    assert answer.status_code == 201, answer.get_json()
    made = answer.get_json()
    assert made["source"] == "external"
    assert made["credential"] == credential["id"]
    assert (made["credits"], made["unit"], made["eqfLevel"]) == ("2.5", "ECTS", 5)
    assert made["issuer"] == platform.did
    assert made["achievement"] == PLATFORM_ACHIEVEMENT
    (entry,) = logged(services, size)
    assert entry["kind"] == "credits.deposited"
    assert entry["source"] == "external"
    assert entry["deposit"] == made["id"] and entry["digest"] == made["digest"]
    assert entry["learner"] == learner.subject
    assert made["logIndex"] == size
    account = trusting.get(
        f"/learners/{learner.subject}/credits", headers=learner.headers
    ).get_json()
    assert account["balances"] == {
        "ECTS": {"available": "2.5", "used": "0", "withdrawn": "0"}
    }
    assert [d["id"] for d in account["deposits"]] == [made["id"]]


def test_a_did_web_platform_is_trusted_by_its_host() -> None:
    from credits.bank import _trusted

    trusted = ("platform.example", "did:key:z6Mkexample")
    assert _trusted("did:web:platform.example", trusted)
    assert _trusted("did:web:platform.example:issuers:a", trusted)
    assert _trusted("did:key:z6Mkexample", trusted)
    assert not _trusted("did:web:platform.example.evil.test", trusted)
    assert not _trusted("did:web:evil.test:platform.example", trusted)
    assert not _trusted("did:key:z6Mkother", trusted)


def test_an_untrusted_platforms_credential_is_refused(
    trusting: FlaskClient, services: Services, learner: Caller
) -> None:
    stranger = new_platform().credential()
    size = tree_size(services)

    answer = deposit(trusting, learner, stranger)

    assert answer.status_code == 403, answer.get_json()
    assert "not on this credit bank's trusted platforms" in answer.get_json()["detail"]
    assert answer.mimetype == "application/problem+json"
    assert tree_size(services) == size


def test_no_platform_is_trusted_unless_configured(
    client: FlaskClient, services: Services, platform: Platform, learner: Caller
) -> None:
    size = tree_size(services)

    answer = deposit(client, learner, platform.credential())

    assert answer.status_code == 403
    assert tree_size(services) == size


@pytest.mark.parametrize(
    ("change", "failure"),
    [
        (lambda c: c["credentialSubject"]["achievement"].update(creditsAvailable=30),
         "signature"),
        (lambda c: c.update(validFrom="2026-03-02T00:00:00Z"), "signature"),
        (lambda c: c["proof"].update(proofValue="z" + "1" * 86), "signature"),
        (lambda c: c.pop("proof"), ""),
    ],
)  # fmt: skip
def test_a_credential_that_does_not_verify_is_refused(
    trusting: FlaskClient,
    services: Services,
    platform: Platform,
    learner: Caller,
    change: Any,
    failure: str,
) -> None:
    tampered = copy.deepcopy(platform.credential())
    change(tampered)
    size = tree_size(services)

    answer = deposit(trusting, learner, tampered)

    assert answer.status_code == 400, answer.get_json()
    (message,) = answer.get_json()["errors"]["verifiableCredential"]
    assert message.startswith("does not verify")
    assert failure in message
    assert tree_size(services) == size


def test_a_credential_is_deposited_once(
    trusting: FlaskClient,
    services: Services,
    platform: Platform,
    learner: Caller,
) -> None:
    credential = platform.credential()
    first = deposit(trusting, learner, credential)
    size = tree_size(services)

    second = deposit(trusting, learner, credential)

    assert first.status_code == 201
    assert second.status_code == 409, second.get_json()
    assert credential["id"] in second.get_json()["detail"]
    assert tree_size(services) == size


def test_a_trusted_credential_without_credits_names_the_field(
    trusting: FlaskClient,
    services: Services,
    platform: Platform,
    learner: Caller,
) -> None:
    credential = platform.credential()
    achievement = credential["credentialSubject"]["achievement"]
    del achievement["creditsAvailable"]
    credential.pop("proof")
    multikey = platform.did.removeprefix("did:key:")
    resigned = add_proof(
        credential,
        platform.signer,
        cryptosuite=RDFC,
        verification_method=f"{platform.did}#{multikey}",
        created="2026-03-01T00:00:00Z",
    )
    size = tree_size(services)

    answer = deposit(trusting, learner, resigned)

    assert answer.status_code == 400, answer.get_json()
    errors = answer.get_json()["errors"]
    field = "verifiableCredential.credentialSubject.achievement.creditsAvailable"
    assert list(errors) == [field]
    assert tree_size(services) == size


def test_a_learner_deposits_into_their_own_account_only(
    trusting: FlaskClient,
    services: Services,
    platform: Platform,
    learner: Caller,
) -> None:
    other = Caller(learner.token, "learner-2")
    size = tree_size(services)

    answer = deposit(trusting, other, platform.credential())

    assert answer.status_code == 403
    assert tree_size(services) == size


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "verifiableCredential"),
        ({"verifiableCredential": "eyJhbGciOi.x.y"}, "verifiableCredential"),
        ({"verifiableCredential": [1]}, "verifiableCredential"),
    ],
)
def test_a_deposit_body_without_a_credential_names_the_field(
    trusting: FlaskClient,
    services: Services,
    learner: Caller,
    body: dict[str, Any],
    field: str,
) -> None:
    size = tree_size(services)

    answer = trusting.post(
        f"/learners/{learner.subject}/deposits", json=body, headers=learner.headers
    )

    assert answer.status_code == 400
    assert field in answer.get_json()["errors"]
    assert tree_size(services) == size


def test_a_deposit_body_that_is_not_json_is_a_problem(
    trusting: FlaskClient, services: Services, learner: Caller
) -> None:
    size = tree_size(services)

    answer = trusting.post(
        f"/learners/{learner.subject}/deposits",
        data=b"\xff\xfe not json",
        content_type="application/json",
        headers=learner.headers,
    )

    assert answer.status_code == 400
    assert answer.mimetype == "application/problem+json"
    assert answer.get_json()["detail"] == "expected a JSON body"
    assert tree_size(services) == size


def resign(platform: Platform, credential: dict[str, Any]) -> dict[str, Any]:
    unsigned = {k: v for k, v in credential.items() if k != "proof"}
    multikey = platform.did.removeprefix("did:key:")
    return add_proof(
        unsigned,
        platform.signer,
        cryptosuite=JCS,
        verification_method=f"{platform.did}#{multikey}",
        created="2026-03-01T00:00:00Z",
    )


def _unit(credential: dict[str, Any], code: str) -> None:
    alignments = credential["credentialSubject"]["achievement"]["alignment"]
    alignments[0]["targetCode"] = code


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda c: c.update(id="urn:x:" + "a" * 300), "verifiableCredential.id"),
        (lambda c: c["credentialSubject"]["achievement"].update(
            id="https://platform.example/" + "a" * 500),
         "verifiableCredential.credentialSubject.achievement.id"),
        (lambda c: c["credentialSubject"].update(creditsEarned="0." + "1" * 70),
         "verifiableCredential.credentialSubject.creditsEarned"),
        (lambda c: c["credentialSubject"].update(creditsEarned="1" * 31 + "/7"),
         "verifiableCredential.credentialSubject.creditsEarned"),
        (lambda c: _unit(c, "U" * 17),
         "verifiableCredential.credentialSubject.achievement.alignment"),
    ],
)  # fmt: skip
def test_a_credential_too_long_to_keep_names_the_field(
    trusting: FlaskClient,
    services: Services,
    platform: Platform,
    learner: Caller,
    change: Any,
    field: str,
) -> None:
    # The deposits table bounds each column (credits/models.py); PostgreSQL
    # enforces the bounds, so they are checked before anything is written.
    credential = platform.credential(cryptosuite=JCS)
    change(credential)
    size = tree_size(services)

    answer = deposit(trusting, learner, resign(platform, credential))

    assert answer.status_code == 400, answer.get_json()
    (named,) = answer.get_json()["errors"]
    assert named.startswith(field)
    assert tree_size(services) == size


def test_a_credential_naming_someone_else_is_refused(
    trusting: FlaskClient, services: Services, platform: Platform
) -> None:
    # Another learner, known by another DID, tries to bank learner-1's credential.
    with services.database.transaction(write=True) as session:
        session.add(
            Learner(
                id="learner-2",
                did="did:example:someone-else",
                email_lookup=None,
                sealed_profile=None,
                created_at=NOW,
                erased_at=None,
            )
        )
    thief = make_token(services, "learner", "learner-2")
    size = tree_size(services)

    answer = deposit(trusting, thief, platform.credential())

    assert answer.status_code == 403, answer.get_json()
    assert "subject" in answer.get_json()["detail"]
    assert tree_size(services) == size


def test_an_e_mail_subject_is_matched_by_its_salted_hash() -> None:
    credential = {"credentialSubject": {"identifier": [email_identity("A@B.example")]}}

    assert Holder(None, "a@b.example").is_subject_of(credential)
    assert not Holder(None, "c@b.example").is_subject_of(credential)
    assert not Holder("did:example:a", None).is_subject_of(credential)


def test_trusted_did_web_hosts_may_be_fetched_for_verification() -> None:
    assert trusted_hosts(
        ["did:web:Platform.Example:issuers:x", "other.example", "did:key:z6Mk"]
    ) == ("platform.example", "other.example")
