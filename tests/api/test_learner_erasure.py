"""POST /learners/<id>/erasure and `credbank learner erase` (issue 8, point 5).

After an erasure the learner's name and e-mail address are nowhere in the database,
nor anything that would find them again; a `learner.erased` entry names only the
pseudonymous id; the log audits clean; the credentials still verify and name no one;
the credit balances stand; every way in to the learner's account is closed.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import inspect, select, text

from api.services import Services
from credits.transfers import check_consent
from issuers.erasure import ERASURE_REASONS
from issuers.errors import ForbiddenError
from issuers.issuance import IssuedCredential
from issuers.learners import Learner, learner_key_owner
from issuers.replay import replay_registry
from keys.store import DataKey
from ledger.audit import audit_log
from tests.api.conftest import RunCLI, assert_one_line_error
from tests.conftest import (
    LEARNER_EMAIL,
    LEARNER_NAME,
    Caller,
    award,
    award_request,
    logged,
    make_token,
    tree_size,
)

BASE = "http://credbank.test"
DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


@dataclass(frozen=True)
class Awarded:
    """A learner known by e-mail and name, with two credentials (one keyed, one by
    batch without a key), a claim link, a token and a consent code."""

    learner_id: str
    credential_ids: tuple[str, str]
    claim_path: str
    token: Caller
    consent_code: str


def learner_of(services: Services, credential_id: str) -> str:
    with services.database.transaction() as session:
        record = session.get(IssuedCredential, credential_id)
        assert record is not None and record.learner_id is not None
        return record.learner_id


def erase(
    client: FlaskClient, caller: Caller | None, learner_id: str, body: Any
) -> Any:
    headers = caller.headers if caller else {}
    return client.post(f"/learners/{learner_id}/erasure", json=body, headers=headers)


@pytest.fixture
def awarded(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    approved_achievement: str,
    school: Caller,
) -> Awarded:
    # The verification page shows names in full, so a name left anywhere shows.
    shown = client.put(
        "/issuers/centre-1/privacy",
        json={"learnerDisplay": "full"},
        headers=issuer.headers,
    )
    assert shown.status_code == 200
    first = award(
        client,
        issuer,
        award_request(
            approved_achievement,
            idempotencyKey="erasure-1",
            formats=["eddsa-rdfc-2022", "vc+jwt"],
        ),
    )
    batch = client.post(
        "/credentials/batch",
        json=[award_request(approved_achievement, score=75)],
        headers=issuer.headers,
    )
    assert batch.status_code == 200, batch.get_json()
    (row,) = batch.get_json()["rows"]
    second_id = row["id"]
    learner_id = learner_of(services, first["id"])
    assert learner_of(services, second_id) == learner_id
    token = make_token(services, "learner", learner_id)
    consent = client.post(
        f"/learners/{learner_id}/consent-codes",
        json={"school": "school-1"},
        headers=token.headers,
    )
    assert consent.status_code == 201, consent.get_json()
    return Awarded(
        learner_id,
        (first["id"], second_id),
        first["claimUrl"][len(BASE) :],
        token,
        consent.get_json()["code"],
    )


def _traces(services: Services, learner_id: str) -> dict[str, bytes]:
    """What would identify the learner, as stored before the erasure: each needle
    as bytes, searched for in every table and, on SQLite, in the files."""
    email = LEARNER_EMAIL.strip().lower()
    needles = {
        "name": LEARNER_NAME.encode(),
        # SQLite keeps JSON as text with non-ASCII escaped.
        "name, JSON-escaped": json.dumps(LEARNER_NAME).strip('"').encode(),
        "e-mail": LEARNER_EMAIL.encode(),
        "e-mail, lower case": email.encode(),
        "SHA-256 of the e-mail": hashlib.sha256(email.encode()).hexdigest().encode(),
    }
    with services.database.transaction() as session:
        learner = session.get(Learner, learner_id)
        key = session.get(DataKey, learner_key_owner(learner_id))
        assert learner is not None and key is not None
        assert learner.email_lookup and learner.sealed_profile
        needles["e-mail lookup HMAC"] = learner.email_lookup
        needles["sealed profile"] = learner.sealed_profile
        needles["sealed data key"] = key.sealed_key
        records = session.scalars(
            select(IssuedCredential).where(IssuedCredential.learner_id == learner_id)
        ).all()
        for record in records:
            # The digest of the award request hashes the name and address.
            assert record.request_digest is not None
            needles[f"request digest {record.id}"] = record.request_digest.encode()
    return needles


def _found_in_tables(services: Services, needles: dict[str, bytes]) -> list[str]:
    found = []
    with services.database.transaction() as session:
        tables = inspect(session.connection()).get_table_names()
        for table in tables:
            for row in session.execute(text(f'SELECT * FROM "{table}"')):
                for value in row:
                    blob = _as_bytes(value)
                    found += [
                        f"{what} in {table}"
                        for what, needle in needles.items()
                        if needle in blob
                    ]
    return found


def _as_bytes(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes | memoryview):
        return bytes(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False).encode()
    return str(value).encode()


def test_after_erasure_nothing_in_the_database_identifies_the_learner(
    client: FlaskClient,
    services: Services,
    admin: Caller,
    awarded: Awarded,
    backend: str,
    tmp_path: Path,
) -> None:
    needles = _traces(services, awarded.learner_id)
    assert {"name in learners", "name in data_keys"}.isdisjoint(
        _found_in_tables(services, needles)
    )
    before = set(_found_in_tables(services, needles))
    # The stored traces are where they should be before, so the search works.
    assert "e-mail lookup HMAC in learners" in before
    assert "sealed data key in data_keys" in before

    answer = erase(client, admin, awarded.learner_id, {"reason": "learner-request"})

    assert answer.status_code == 200, answer.get_json()
    assert _found_in_tables(services, needles) == []
    if backend == "sqlite":
        # Not even in the pages SQLite freed: they were zeroed and checkpointed.
        files = sorted(tmp_path.glob("credbank.sqlite3*"))
        assert files
        left = [
            f"{what} in {path.name}"
            for path in files
            for what, needle in needles.items()
            if needle in path.read_bytes()
        ]
        assert left == []


def test_the_erasure_is_logged_with_the_pseudonymous_id_only(
    client: FlaskClient, services: Services, admin: Caller, awarded: Awarded
) -> None:
    size = tree_size(services)

    answer = erase(client, admin, awarded.learner_id, {"reason": "consent-withdrawn"})

    (entry,) = logged(services, size)
    assert {k: v for k, v in entry.items() if k != "at"} == {
        "v": 1,
        "kind": "learner.erased",
        "learner": awarded.learner_id,
        "reason": "consent-withdrawn",
    }
    body = answer.get_json()
    assert body["logIndex"] == size
    assert body == {
        "learner": awarded.learner_id,
        "erased": True,
        "erasedAt": body["erasedAt"],
        "reason": "consent-withdrawn",
        "logIndex": size,
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["erasedAt"])
    with services.database.transaction() as session:
        assert audit_log(session, [services.log.verifier]).is_clean
        assert replay_registry(session) is None


def test_erasing_again_answers_the_first_erasure_and_writes_nothing(
    client: FlaskClient, services: Services, admin: Caller, awarded: Awarded
) -> None:
    first = erase(client, admin, awarded.learner_id, {"reason": "learner-request"})
    size = tree_size(services)

    again = erase(client, admin, awarded.learner_id, {"reason": "legal-obligation"})

    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert tree_size(services) == size


def test_the_credentials_still_verify_and_name_no_one(
    client: FlaskClient, services: Services, admin: Caller, awarded: Awarded
) -> None:
    first_id = awarded.credential_ids[0]
    page = client.get(f"/v/{first_id}?lang=en")
    assert LEARNER_NAME in page.get_data(as_text=True)
    credits_before = client.get(
        f"/learners/{awarded.learner_id}/credits", headers=admin.headers
    ).get_json()

    erase(client, admin, awarded.learner_id, {"reason": "learner-request"})

    for credential_id in awarded.credential_ids:
        page = client.get(f"/v/{credential_id}?lang=en")
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert LEARNER_NAME not in html
        assert LEARNER_EMAIL.lower() not in html.lower()
        assert 'class="verdict valid"' in html
        served = client.get(f"/credentials/{credential_id}")
        result = client.post(
            "/credentials/verify", json={"verifiableCredential": served.get_json()}
        ).get_json()
        assert result["verified"] is True, result
        assert result["verdict"] == "valid"
        codes = {check["code"] for check in result["checks"]}
        assert {"signature.valid", "log.included", "status.active"} <= codes
    jwt = client.get(f"/credentials/{first_id}?format=vc%2Bjwt").get_data(as_text=True)
    result = client.post(
        "/credentials/verify",
        json={
            "verifiableCredential": {
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "type": "EnvelopedVerifiableCredential",
                "id": f"data:application/vc+jwt,{jwt}",
            }
        },
    ).get_json()
    assert result["verified"] is True, result

    own_page = client.get(
        f"/learners/{awarded.learner_id}/page?lang=en", headers=admin.headers
    )
    assert own_page.status_code == 200
    assert LEARNER_NAME not in own_page.get_data(as_text=True)
    credits_after = client.get(
        f"/learners/{awarded.learner_id}/credits", headers=admin.headers
    ).get_json()
    # The deposits hold no personal data: the balances stand.
    assert credits_after == credits_before
    assert credits_after["balances"]


def test_every_way_in_to_the_account_is_closed(
    client: FlaskClient,
    services: Services,
    admin: Caller,
    school: Caller,
    awarded: Awarded,
) -> None:
    assert client.get(awarded.claim_path).status_code == 200

    erase(client, admin, awarded.learner_id, {"reason": "learner-request"})

    assert client.get(awarded.claim_path).status_code == 404
    assert client.get(f"{awarded.claim_path}/wallet").status_code == 404
    own = client.get(
        f"/learners/{awarded.learner_id}/credits", headers=awarded.token.headers
    )
    assert own.status_code == 401
    link = client.post(
        f"/learners/{awarded.learner_id}/claim-links", headers=admin.headers
    )
    assert link.status_code == 404
    assert "was erased" in link.get_json()["detail"]
    token = client.post(
        "/tokens",
        json={"role": "learner", "subject": awarded.learner_id},
        headers=admin.headers,
    )
    assert token.status_code == 404
    assert "was erased" in token.get_json()["detail"]
    with services.database.transaction() as session:
        with pytest.raises(ForbiddenError, match="consent code is not valid"):
            check_consent(
                session,
                awarded.consent_code,
                awarded.learner_id,
                "school-1",
                now=datetime.now(UTC),
                consume=False,
            )
        codes = session.execute(
            text("SELECT count(*) FROM consent_codes WHERE learner_id = :id"),
            {"id": awarded.learner_id},
        ).scalar_one()
        links = session.execute(
            text("SELECT count(*) FROM claim_links WHERE learner_id = :id"),
            {"id": awarded.learner_id},
        ).scalar_one()
    assert (codes, links) == (0, 0)


def test_erasure_drops_deposited_copies_and_pending_did_challenges(
    client: FlaskClient,
    services: Services,
    admin: Caller,
    awarded: Awarded,
) -> None:
    challenge = client.post(
        f"/learners/{awarded.learner_id}/did/challenge",
        headers=awarded.token.headers,
    )
    assert challenge.status_code == 201
    # A deposit from another platform keeps the credential it was verified as,
    # which names the learner: stand one in on the learner's deposit.
    copy = '{"credentialSubject": {"id": "did:key:z6MkLearnerFromElsewhere"}}'
    with services.database.transaction(write=True) as session:
        session.execute(
            text("UPDATE credit_deposits SET credential = :c WHERE learner_id = :id"),
            {"c": copy, "id": awarded.learner_id},
        )

    erase(client, admin, awarded.learner_id, {"reason": "learner-request"})

    with services.database.transaction() as session:
        kept = session.execute(
            text(
                "SELECT count(*) FROM credit_deposits "
                "WHERE learner_id = :id AND credential IS NOT NULL"
            ),
            {"id": awarded.learner_id},
        ).scalar_one()
        deposits = session.execute(
            text("SELECT count(*) FROM credit_deposits WHERE learner_id = :id"),
            {"id": awarded.learner_id},
        ).scalar_one()
        challenges = session.execute(
            text("SELECT count(*) FROM did_challenges WHERE learner_id = :id"),
            {"id": awarded.learner_id},
        ).scalar_one()
    assert (kept, challenges) == (0, 0)
    assert deposits > 0


def test_a_new_award_to_the_same_address_or_did_is_a_new_learner(
    client: FlaskClient,
    services: Services,
    admin: Caller,
    issuer: Caller,
    approved_achievement: str,
    awarded: Awarded,
) -> None:
    by_did = award(
        client, issuer, award_request(approved_achievement, learner={"did": DID})
    )
    did_learner = learner_of(services, by_did["id"])
    erase(client, admin, awarded.learner_id, {"reason": "learner-request"})
    erase(client, admin, did_learner, {"reason": "learner-request"})

    again = award(client, issuer, award_request(approved_achievement))
    again_did = award(
        client, issuer, award_request(approved_achievement, learner={"did": DID})
    )

    assert learner_of(services, again["id"]) not in {awarded.learner_id, did_learner}
    assert learner_of(services, again_did["id"]) not in {
        awarded.learner_id,
        did_learner,
    }
    with services.database.transaction() as session:
        assert audit_log(session, [services.log.verifier]).is_clean
        assert replay_registry(session) is None


def test_an_award_sent_again_under_its_key_after_erasure_is_a_conflict(
    client: FlaskClient,
    services: Services,
    admin: Caller,
    issuer: Caller,
    approved_achievement: str,
    awarded: Awarded,
) -> None:
    erase(client, admin, awarded.learner_id, {"reason": "learner-request"})
    size = tree_size(services)

    replayed = client.post(
        "/credentials/award",
        json=award_request(
            approved_achievement,
            idempotencyKey="erasure-1",
            formats=["eddsa-rdfc-2022", "vc+jwt"],
        ),
        headers=issuer.headers,
    )

    assert replayed.status_code == 409
    assert "learner was erased" in replayed.get_json()["detail"]
    assert tree_size(services) == size


@pytest.mark.parametrize("role", ["nobody", "issuer", "reviewer", "school", "learner"])
def test_only_an_admin_may_erase(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    reviewer: Caller,
    school: Caller,
    awarded: Awarded,
    role: str,
) -> None:
    caller = {
        "nobody": None,
        "issuer": issuer,
        "reviewer": reviewer,
        "school": school,
        # Not even the learner themselves: erasure is the committee's act.
        "learner": awarded.token,
    }[role]
    size = tree_size(services)

    answer = erase(client, caller, awarded.learner_id, {"reason": "learner-request"})

    assert answer.status_code == (401 if caller is None else 403)
    assert answer.mimetype == "application/problem+json"
    assert tree_size(services) == size
    with services.database.transaction() as session:
        learner = session.get(Learner, awarded.learner_id)
        assert learner is not None and learner.erased_at is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "reason"),
        ({"reason": "because"}, "reason"),
        ({"reason": None}, "reason"),
        ({"reason": 3}, "reason"),
        ({"reason": "learner-request", "note": "Wang asked by phone"}, "note"),
        ([], "_schema"),
    ],
)
def test_bad_input_is_a_400_problem_naming_the_field(
    client: FlaskClient,
    services: Services,
    admin: Caller,
    awarded: Awarded,
    body: Any,
    field: str,
) -> None:
    size = tree_size(services)

    answer = erase(client, admin, awarded.learner_id, body)

    assert answer.status_code == 400
    assert answer.mimetype == "application/problem+json"
    assert field in answer.get_json()["errors"]
    assert tree_size(services) == size


def test_a_body_that_is_not_json_is_a_400_problem(
    client: FlaskClient, admin: Caller, awarded: Awarded
) -> None:
    answer = client.post(
        f"/learners/{awarded.learner_id}/erasure",
        data="reason=learner-request",
        content_type="application/json",
        headers=admin.headers,
    )

    assert answer.status_code == 400
    assert answer.mimetype == "application/problem+json"


@pytest.mark.parametrize("learner_id", ["lrn_unknown", "x" * 300, "%E2%80%AE"])
def test_an_unknown_learner_is_a_404_problem(
    client: FlaskClient, services: Services, admin: Caller, learner_id: str
) -> None:
    size = tree_size(services)

    answer = erase(client, admin, learner_id, {"reason": "learner-request"})

    assert answer.status_code == 404
    assert answer.mimetype == "application/problem+json"
    assert tree_size(services) == size


def test_the_endpoint_is_in_the_openapi_document(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()

    operation = spec["paths"]["/learners/{learner_id}/erasure"]["post"]

    assert "200" in operation["responses"]
    schemas = spec["components"]["schemas"]
    request_schema = json.dumps(operation["requestBody"])
    assert "ErasureRequest" in request_schema
    assert schemas["ErasureRequest"]["properties"]["reason"]["enum"] == list(
        ERASURE_REASONS
    )


# The command line


def test_the_cli_erases_once_and_then_says_so(
    cli: RunCLI, env: dict[str, str], services: Services, awarded: Awarded
) -> None:
    first = cli(
        "learner", "erase", awarded.learner_id, "--reason", "learner-request", env=env
    )
    again = cli(
        "learner", "erase", awarded.learner_id, "--reason", "learner-request", env=env
    )
    audit = cli("log", "audit", env=env)

    assert first.returncode == 0, first.stderr
    assert re.fullmatch(
        rf"learner {awarded.learner_id} erased at \S+Z \(learner-request\), "
        r"log entry \d+\n",
        first.stdout,
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout.replace("erased", "was already erased", 1)
    assert audit.returncode == 0, audit.stdout
    assert "tables match the log" in audit.stdout
    with services.database.transaction() as session:
        learner = session.get(Learner, awarded.learner_id)
        assert learner is not None and learner.erased_at is not None
    token = cli(
        "token", "create", "--role", "learner", "--learner", awarded.learner_id, env=env
    )
    assert "was erased: no token binds to it" in assert_one_line_error(token)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("lrn_unknown", "--reason", "learner-request"), "no learner 'lrn_unknown'"),
        (("lrn_unknown", "--reason", "because"), "'because' is not one of"),
        (("lrn_unknown",), "Missing option '--reason'"),
    ],
)
def test_the_cli_answers_bad_input_with_one_line(
    cli: RunCLI,
    env: dict[str, str],
    services: Services,
    args: tuple[str, ...],
    message: str,
) -> None:
    size = tree_size(services)

    result = cli("learner", "erase", *args, env=env)

    assert message in assert_one_line_error(result)
    assert tree_size(services) == size
