"""Credentials over HTTP (issue 4): awarding, showing, status, batches, QR codes.

Every credential is checked as an outsider would: its proofs against the keys of the
issuer's published DID document, its digest against the log entry at its index, and
that entry's inclusion proof against the log's published key. Refused requests are
problem details that leave nothing behind: no log entry, no status index, no row.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import math
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
import zxingcpp
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import update
from werkzeug.test import TestResponse

from api.services import Services
from credentials import (
    Bitstring,
    credential_digest,
    parse_status_entry,
    verify_proof,
    verify_vc_jwt,
)
from issuers.batch import CHUNK_SIZE, MAX_ROWS
from issuers.issuance import IssuedCredential
from ledger import NoteVerifier, TLogProof, leaf_hash, verify_tlog_proof
from tests.api.conftest import RunCLI
from tests.conftest import (
    LEARNER_EMAIL,
    LEARNER_NAME,
    Caller,
    allocated_indexes,
    award,
    award_request,
    checkpoints_signed,
    issuer_keys,
    rows_in,
    submit,
    tree_size,
)

BASE = "http://credbank.test"
DID = "did:web:credbank.test:issuers:centre-1"
RDFC, JCS, JWT = "eddsa-rdfc-2022", "eddsa-jcs-2022", "vc+jwt"
FORMS = [RDFC, JCS, JWT]
CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
LEARNER_DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
PROBLEM = "application/problem+json"


# What an outsider checks


def unsecured(form: str, secured: Any, keys: dict[str, tuple[str, bytes]]) -> Any:
    """Verify one secured form with the published keys; the credential it carries."""
    if form == JWT:
        assert isinstance(secured, str)
        return verify_vc_jwt(secured, keys.__getitem__)
    verified = verify_proof(secured, keys.__getitem__)
    assert verified.cryptosuite == form
    assert verified.verification_method.startswith(f"{DID}#")
    return {name: value for name, value in secured.items() if name != "proof"}


def log_entry(client: FlaskClient, index: int) -> tuple[dict[str, Any], bytes]:
    """The entry at `index` as /log/entries serves it, with its exact bytes."""
    answer = client.get(f"/log/entries?start={index}&end={index + 1}")
    assert answer.status_code == 200
    (item,) = answer.get_json()["entries"]
    assert item["index"] == index
    return item["entry"], base64.b64decode(item["data"], validate=True)


def assert_logged(client: FlaskClient, index: int, data: bytes) -> None:
    """/log/proof/<index> proves `data` is in the log under a signed checkpoint."""
    verifier = NoteVerifier.parse(client.get("/log/key").get_data(as_text=True))
    answer = client.get(f"/log/proof/{index}")
    assert answer.status_code == 200
    proof = TLogProof.from_text(answer.get_data(as_text=True))
    checkpoint = verify_tlog_proof(proof, leaf_hash(data), verifier)
    assert proof.index == index
    assert checkpoint.size > index


def months_between(start: datetime, end: datetime) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def check_open_badge(
    credential: dict[str, Any], achievement: str, *, score: float | None
) -> None:
    """The OB 3.0 AchievementCredential of DESIGN §4, field by field."""
    assert credential["@context"] == CONTEXTS
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert uuid.UUID(credential["id"].removeprefix("urn:uuid:"))
    assert credential["id"].startswith("urn:uuid:")
    assert credential["issuer"]["id"] == DID
    assert "Profile" in credential["issuer"]["type"]

    subject = credential["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["creditsEarned"] == 3
    badge = subject["achievement"]
    assert badge["id"] == f"{BASE}/achievements/{achievement}"
    assert "Achievement" in badge["type"]
    assert badge["creditsAvailable"] == 3
    unit, level = (
        [a for a in badge["alignment"] if a.get("targetFramework") == framework]
        for framework in ("credit-unit", "EQF")
    )
    assert unit == [
        {
            "type": ["Alignment"],
            "targetName": "ECTS credit (ECTS)",
            "targetUrl": f"{BASE}/units/ECTS",
            "targetFramework": "credit-unit",
            "targetCode": "ECTS",
            "targetDescription": unit[0]["targetDescription"],
        }
    ]
    assert level == [
        {
            "type": ["Alignment"],
            "targetName": "EQF level 5",
            "targetUrl": "http://data.europa.eu/snb/eqf/5",
            "targetFramework": "EQF",
            "targetCode": "5",
        }
    ]
    if score is None:
        assert "result" not in subject
    else:
        (description,) = badge["resultDescription"]
        assert subject["result"] == [
            {
                "type": ["Result"],
                "resultDescription": description["id"],
                "value": f"{score:g}",
            }
        ]

    # validityMonths is 36 in the test definition.
    valid_from = datetime.fromisoformat(credential["validFrom"])
    valid_until = datetime.fromisoformat(credential["validUntil"])
    assert credential["validFrom"].endswith("Z")
    assert months_between(valid_from, valid_until) == 36
    assert valid_until.time() == valid_from.time()

    revocation, suspension = credential["credentialStatus"]
    for entry, purpose in ((revocation, "revocation"), (suspension, "suspension")):
        parsed = parse_status_entry(entry)
        assert entry["type"] == "BitstringStatusListEntry"
        assert parsed.status_purpose == purpose
        assert re.fullmatch(
            rf"{BASE}/status/centre-1-{purpose}-\d+", entry["statusListCredential"]
        )
        assert entry["id"] == f"{entry['statusListCredential']}#{parsed.index}"


def problem(answer: TestResponse, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.mimetype == PROBLEM
    body: dict[str, Any] = answer.get_json()
    assert body["status"] == status
    return body


@dataclass(frozen=True)
class Footprint:
    """What an award uses up; a refused request must leave all of it alone."""

    size: int
    allocated: int
    learners: int
    data_keys: int
    credentials: int

    @classmethod
    def of(cls, services: Services) -> Footprint:
        return cls(
            tree_size(services),
            allocated_indexes(services),
            rows_in(services, "learners"),
            rows_in(services, "data_keys"),
            rows_in(services, "credentials"),
        )


# Awarding


@pytest.mark.parametrize(
    "formats", [[RDFC], [JCS], [JWT], FORMS], ids=["rdfc", "jcs", "jwt", "all three"]
)
def test_an_award_is_an_open_badge_that_verifies_and_is_logged(
    client: FlaskClient, issuer: Caller, approved_achievement: str, formats: list[str]
) -> None:
    body = award(
        client,
        issuer,
        award_request(approved_achievement, score=87.5, formats=formats),
    )
    keys = issuer_keys(client, "centre-1")

    assert set(body["credential"]) == set(formats)
    assert body["verificationUrl"] == f"{BASE}/v/{body['id']}"
    assert body["qr"] == {
        "svg": f"{BASE}/credentials/{body['id']}/qr.svg",
        "png": f"{BASE}/credentials/{body['id']}/qr.png",
    }
    documents = [unsecured(f, body["credential"][f], keys) for f in formats]
    for document in documents:
        check_open_badge(document, approved_achievement, score=87.5)
        assert document == documents[0]
        assert document["id"] == body["id"]
        assert credential_digest(document) == body["digest"]

    entry, data = log_entry(client, body["logIndex"])
    assert entry["kind"] == "credential.issued"
    assert entry["credential"] == body["id"]
    assert entry["digest"] == body["digest"]
    assert entry["issuer"] == "centre-1"
    assert_logged(client, body["logIndex"], data)


def test_the_default_form_is_eddsa_rdfc_2022(
    client: FlaskClient, issuer: Caller, approved_achievement: str
) -> None:
    body = award(client, issuer, award_request(approved_achievement))

    assert list(body["credential"]) == [RDFC]
    document = unsecured(
        RDFC, body["credential"][RDFC], issuer_keys(client, "centre-1")
    )
    check_open_badge(document, approved_achievement, score=None)


def test_a_course_without_validity_gives_no_valid_until(
    client: FlaskClient, issuer: Caller, reviewers: list[Caller]
) -> None:
    achievement = submit(client, issuer, validityMonths=None)
    for reviewer in reviewers[:2]:
        client.post(
            f"/achievements/{achievement}/reviews",
            json={"decision": "approve"},
            headers=reviewer.headers,
        )

    body = award(client, issuer, award_request(achievement, creditsEarned="1.5"))

    credential = body["credential"][RDFC]
    assert "validUntil" not in credential
    assert credential["credentialSubject"]["creditsEarned"] == 1.5


def test_the_unit_alignment_url_describes_the_unit(
    client: FlaskClient, issued: dict[str, Any]
) -> None:
    badge = issued["credential"][RDFC]["credentialSubject"]["achievement"]
    (unit,) = [a for a in badge["alignment"] if a.get("targetCode") == "ECTS"]

    answer = client.get(unit["targetUrl"].removeprefix(BASE))

    assert answer.status_code == 200
    assert "ECTS" in answer.get_data(as_text=True)


def test_a_learner_with_a_did_is_the_subject(
    client: FlaskClient, issuer: Caller, approved_achievement: str
) -> None:
    body = award(
        client,
        issuer,
        award_request(approved_achievement, learner={"did": LEARNER_DID}),
    )

    subject = body["credential"][RDFC]["credentialSubject"]
    assert subject["id"] == LEARNER_DID
    assert "identifier" not in subject


def test_an_e_mail_learner_is_a_salted_identity_hash(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    approved_achievement: str,
) -> None:
    first = award(client, issuer, award_request(approved_achievement))
    again = award(
        client,
        issuer,
        award_request(
            approved_achievement,
            learner={"email": LEARNER_EMAIL.upper(), "name": LEARNER_NAME},
        ),
    )

    identities = []
    for body in (first, again):
        subject = body["credential"][RDFC]["credentialSubject"]
        assert "id" not in subject
        (identity,) = subject["identifier"]
        salted = (LEARNER_EMAIL.lower() + identity["salt"]).encode()
        assert identity == {
            "type": "IdentityObject",
            "identityHash": "sha256$" + hashlib.sha256(salted).hexdigest(),
            "identityType": "emailAddress",
            "hashed": True,
            "salt": identity["salt"],
        }
        identities.append(identity)
    # A fresh salt each time: two credentials cannot be linked by their hashes...
    assert identities[0]["salt"] != identities[1]["salt"]
    assert identities[0]["identityHash"] != identities[1]["identityHash"]
    # ...while the service knows them for one learner, by a pseudonymous id.
    first_entry, _ = log_entry(client, first["logIndex"])
    again_entry, _ = log_entry(client, again["logIndex"])
    assert first_entry["learner"] == again_entry["learner"]
    assert first_entry["learner"].startswith("lrn_")
    assert rows_in(services, "learners") == 1


def test_personal_data_appears_nowhere_outside_the_sealed_record(
    client: FlaskClient,
    issuer: Caller,
    approved_achievement: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    answers = [
        client.post(
            "/credentials/award",
            json=award_request(approved_achievement, formats=FORMS),
            headers=issuer.headers,
        )
    ]
    credential_id = answers[0].get_json()["id"]
    answers += [client.get(f"/credentials/{credential_id}?format={f}") for f in FORMS]
    answers.append(client.get("/log/entries?start=0&end=1000"))

    entries = answers[-1].get_json()["entries"]
    logged_bytes = b"".join(base64.b64decode(item["data"]) for item in entries)
    texts = [a.get_data(as_text=True) for a in answers]
    texts.append(logged_bytes.decode())
    texts += [r.getMessage() for r in caplog.records]
    assert answers[0].status_code == 201
    assert any("issued 1 credentials" in r.getMessage() for r in caplog.records)
    secrets = [
        LEARNER_EMAIL,
        LEARNER_EMAIL.lower(),
        LEARNER_NAME,
        json.dumps(LEARNER_NAME)[1:-1],
    ]
    for text in texts:
        for secret in secrets:
            assert secret not in text


# Showing a credential


def test_each_form_is_served_by_id_and_by_bare_uuid(
    client: FlaskClient, issued: dict[str, Any]
) -> None:
    bare = issued["id"].removeprefix("urn:uuid:")
    for ref in (issued["id"], bare):
        for query, form, mimetype in [
            (RDFC, RDFC, "application/vc+ld+json"),
            (JCS, JCS, "application/vc+ld+json"),
            ("vc+jwt", JWT, "application/vc+jwt"),  # '+' arrives as a space
            ("vc%2Bjwt", JWT, "application/vc+jwt"),
        ]:
            answer = client.get(f"/credentials/{ref}?format={query}")
            assert answer.status_code == 200
            assert answer.mimetype == mimetype
            served = answer.get_data(as_text=True) if form == JWT else answer.get_json()
            assert served == issued["credential"][form]


def test_without_a_format_the_first_form_asked_for_is_served(
    client: FlaskClient, issuer: Caller, approved_achievement: str
) -> None:
    body = award(
        client, issuer, award_request(approved_achievement, formats=[JWT, JCS])
    )

    answer = client.get(f"/credentials/{body['id']}")

    assert answer.mimetype == "application/vc+jwt"
    assert answer.get_data(as_text=True) == body["credential"][JWT]


def test_a_form_not_issued_is_a_404_naming_the_forms_there_are(
    client: FlaskClient, issuer: Caller, approved_achievement: str
) -> None:
    body = award(client, issuer, award_request(approved_achievement, formats=[JCS]))

    found = problem(client.get(f"/credentials/{body['id']}?format={RDFC}"), 404)

    assert found["detail"] == (
        "no 'eddsa-rdfc-2022' form of this credential; it has eddsa-jcs-2022"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/credentials/urn:uuid:00000000-0000-4000-8000-000000000000",
        "/credentials/00000000-0000-4000-8000-000000000000",
        "/credentials/urn:uuid:00000000-0000-4000-8000-000000000000/qr.svg",
        "/credentials/00000000-0000-4000-8000-000000000000/qr.png",
    ],
)
def test_an_unknown_credential_is_a_404_problem(client: FlaskClient, path: str) -> None:
    found = problem(client.get(path), 404)

    assert found["type"] == f"{BASE}/problems#not-found"
    assert found["detail"] == (
        "no credential 'urn:uuid:00000000-0000-4000-8000-000000000000'"
    )


# Status


def status_list(
    client: FlaskClient, credential: dict[str, Any], purpose: str, etag: str = ""
) -> tuple[TestResponse, bool | None]:
    """GET the credential's list of `purpose`; the answer, and its bit (None on a
    304). The list credential is verified with the issuer's published keys."""
    (entry,) = [
        e for e in credential["credentialStatus"] if e["statusPurpose"] == purpose
    ]
    headers = {"If-None-Match": etag} if etag else {}
    answer = client.get(
        entry["statusListCredential"].removeprefix(BASE), headers=headers
    )
    if answer.status_code == 304:
        return answer, None
    assert answer.status_code == 200
    assert answer.mimetype == "application/vc+ld+json"
    assert answer.headers["Cache-Control"] == "public, max-age=300"
    listed = answer.get_json()
    verified = verify_proof(listed, issuer_keys(client, "centre-1").__getitem__)
    assert verified.verification_method.startswith(f"{DID}#")
    assert listed["id"] == entry["statusListCredential"]
    assert listed["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert listed["issuer"] == DID
    subject = listed["credentialSubject"]
    assert subject["statusPurpose"] == purpose
    assert subject["ttl"] == 300_000
    bits = Bitstring.decode(subject["encodedList"])
    return answer, bits.get(int(entry["statusListIndex"]))


def change(
    client: FlaskClient, caller: Caller | None, credential_id: str, action: str
) -> TestResponse:
    return client.post(
        "/credentials/status",
        json={"credentialId": credential_id, "action": action, "reason": "test"},
        headers=caller.headers if caller else {},
    )


def test_suspend_sets_the_bit_and_reinstate_clears_it(
    client: FlaskClient, services: Services, issuer: Caller, issued: dict[str, Any]
) -> None:
    credential = issued["credential"][RDFC]
    first, bit = status_list(client, credential, "suspension")
    etag = first.headers["ETag"]
    assert bit is False
    assert status_list(client, credential, "suspension", etag)[0].status_code == 304
    size = tree_size(services)

    answer = change(client, issuer, issued["id"], "suspend")

    assert answer.status_code == 200
    assert answer.get_json() == {"credentialId": issued["id"], "status": "suspended"}
    suspended, bit = status_list(client, credential, "suspension", etag)
    assert bit is True
    assert suspended.headers["ETag"] != etag
    assert status_list(client, credential, "revocation")[1] is False
    again = status_list(client, credential, "suspension", suspended.headers["ETag"])
    assert again[0].status_code == 304
    assert again[0].headers["ETag"] == suspended.headers["ETag"]

    answer = change(client, issuer, issued["id"], "reinstate")

    assert answer.get_json() == {"credentialId": issued["id"], "status": "active"}
    reinstated, bit = status_list(client, credential, "suspension")
    assert bit is False
    assert reinstated.headers["ETag"] not in {etag, suspended.headers["ETag"]}

    index = int(credential["credentialStatus"][1]["statusListIndex"])
    changes = [client.get(f"/log/entries?start={size}&end={size + 2}")]
    entries = [item["entry"] for item in changes[0].get_json()["entries"]]
    assert [(e["kind"], e["status"], e["purpose"]) for e in entries] == [
        ("status.changed", "suspended", "suspension"),
        ("status.changed", "active", "suspension"),
    ]
    for entry in entries:
        assert entry["credential"] == issued["id"]
        assert entry["digest"] == issued["digest"]
        assert entry["index"] == index
        assert entry["list"] == "centre-1-suspension-1"
        assert entry["reason"] == "test"
    assert tree_size(services) == size + 2


def test_revocation_is_final(
    client: FlaskClient, services: Services, issuer: Caller, issued: dict[str, Any]
) -> None:
    credential = issued["credential"][RDFC]

    answer = change(client, issuer, issued["id"], "revoke")

    assert answer.get_json() == {"credentialId": issued["id"], "status": "revoked"}
    assert status_list(client, credential, "revocation")[1] is True
    assert status_list(client, credential, "suspension")[1] is False
    size = tree_size(services)
    for action in ("suspend", "reinstate", "revoke"):
        refused = problem(change(client, issuer, issued["id"], action), 409)
        assert refused["detail"] == f"credential {issued['id']} is revoked for good"
    assert tree_size(services) == size
    assert status_list(client, credential, "revocation")[1] is True


def test_a_suspended_credential_can_still_be_revoked(
    client: FlaskClient, issuer: Caller, issued: dict[str, Any]
) -> None:
    credential = issued["credential"][RDFC]
    change(client, issuer, issued["id"], "suspend")

    answer = change(client, issuer, issued["id"], "revoke")

    assert answer.get_json()["status"] == "revoked"
    assert status_list(client, credential, "revocation")[1] is True
    problem(change(client, issuer, issued["id"], "reinstate"), 409)


@pytest.mark.parametrize(
    ("actions", "detail"),
    [
        (["reinstate"], "expected a suspended credential to reinstate, got active"),
        (["suspend", "suspend"], "credential {id} is already suspended"),
    ],
)
def test_status_changes_that_change_nothing_are_conflicts(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    issued: dict[str, Any],
    actions: list[str],
    detail: str,
) -> None:
    for action in actions[:-1]:
        assert change(client, issuer, issued["id"], action).status_code == 200
    size = tree_size(services)

    refused = problem(change(client, issuer, issued["id"], actions[-1]), 409)

    assert refused["detail"] == detail.format(id=issued["id"])
    assert tree_size(services) == size


def test_only_the_issuing_issuer_or_an_admin_changes_a_status(
    client: FlaskClient,
    services: Services,
    admin: Caller,
    reviewer: Caller,
    other_issuer: Caller,
    issued: dict[str, Any],
) -> None:
    size = tree_size(services)

    foreign = problem(change(client, other_issuer, issued["id"], "revoke"), 403)
    role = problem(change(client, reviewer, issued["id"], "revoke"), 403)
    anonymous = problem(change(client, None, issued["id"], "revoke"), 401)

    assert foreign["detail"] == "this credential was issued by another issuer"
    assert role["detail"] == "expected a token with role admin or issuer, got reviewer"
    assert anonymous["detail"] == "expected an Authorization: Bearer token"
    assert tree_size(services) == size
    by_admin = change(client, admin, issued["id"].removeprefix("urn:uuid:"), "suspend")
    assert by_admin.get_json() == {"credentialId": issued["id"], "status": "suspended"}
    assert tree_size(services) == size + 1


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"credentialId": "urn:uuid:" + str(uuid.UUID(int=1)), "action": "revoke"},
         404, None),
        ({"action": "revoke", "credentialId": None}, 400, "credentialId"),
        ({"action": "delete"}, 400, "action"),
        ({"action": "revoke", "reason": ""}, 400, "reason"),
        ({"action": "revoke", "reason": "bad\x1b[2J"}, 400, "reason"),
        ({"action": "revoke", "why": "x"}, 400, "why"),
    ],
)  # fmt: skip
def test_a_bad_status_request_is_refused(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    issued: dict[str, Any],
    body: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    request = {"credentialId": issued["id"], "reason": "test", **body}
    request = {name: value for name, value in request.items() if value is not None}
    size = tree_size(services)

    refused = problem(
        client.post("/credentials/status", json=request, headers=issuer.headers),
        status,
    )

    if field is None:
        assert refused["detail"] == f"no credential {request['credentialId']!r}"
    else:
        assert set(refused["errors"]) == {field}
    assert tree_size(services) == size


def vc_api_change(
    client: FlaskClient, caller: Caller, credential_id: str, purpose: str, bit: bool
) -> TestResponse:
    """The VC-API UpdateCredentialStatusRequest shape."""
    return client.post(
        "/credentials/status",
        json={
            "credentialId": credential_id,
            "credentialStatus": {
                "type": "BitstringStatusList",
                "statusPurpose": purpose,
            },
            "status": bit,
        },
        headers=caller.headers,
    )


def test_the_vc_api_request_shape_sets_and_clears_bits(
    client: FlaskClient, services: Services, issuer: Caller, issued: dict[str, Any]
) -> None:
    credential = issued["credential"][RDFC]
    size = tree_size(services)

    suspended = vc_api_change(client, issuer, issued["id"], "suspension", True)
    assert suspended.get_json() == {"credentialId": issued["id"], "status": "suspended"}
    assert status_list(client, credential, "suspension")[1] is True
    reinstated = vc_api_change(client, issuer, issued["id"], "suspension", False)
    assert reinstated.get_json()["status"] == "active"
    assert status_list(client, credential, "suspension")[1] is False
    revoked = vc_api_change(client, issuer, issued["id"], "revocation", True)
    assert revoked.get_json()["status"] == "revoked"
    assert status_list(client, credential, "revocation")[1] is True

    entries = client.get(f"/log/entries?start={size}&end={size + 3}").get_json()
    reasons = [item["entry"]["reason"] for item in entries["entries"]]
    assert reasons == ["no reason given"] * 3
    refused = problem(
        vc_api_change(client, issuer, issued["id"], "revocation", False), 409
    )
    assert "revocation is final" in refused["detail"]
    # Three status changes, and the credit bank's withdrawal of the deposit.
    assert tree_size(services) == size + 4


def test_the_vc_api_shape_may_name_the_entry_it_means(
    client: FlaskClient, issuer: Caller, issued: dict[str, Any]
) -> None:
    entry = issued["credential"][RDFC]["credentialStatus"][1]
    request = {
        "credentialId": issued["id"],
        "credentialStatus": {**entry},
        "status": True,
        "reason": "test",
    }
    assert entry["statusPurpose"] == "suspension"

    answer = client.post("/credentials/status", json=request, headers=issuer.headers)

    assert answer.get_json()["status"] == "suspended"
    wrong = {**entry, "statusListIndex": str(int(entry["statusListIndex"]) + 1)}
    refused = problem(
        client.post(
            "/credentials/status",
            json={**request, "credentialStatus": wrong, "status": False},
            headers=issuer.headers,
        ),
        400,
    )
    assert set(refused["errors"]) == {"credentialStatus.statusListIndex"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"credentialStatus": {"type": "BitstringStatusList",
                               "statusPurpose": "revocation"}}, "status"),
        ({"credentialStatus": {"type": "BitstringStatusList",
                               "statusPurpose": "message"}, "status": True},
         "credentialStatus"),
        ({"credentialStatus": {"type": "StatusList2021",
                               "statusPurpose": "revocation"}, "status": True},
         "credentialStatus"),
        ({"credentialStatus": {"type": "BitstringStatusList",
                               "statusPurpose": "revocation"}, "status": "true"},
         "status"),
        ({"credentialStatus": {"type": "BitstringStatusList",
                               "statusPurpose": "revocation"}, "status": 1},
         "status"),
        ({"action": "revoke", "reason": "x", "status": True}, "status"),
        ({"reason": "x"}, "action"),
    ],
)  # fmt: skip
def test_a_bad_vc_api_status_request_is_refused(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    issued: dict[str, Any],
    body: dict[str, Any],
    field: str,
) -> None:
    size = tree_size(services)

    refused = problem(
        client.post(
            "/credentials/status",
            json={"credentialId": issued["id"], **body},
            headers=issuer.headers,
        ),
        400,
    )

    assert set(refused["errors"]) == {field}
    assert tree_size(services) == size


