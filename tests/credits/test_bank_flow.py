"""The credit bank end to end: award, deposit, rule set, consent, transfer, export."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from api.services import Services
from credentials import verify_proof
from credits.models import Deposit
from issuers.issuance import IssuedCredential
from tests.conftest import (
    SCHOOL_DID,
    Caller,
    award,
    award_request,
    make_token,
    tree_size,
)

BASE = "http://credbank.test"
ISSUER_DID = "did:web:credbank.test:issuers:centre-1"
ON = "2026-12-01"


def rules(achievement: str, **overrides: Any) -> str:
    """A rule set granting LOG-210 (3 SCH) for the test course, 2 SCH per ECTS."""
    body = {
        "format": "credit-rules/v1",
        "id": "beng-log",
        "school": SCHOOL_DID,
        "program": {"code": "BENG-LOG", "name": "BEng Logistics", "total_credits": 120},
        "target_unit": "SCH",
        "effective": {"from": "2025-01-01", "until": "2028-12-31"},
        "accepted_issuers": [ISSUER_DID],
        "conversion": {"ECTS": "1/2"},
        "rules": [
            {
                "id": "R1",
                "target": {"course": "LOG-210", "slot": "required"},
                "credits": 3,
                "all_of": [{"achievement": f"{BASE}/achievements/{achievement}"}],
            }
        ],
        **overrides,
    }
    import json

    return json.dumps(body)


def publish(client: FlaskClient, school: Caller, source: str) -> Any:
    return client.post(
        "/schools/school-1/rule-sets",
        data=source,
        content_type="application/json",
        headers=school.headers,
    )


def learner_of(services: Services, credential_id: str) -> Caller:
    with services.database.transaction() as session:
        record = session.get(IssuedCredential, credential_id)
        assert record is not None and record.learner_id is not None
        learner_id = record.learner_id
    return make_token(services, "learner", learner_id)


def deposits(services: Services) -> list[Deposit]:
    with services.database.transaction() as session:
        found = list(session.scalars(select(Deposit).order_by(Deposit.deposited_at)))
        for row in found:
            session.expunge(row)
        return found


@pytest.fixture
def awarded(
    client: FlaskClient, issuer: Caller, approved_achievement: str
) -> dict[str, Any]:
    return award(client, issuer, award_request(approved_achievement))


def test_an_award_deposits_its_credits_with_a_log_entry(
    client: FlaskClient, services: Services, awarded: dict[str, Any]
) -> None:
    (deposit,) = deposits(services)

    assert deposit.credential_id == awarded["id"]
    assert deposit.digest == awarded["digest"]
    assert (deposit.credits, deposit.unit, deposit.eqf_level) == ("3", "ECTS", 5)
    assert deposit.status == "available"
    entries = client.get(
        f"/log/entries?start={deposit.log_index}&end={deposit.log_index + 1}"
    ).get_json()["entries"]
    entry = entries[0]["entry"]
    assert entry["kind"] == "credits.deposited"
    assert entry["digest"] == awarded["digest"]
    assert entry["credits"] == "3" and entry["unit"] == "ECTS"
    assert deposit.log_index == awarded["logIndex"] + 1


def test_the_whole_flow_from_award_to_csv(
    client: FlaskClient,
    services: Services,
    school: Caller,
    awarded: dict[str, Any],
    approved_achievement: str,
) -> None:
    learner = learner_of(services, awarded["id"])
    learner_id = learner.subject
    published = publish(client, school, rules(approved_achievement))
    assert published.status_code == 201, published.get_json()
    assert published.get_json()["version"] == 1
    request = {
        "school": "school-1",
        "ruleSet": "beng-log",
        "learner": learner_id,
        "on": ON,
    }

    size = tree_size(services)
    shown = client.post("/transfers/preview", json=request, headers=learner.headers)
    assert shown.status_code == 200, shown.get_json()
    preview = shown.get_json()
    assert tree_size(services) == size
    assert preview["output"] == {
        "grants": [
            {
                "rule": "R1",
                "course": "LOG-210",
                "slot": "required",
                "credits": 3,
                "credentials": [awarded["id"]],
            }
        ],
        "total": 3,
        "refused": [],
    }
    assert preview["inputs"][0]["achievement"] == (
        f"{BASE}/achievements/{approved_achievement}"
    )

    # The learner gives the school a one-time code; the school commits.
    code = client.post(
        f"/learners/{learner_id}/consent-codes",
        json={"school": "school-1"},
        headers=learner.headers,
    ).get_json()["code"]
    committed = client.post(
        "/transfers",
        json={
            **request,
            "consentCode": code,
            "previewDigest": preview["previewDigest"],
        },
        headers=school.headers,
    )
    assert committed.status_code == 201, committed.get_json()
    transfer = committed.get_json()

    statement = transfer["statement"]
    assert statement["issuer"] == "did:web:credbank.test"
    subject = statement["credentialSubject"]
    assert subject["school"] == SCHOOL_DID
    assert subject["grants"] == [
        {
            "rule": "R1",
            "course": "LOG-210",
            "slot": "required",
            "credits": "3",
            "sources": [awarded["digest"]],
        }
    ]
    assert subject["id"].startswith("urn:credbank:learner:lr_")
    assert learner_id not in str(statement)
    document = client.get("/.well-known/did.json").get_json()
    keys = {
        m["id"]: m for m in document["verificationMethod"] if m["type"] == "Multikey"
    }
    from keys.multikey import decode_multikey

    verified = verify_proof(
        statement,
        lambda method: decode_multikey(keys[method]["publicKeyMultibase"]),
    )
    assert verified.cryptosuite == "eddsa-jcs-2022"
    checked = client.post(
        "/credentials/verify", json={"verifiableCredential": statement}
    ).get_json()
    assert checked["verified"] is True, checked

    (deposit,) = deposits(services)
    assert (deposit.status, deposit.transfer_id) == ("used", transfer["id"])
    again = client.post(
        "/transfers",
        json={**request, "consentCode": code},
        headers=school.headers,
    )
    assert again.status_code == 403  # the code is used up

    exported = client.get("/schools/school-1/transfers.csv", headers=school.headers)
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert rows == [
        {
            "learner_ref": subject["id"].rsplit(":", 1)[1],
            "course": "LOG-210",
            "slot": "required",
            "credits": "3",
            "unit": "SCH",
            "source_credentials": awarded["digest"],
            "statement_id": statement["id"],
            "date": transfer["committedAt"][:10],
            "source_withdrawn": "no",
        }
    ]
    listed = client.get(
        "/schools/school-1/transfers?perPage=10", headers=school.headers
    ).get_json()
    assert listed["total"] == 1
    assert listed["transfers"][0]["statementId"] == statement["id"]

    account = client.get(f"/learners/{learner_id}/credits", headers=learner.headers)
    body = account.get_json()
    assert body["balances"] == {
        "ECTS": {"available": "0", "used": "3", "withdrawn": "0"}
    }
    assert [t["id"] for t in body["transfers"]] == [transfer["id"]]


def test_a_revocation_after_a_transfer_withdraws_and_is_flagged(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    school: Caller,
    awarded: dict[str, Any],
    approved_achievement: str,
) -> None:
    learner = learner_of(services, awarded["id"])
    publish(client, school, rules(approved_achievement))
    request = {
        "school": "school-1",
        "ruleSet": "beng-log",
        "learner": learner.subject,
        "on": ON,
    }
    transfer = client.post("/transfers", json=request, headers=learner.headers)
    assert transfer.status_code == 201, transfer.get_json()
    statement = transfer.get_json()["statement"]

    client.post(
        "/credentials/status",
        json={"credentialId": awarded["id"], "action": "revoke", "reason": "fraud"},
        headers=issuer.headers,
    )

    (deposit,) = deposits(services)
    assert deposit.status == "withdrawn"
    assert deposit.transfer_id == transfer.get_json()["id"]
    exported = client.get("/schools/school-1/transfers.csv", headers=school.headers)
    (row,) = csv.DictReader(io.StringIO(exported.get_data(as_text=True)))
    assert row["source_withdrawn"] == "yes"
    # The statement stands: it still verifies.
    checked = client.post(
        "/credentials/verify", json={"verifiableCredential": statement}
    ).get_json()
    assert checked["verified"] is True
    account = client.get(
        f"/learners/{learner.subject}/credits", headers=learner.headers
    ).get_json()
    assert account["balances"]["ECTS"]["withdrawn"] == "3"


def test_a_second_commit_of_the_same_deposits_is_a_conflict(
    client: FlaskClient,
    services: Services,
    school: Caller,
    awarded: dict[str, Any],
    approved_achievement: str,
) -> None:
    learner = learner_of(services, awarded["id"])
    publish(client, school, rules(approved_achievement))
    request = {
        "school": "school-1",
        "ruleSet": "beng-log",
        "learner": learner.subject,
        "on": ON,
    }
    digest = client.post(
        "/transfers/preview", json=request, headers=learner.headers
    ).get_json()["previewDigest"]

    first = client.post(
        "/transfers", json={**request, "previewDigest": digest}, headers=learner.headers
    )
    size = tree_size(services)
    second = client.post(
        "/transfers", json={**request, "previewDigest": digest}, headers=learner.headers
    )

    assert first.status_code == 201
    assert second.status_code == 409
    assert tree_size(services) == size


def test_rule_set_versions_stay_addressable(
    client: FlaskClient, school: Caller, approved_achievement: str
) -> None:
    publish(client, school, rules(approved_achievement))
    second = publish(
        client,
        school,
        rules(approved_achievement, target_unit="ECTS", conversion={"ECTS": "1"}),
    )

    assert second.get_json()["version"] == 2
    latest = client.get("/schools/school-1/rule-sets/beng-log").get_json()
    first = client.get("/schools/school-1/rule-sets/beng-log/versions/1").get_json()
    assert latest["version"] == 2 and first["version"] == 1
    assert '"SCH"' in first["source"] and first["digest"] != latest["digest"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"school": "did:web:other.example"}, "school"),
        ({"rules": [{"id": "R1", "target": {"course": "X", "slot": "required"},
                     "credits": 3, "all_of": [{"achievement": "a"}],
                     "any_of": [{"achievement": "b"}]}]}, "rules[0]"),
        ({"conversion": {"ECTS": "half"}}, "conversion.ECTS"),
        ({"colour": "blue"}, "colour"),
        ({"id": "beng/log"}, "id"),
        ({"id": " beng-log"}, "id"),
    ],
)  # fmt: skip
def test_a_bad_rule_set_names_the_field(
    client: FlaskClient,
    services: Services,
    school: Caller,
    approved_achievement: str,
    change: dict[str, Any],
    field: str,
) -> None:
    size = tree_size(services)

    answer = publish(client, school, rules(approved_achievement, **change))

    assert answer.status_code == 400, answer.get_json()
    assert answer.get_json()["detail"].startswith(field)
    assert tree_size(services) == size


def test_a_school_without_consent_sees_nothing(
    client: FlaskClient,
    services: Services,
    school: Caller,
    awarded: dict[str, Any],
    approved_achievement: str,
) -> None:
    learner = learner_of(services, awarded["id"])
    publish(client, school, rules(approved_achievement))
    request = {"school": "school-1", "ruleSet": "beng-log", "learner": learner.subject}

    for path in ("/transfers/preview", "/transfers"):
        refused = client.post(path, json=request, headers=school.headers)
        forged = client.post(
            path, json={**request, "consentCode": "cc_forged"}, headers=school.headers
        )
        assert refused.status_code == forged.status_code == 403
    other = client.get(f"/learners/{learner.subject}/credits", headers=school.headers)
    assert other.status_code == 403