def test_a_list_is_signed_by_the_current_key_after_a_rotation(
    client: FlaskClient,
    issuer: Caller,
    issued: dict[str, Any],
    approved_achievement: str,
) -> None:
    rotated = client.post("/issuers/centre-1/keys", json={}, headers=issuer.headers)
    assert rotated.status_code == 201
    keys = issuer_keys(client, "centre-1")
    new_key = f"{DID}#{rotated.get_json()['id']}"

    later = award(client, issuer, award_request(approved_achievement))
    change(client, issuer, issued["id"], "suspend")

    # The credential signed by the retired key still verifies against the document.
    for form in FORMS:
        unsecured(form, issued["credential"][form], keys)
    assert later["credential"][RDFC]["proof"]["verificationMethod"] == new_key
    listed, bit = status_list(client, issued["credential"][RDFC], "suspension")
    assert bit is True
    assert listed.get_json()["proof"]["verificationMethod"] == new_key


def test_an_unknown_status_list_is_a_404(client: FlaskClient) -> None:
    found = problem(client.get("/status/centre-1-revocation-9"), 404)

    assert found["detail"] == "no status list 'centre-1-revocation-9'"


# Idempotency


def test_the_same_key_and_body_give_the_same_credential(
    client: FlaskClient, services: Services, issuer: Caller, approved_achievement: str
) -> None:
    body = award_request(approved_achievement, score=90, idempotencyKey="enrol-42")
    first = award(client, issuer, body)
    before = Footprint.of(services)

    # The same request, its members in another order.
    again = client.post(
        "/credentials/award",
        json=dict(reversed(list(body.items()))),
        headers=issuer.headers,
    )

    assert again.status_code == 200
    # Each answer carries a claim link of its own (the first may have been lost).
    answered = again.get_json()
    assert answered.pop("claimUrl") != first.pop("claimUrl")
    assert answered == first
    assert Footprint.of(services) == before


def test_the_same_key_with_another_body_is_a_conflict(
    client: FlaskClient, services: Services, issuer: Caller, approved_achievement: str
) -> None:
    award(client, issuer, award_request(approved_achievement, idempotencyKey="k-1"))
    before = Footprint.of(services)

    refused = problem(
        client.post(
            "/credentials/award",
            json=award_request(approved_achievement, score=50, idempotencyKey="k-1"),
            headers=issuer.headers,
        ),
        409,
    )

    assert refused["detail"] == ("idempotency key 'k-1' was used for a different award")
    assert Footprint.of(services) == before


def test_a_key_belongs_to_its_issuer(
    client: FlaskClient,
    issuer: Caller,
    other_issuer: Caller,
    approved_achievement: str,
    other_achievement: str,
) -> None:
    mine = award(
        client, issuer, award_request(approved_achievement, idempotencyKey="k-1")
    )
    theirs = award(
        client, other_issuer, award_request(other_achievement, idempotencyKey="k-1")
    )

    assert mine["id"] != theirs["id"]


def test_awards_without_a_key_are_distinct_credentials(
    client: FlaskClient, issuer: Caller, approved_achievement: str
) -> None:
    body = award_request(approved_achievement)

    first, second = (award(client, issuer, body) for _ in range(2))

    assert first["id"] != second["id"]
    assert first["logIndex"] != second["logIndex"]


# Bad input


@dataclass(frozen=True)
class Refusal:
    """One refused award. `body` is filled from fixtures; `caller` names the fixture
    whose token is sent; `match` is searched in the detail, or `fields` in errors."""

    body: Callable[[dict[str, str]], Any]
    status: int
    match: str = ""
    fields: tuple[str, ...] = ()
    caller: str | None = "issuer"
    needs: tuple[str, ...] = ()


def good(ids: dict[str, str], **overrides: Any) -> dict[str, Any]:
    return award_request(ids["approved_achievement"], **overrides)


NOT_JSON = b'{"achievement": "x", "learner": {'

REFUSALS: dict[str, Refusal] = {
    "unknown achievement": Refusal(
        lambda ids: award_request(str(uuid.UUID(int=7))),
        400,
        f"achievement: no achievement '{uuid.UUID(int=7)}'",
        ("achievement",),
    ),
    "another issuer's achievement": Refusal(
        lambda ids: award_request(ids["other_achievement"]),
        403,
        "achievement {other_achievement} belongs to another issuer",
        needs=("other_achievement",),
    ),
    "a retired achievement": Refusal(
        lambda ids: award_request(ids["retired_achievement"]),
        409,
        "achievement {retired_achievement} is retired",
        needs=("retired_achievement",),
    ),
    "a submitted achievement": Refusal(
        lambda ids: award_request(ids["submitted_achievement"]),
        409,
        "achievement {submitted_achievement} is submitted, not approved",
        needs=("submitted_achievement",),
    ),
    "a suspended issuer": Refusal(
        good, 403, "issuer centre-1 is suspended; it cannot issue", needs=("suspend",)
    ),
    "a learner with no identifier": Refusal(
        lambda ids: good(ids, learner={}),
        400,
        "expected a DID, or an e-mail address and a name",
        ("learner",),
    ),
    "a learner with only a name": Refusal(
        lambda ids: good(ids, learner={"name": LEARNER_NAME}),
        400,
        "expected a DID, or an e-mail address and a name",
        ("learner",),
    ),
    "a learner e-mail without a name": Refusal(
        lambda ids: good(ids, learner={"email": LEARNER_EMAIL}),
        400,
        "expected the learner's name",
        ("learner",),
    ),
    "a learner DID without did:": Refusal(
        lambda ids: good(ids, learner={"did": "key:z6Mk"}),
        400,
        "expected a DID starting with 'did:'",
        ("learner",),
    ),
    "a bad learner e-mail": Refusal(
        lambda ids: good(ids, learner={"email": "@", "name": "x"}),
        400,
        "Not a valid email address",
        ("learner",),
    ),
    "control characters in the learner name": Refusal(
        lambda ids: good(ids, learner={"email": LEARNER_EMAIL, "name": "王\x1b[2J"}),
        400,
        "control characters are not allowed",
        ("learner",),
    ),
    "control characters in evidence": Refusal(
        lambda ids: good(ids, evidence=[{"narrative": "built a \x07 rack"}]),
        400,
        "control characters are not allowed",
        ("evidence",),
    ),
    "evidence with a non-web URL": Refusal(
        lambda ids: good(ids, evidence=[{"id": "javascript:alert(1)"}]),
        400,
        "Not a valid URL",
        ("evidence",),
    ),
    "a score above 100": Refusal(
        lambda ids: good(ids, score=100.5),
        400,
        "less than or equal to 100",
        ("score",),
    ),
    "a negative score": Refusal(
        lambda ids: good(ids, score=-1), 400, "greater than or equal to 0", ("score",)
    ),
    "credits above the course's": Refusal(
        lambda ids: good(ids, creditsEarned=3.5),
        400,
        "creditsEarned: expected at most the 3 ECTS the course carries, got 3.5",
        ("creditsEarned",),
    ),
    "no credits": Refusal(
        lambda ids: good(ids, creditsEarned=0),
        400,
        "expected a number above 0",
        ("creditsEarned",),
    ),
    "an unknown format": Refusal(
        lambda ids: good(ids, formats=["Ed25519Signature2020"]),
        400,
        "Must be one of",
        ("formats",),
    ),
    "no formats": Refusal(
        lambda ids: good(ids, formats=[]), 400, "Length must be", ("formats",)
    ),
    "a bad awarded date": Refusal(
        lambda ids: good(ids, awardedDate="31/12/2026"),
        400,
        "Not a valid date",
        ("awardedDate",),
    ),
    "an unknown field": Refusal(
        lambda ids: good(ids, grade="A"), 400, "Unknown field", ("grade",)
    ),
    "an unknown learner field": Refusal(
        lambda ids: good(
            ids, learner={"email": LEARNER_EMAIL, "name": "x", "phone": "110"}
        ),
        400,
        "Unknown field",
        ("learner",),
    ),
    "malformed JSON": Refusal(lambda ids: NOT_JSON, 400, "", ("json",)),
    "a JSON list": Refusal(lambda ids: [good(ids)], 400, "", ("_schema",)),
    "no token": Refusal(
        good, 401, "expected an Authorization: Bearer token", caller=None
    ),
    "a reviewer's token": Refusal(
        good, 403, "expected a token with role issuer, got reviewer", caller="reviewer"
    ),
    "an admin's token": Refusal(
        good, 403, "expected a token with role issuer, got admin", caller="admin"
    ),
}


@pytest.fixture
def retired_achievement(
    client: FlaskClient, issuer: Caller, reviewers: list[Caller], admin: Caller
) -> str:
    achievement = submit(client, issuer, name={"en": "Old Course"})
    for reviewer in reviewers[:2]:
        client.post(
            f"/achievements/{achievement}/reviews",
            json={"decision": "approve"},
            headers=reviewer.headers,
        )
    answer = client.post(
        f"/achievements/{achievement}/retire",
        json={"reason": "outdated"},
        headers=admin.headers,
    )
    assert answer.status_code == 200
    return achievement


@pytest.mark.parametrize("name", REFUSALS)
def test_a_refused_award_leaves_nothing_behind(
    request: pytest.FixtureRequest,
    client: FlaskClient,
    services: Services,
    issued: dict[str, Any],
    approved_achievement: str,
    name: str,
) -> None:
    refusal = REFUSALS[name]
    ids = {"approved_achievement": approved_achievement}
    for needed in refusal.needs:
        if needed == "suspend":
            admin: Caller = request.getfixturevalue("admin")
            client.post(
                "/issuers/centre-1/suspend",
                json={"reason": "audit"},
                headers=admin.headers,
            )
        else:
            ids[needed] = request.getfixturevalue(needed)
    caller: Caller | None = (
        request.getfixturevalue(refusal.caller) if refusal.caller else None
    )
    body = refusal.body(ids)
    options: dict[str, Any] = {"headers": caller.headers if caller else {}}
    if isinstance(body, bytes):
        options.update(data=body, content_type="application/json")
    else:
        options["json"] = body
    # An award was issued first, so the status lists exist and hold indexes.
    before = Footprint.of(services)
    assert before.allocated == 2

    refused = problem(client.post("/credentials/award", **options), refusal.status)

    assert refusal.match.format(**ids) in refused["detail"]
    if refusal.fields:
        assert set(refused["errors"]) == set(refusal.fields)
    assert Footprint.of(services) == before


# Batches


GOOD, BAD_SCORE, TOO_MANY_CREDITS, UNKNOWN_ACHIEVEMENT, NO_LEARNER = range(5)
# Where the bad rows go, every fifty rows.
BAD_AT = {7: BAD_SCORE, 19: TOO_MANY_CREDITS, 31: UNKNOWN_ACHIEVEMENT, 43: NO_LEARNER}
EXPECTED_ERRORS = {
    BAD_SCORE: "score",
    TOO_MANY_CREDITS: "creditsEarned",
    UNKNOWN_ACHIEVEMENT: "achievement",
    NO_LEARNER: "learner.did",
}
CSV_HEADER = "achievement,learner_email,learner_name,score,credits_earned,formats,"
CSV_HEADER += "idempotency_key"


def row_kind(number: int) -> int:
    return BAD_AT.get(number % 50, GOOD)


def batch_rows(achievement: str, count: int) -> list[dict[str, Any]]:
    """`count` rows, bad ones interleaved; even rows carry an idempotency key."""
    rows = []
    for number in range(count):
        kind = row_kind(number)
        row: dict[str, Any] = {
            "achievement": achievement,
            "learner": {
                "email": f"learner.{number}@example.com",
                "name": f"学员{number}",
            },
            "score": number % 101,
            "formats": [RDFC if number % 100 == 0 else JWT],
        }
        if number % 2 == 0:
            row["idempotencyKey"] = f"class-7/{number}"
        if kind == BAD_SCORE:
            row["score"] = 150
        elif kind == TOO_MANY_CREDITS:
            row["creditsEarned"] = 9
        elif kind == UNKNOWN_ACHIEVEMENT:
            row["achievement"] = str(uuid.UUID(int=number))
        elif kind == NO_LEARNER:
            row["learner"] = {"name": f"学员{number}"}
        rows.append(row)
    return rows


def as_csv(rows: list[dict[str, Any]]) -> str:
    lines = [CSV_HEADER]
    for row in rows:
        learner = row["learner"]
        lines.append(
            ",".join(
                [
                    row["achievement"],
                    learner.get("email", ""),
                    learner["name"],
                    str(row["score"]),
                    str(row.get("creditsEarned", "")),
                    ";".join(row["formats"]),
                    row.get("idempotencyKey", ""),
                ]
            )
        )
    return "\n".join(lines) + "\n"


def post_batch(
    client: FlaskClient, issuer: Caller | None, rows: Any, transport: str
) -> TestResponse:
    headers = issuer.headers if issuer else {}
    if transport == "json":
        return client.post("/credentials/batch", json=rows, headers=headers)
    data = rows if isinstance(rows, bytes) else as_csv(rows).encode()
    if transport == "csv":
        return client.post(
            "/credentials/batch", data=data, content_type="text/csv", headers=headers
        )
    return client.post(
        "/credentials/batch",
        data={"file": (io.BytesIO(data), "class-7.csv")},
        content_type="multipart/form-data",
        headers=headers,
    )


TRANSPORTS = ["json", "csv", "multipart"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_batch_answers_every_row_in_order_and_issues_once(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    approved_achievement: str,
    transport: str,
) -> None:
    count = 2 * CHUNK_SIZE + 50
    rows = batch_rows(approved_achievement, count)
    good_rows = [n for n in range(count) if row_kind(n) == GOOD]
    schema_valid = [
        n for n in range(count) if row_kind(n) not in {BAD_SCORE, NO_LEARNER}
    ]
    size, checkpoints = tree_size(services), checkpoints_signed(services)

    answer = post_batch(client, issuer, rows, transport)

    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["issued"], body["existing"]) == (len(good_rows), 0)
    assert body["failed"] == count - len(good_rows)
    assert [r["row"] for r in body["rows"]] == list(range(count))
    for number, row in enumerate(body["rows"]):
        kind = row_kind(number)
        if kind == GOOD:
            assert row["status"] == "issued", row
            assert row["verificationUrl"] == f"{BASE}/v/{row['id']}"
        else:
            assert row["error"]["status"] == 400, row
            assert set(row["error"]["errors"]) == {EXPECTED_ERRORS[kind]}, row
    # One log append, so one checkpoint, per chunk of schema-valid rows: each
    # credential's entry, then the credit bank's deposit entry for each.
    assert tree_size(services) == size + 2 * len(good_rows)
    chunks = math.ceil(len(schema_valid) / CHUNK_SIZE)
    assert chunks == 3
    assert checkpoints_signed(services) == checkpoints + chunks
    issued_ids = [body["rows"][n]["id"] for n in good_rows]
    first, _ = log_entry(client, size)
    last, _ = log_entry(client, size + 2 * len(good_rows) - 1)
    assert (first["kind"], first["credential"]) == ("credential.issued", issued_ids[0])
    assert (last["kind"], last["credential"]) == ("credits.deposited", issued_ids[-1])
    assert len(set(issued_ids)) == len(issued_ids)

    again = post_batch(client, issuer, rows, transport).get_json()

    assert (again["issued"], again["existing"]) == (0, len(good_rows))
    assert [again["rows"][n]["id"] for n in good_rows] == issued_ids
    assert {again["rows"][n]["status"] for n in good_rows} == {"existing"}
    assert tree_size(services) == size + 2 * len(good_rows)
    assert checkpoints_signed(services) == checkpoints + chunks


def test_a_batch_credential_is_the_same_as_an_award(
    client: FlaskClient, issuer: Caller, approved_achievement: str
) -> None:
    rows = batch_rows(approved_achievement, 2)

    body = post_batch(client, issuer, rows, "csv").get_json()

    keys = issuer_keys(client, "centre-1")
    for row, answer in zip(rows, body["rows"], strict=True):
        (form,) = row["formats"]
        served = client.get(f"/credentials/{answer['id']}?format={form}")
        secured = served.get_data(as_text=True) if form == JWT else served.get_json()
        document = unsecured(form, secured, keys)
        check_open_badge(document, approved_achievement, score=row["score"])
        assert credential_digest(document) == answer["digest"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_batch_over_the_row_limit_is_refused(
    client: FlaskClient, services: Services, issuer: Caller, transport: str
) -> None:
    if transport == "json":
        rows: Any = [{}] * (MAX_ROWS + 1)
    else:
        rows = ("achievement\n" + "x\n" * (MAX_ROWS + 1)).encode()
    size = tree_size(services)

    refused = problem(post_batch(client, issuer, rows, transport), 400)

    assert refused["errors"] == {
        "rows": [f"expected at most {MAX_ROWS} rows, got {MAX_ROWS + 1}"]
    }
    assert tree_size(services) == size


@pytest.mark.parametrize("transport", ["csv", "multipart"])
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"achievement,learner_email,learner_phone\nx,a@b.cn,110\n",
            "expected a header with 'achievement' and only achievement, learner_did,"
            " learner_email, learner_name, score, credits_earned, awarded_date,"
            " evidence_url, formats, idempotency_key; got achievement, learner_email,"
            " learner_phone",
        ),
        (
            b"learner_email,learner_name\na@b.cn,x\n",
            "expected a header with 'achievement' and only",
        ),
        (
            "achievement,learner_email,learner_name\nx,a@b.cn,王芳\n".encode("gbk"),
            "expected UTF-8 text",
        ),
        (
            "achievement,learner_email,learner_name\nx,a@b.cn,王芳\n".encode("utf-16"),
            "expected UTF-8 text",
        ),
        (
            b"achievement,learner_email\nx,a@b.cn\ny,c@d.cn,extra\n",
            "line 3 has more fields than the header",
        ),
    ],
    ids=["unknown column", "no achievement", "gbk", "utf-16", "extra field"],
)
def test_a_bad_csv_is_refused_with_a_clear_error(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    transport: str,
    data: bytes,
    message: str,
) -> None:
    size = tree_size(services)

    refused = problem(post_batch(client, issuer, data, transport), 400)

    (error,) = refused["errors"]["csv"]
    assert error.startswith(message)
    assert tree_size(services) == size


def test_a_csv_with_a_byte_order_mark_is_accepted(
    client: FlaskClient, issuer: Caller, approved_achievement: str
) -> None:
    data = "\ufeff" + as_csv(batch_rows(approved_achievement, 1))

    answer = post_batch(client, issuer, data.encode(), "csv")

    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["issued"] == 1


@pytest.mark.parametrize(
    "data",
    [b'{"achievement": "x"}', b"[{", b"achievement\nx\n"],
    ids=["object", "malformed", "csv as json"],
)
def test_a_batch_body_that_is_not_a_list_is_refused(
    client: FlaskClient, issuer: Caller, data: bytes
) -> None:
    refused = problem(
        client.post(
            "/credentials/batch",
            data=data,
            content_type="application/json",
            headers=issuer.headers,
        ),
        400,
    )

    assert refused["errors"] == {
        "body": ["expected a JSON list of awards, CSV, or a CSV file upload"]
    }


def test_a_batch_row_that_is_not_an_object_is_answered_alone(
    client: FlaskClient, issuer: Caller, approved_achievement: str
) -> None:
    rows = [42, award_request(approved_achievement)]

    body = post_batch(client, issuer, rows, "json").get_json()

    assert body["rows"][0]["error"]["errors"] == {"row": ["expected a JSON object"]}
    assert body["rows"][1]["status"] == "issued"


def test_a_suspended_issuer_s_batch_is_refused_row_by_row(
    client: FlaskClient,
    services: Services,
    admin: Caller,
    issuer: Caller,
    approved_achievement: str,
) -> None:
    client.post(
        "/issuers/centre-1/suspend", json={"reason": "audit"}, headers=admin.headers
    )
    before = Footprint.of(services)

    body = post_batch(client, issuer, batch_rows(approved_achievement, 3), "json")

    answers = body.get_json()["rows"]
    assert [a["error"]["status"] for a in answers] == [403, 403, 403]
    assert {a["error"]["detail"] for a in answers} == {
        "issuer centre-1 is suspended; it cannot issue"
    }
    assert Footprint.of(services) == before


@pytest.mark.parametrize(
    ("caller", "status"), [(None, 401), ("reviewer", 403), ("admin", 403)]
)
def test_a_batch_needs_an_issuer_token(
    request: pytest.FixtureRequest,
    client: FlaskClient,
    services: Services,
    approved_achievement: str,
    caller: str | None,
    status: int,
) -> None:
    token = request.getfixturevalue(caller) if caller else None
    size = tree_size(services)

    problem(
        post_batch(client, token, batch_rows(approved_achievement, 2), "csv"), status
    )

    assert tree_size(services) == size


# QR codes


def decode_qr(image: Image.Image) -> str:
    barcode = zxingcpp.read_barcode(
        image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode, try_invert=False
    )
    assert barcode is not None, "zxing-cpp found no QR Code"
    return str(barcode.text)


def rasterise_svg(document: str, scale: int = 4) -> Image.Image:
    """Draw the one-module-high runs the SVG path holds, dark on white."""
    root = ET.fromstring(document)
    side = int(root.attrib["viewBox"].split()[2])
    path = root.find("{http://www.w3.org/2000/svg}path")
    assert path is not None
    image = Image.new("L", (side * scale, side * scale), 255)
    runs = re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", path.attrib["d"])
    assert runs
    for x, y, width in (map(int, run) for run in runs):
        box = (x * scale, y * scale, (x + width) * scale, (y + 1) * scale)
        image.paste(0, box)
    return image


@pytest.mark.parametrize("bare", [False, True], ids=["urn:uuid", "bare uuid"])
def test_the_qr_codes_encode_exactly_the_verification_url(
    client: FlaskClient, issued: dict[str, Any], bare: bool
) -> None:
    ref = issued["id"].removeprefix("urn:uuid:") if bare else issued["id"]
    url = issued["verificationUrl"]
    assert url == f"{BASE}/v/{issued['id']}"

    png = client.get(f"/credentials/{ref}/qr.png")
    svg = client.get(f"/credentials/{ref}/qr.svg")

    assert png.status_code == svg.status_code == 200
    assert png.mimetype == "image/png"
    assert svg.mimetype == "image/svg+xml"
    assert decode_qr(Image.open(io.BytesIO(png.data))) == url
    document = svg.get_data(as_text=True)
    assert decode_qr(rasterise_svg(document)) == url
    title = ET.fromstring(document).find("{http://www.w3.org/2000/svg}title")
    assert title is not None
    assert title.text == url


def test_the_qr_urls_in_an_award_answer_are_served(
    client: FlaskClient, issued: dict[str, Any]
) -> None:
    for kind in ("svg", "png"):
        answer = client.get(issued["qr"][kind].removeprefix(BASE))
        assert answer.status_code == 200
        assert answer.headers["Cache-Control"] == "public, max-age=86400"


# The audit replays credentials and their status changes


def test_the_audit_is_clean_after_awards_and_status_changes(
    cli: RunCLI,
    env: dict[str, str],
    client: FlaskClient,
    admin: Caller,
    issuer: Caller,
    issued: dict[str, Any],
    approved_achievement: str,
) -> None:
    other = award(client, issuer, award_request(approved_achievement))
    for caller, credential, action in [
        (issuer, issued, "suspend"),
        (admin, issued, "reinstate"),
        (issuer, other, "suspend"),
        (issuer, other, "revoke"),
    ]:
        assert change(client, caller, credential["id"], action).status_code == 200

    result = cli("log", "audit", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("audit clean: ")
    assert result.stdout.rstrip().endswith("tables match the log")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"status": "active"}, "status is 'active' in the table, 'revoked' in the log"),
        ({"digest": "uAAAA"}, "digest is 'uAAAA' in the table, '{digest}' in the log"),
        (
            {"suspension_index": -1},
            "suspension_index is -1 in the table, {index} in the log",
        ),
    ],
    ids=["status", "digest", "status index"],
)
def test_the_audit_names_a_credential_changed_behind_the_log(
    cli: RunCLI,
    env: dict[str, str],
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    issued: dict[str, Any],
    values: dict[str, Any],
    expected: str,
) -> None:
    assert change(client, issuer, issued["id"], "revoke").status_code == 200
    index = issued["credential"][RDFC]["credentialStatus"][1]["statusListIndex"]
    with services.database.engine.begin() as db:
        db.execute(
            update(IssuedCredential)
            .where(IssuedCredential.id == issued["id"])
            .values(**values)
        )

    result = cli("log", "audit", env=env)

    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith(f"audit failed: credential {issued['id']}: ")
    assert expected.format(digest=issued["digest"], index=index) in result.stdout
    assert "Traceback" not in result.stderr
