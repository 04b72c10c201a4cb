"""A learner with a did:key, three credentials, a credit transfer, and their wallet.

Another learner (known by e-mail and name) holds a credential of the same course, so
that a wallet can be searched for what must not be in it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask.testing import FlaskClient
from sqlalchemy import select

from api.services import Services
from issuers.learners import Learner
from keys.multikey import encode_multikey
from keys.signers import ED25519
from tests.api.conftest import cli, run_main
from tests.conftest import (
    LEARNER_EMAIL,
    SCHOOL_DID,
    Caller,
    award,
    award_request,
    make_token,
)

__all__ = ["cli", "run_main"]

ALL_FORMS = ["eddsa-rdfc-2022", "eddsa-jcs-2022", "vc+jwt"]
BASE = "http://credbank.test"


@dataclass(frozen=True)
class Holder:
    """The learner, their key, and what was issued to them (oldest first)."""

    caller: Caller
    did: str
    key: Ed25519PrivateKey
    credentials: list[dict[str, Any]]
    other: dict[str, Any]
    statement_id: str

    @property
    def id(self) -> str:
        assert self.caller.subject is not None
        return self.caller.subject

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


@pytest.fixture
def holder(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    approved_achievement: str,
    school: Caller,
) -> Holder:
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    did = "did:key:" + encode_multikey(ED25519, raw)
    given = [
        award(
            client,
            issuer,
            award_request(
                approved_achievement, learner={"did": did}, formats=ALL_FORMS
            ),
        ),
        award(
            client,
            issuer,
            award_request(approved_achievement, learner={"did": did}, score=91),
        ),
        award(
            client,
            issuer,
            award_request(
                approved_achievement, learner={"did": did}, formats=["vc+jwt"]
            ),
        ),
    ]
    other = award(client, issuer, award_request(approved_achievement))
    with services.database.transaction() as session:
        learner_id = session.scalar(select(Learner.id).where(Learner.did == did))
    assert learner_id is not None
    caller = make_token(services, "learner", learner_id)
    statement_id = transfer_credits(client, school, caller, approved_achievement)
    return Holder(caller, did, key, given, other, statement_id)


def transfer_credits(
    client: FlaskClient, school: Caller, learner: Caller, achievement: str
) -> str:
    """Publish school-1's rule set converting `achievement` into LOG-210, and
    commit the learner's transfer; the statement's id."""
    rules = {
        "format": "credit-rules/v1",
        "id": "beng-log",
        "school": SCHOOL_DID,
        "program": {"code": "BENG-LOG", "name": "BEng Logistics", "total_credits": 120},
        "target_unit": "SCH",
        "effective": {"from": "2025-01-01", "until": "2028-12-31"},
        "accepted_issuers": ["did:web:credbank.test:issuers:centre-1"],
        "conversion": {"ECTS": "1/2"},
        "rules": [
            {
                "id": "R1",
                "target": {"course": "LOG-210", "slot": "required"},
                "credits": 3,
                "all_of": [{"achievement": f"{BASE}/achievements/{achievement}"}],
            }
        ],
    }
    published = client.post(
        "/schools/school-1/rule-sets",
        data=json.dumps(rules),
        content_type="application/json",
        headers=school.headers,
    )
    assert published.status_code == 201, published.get_json()
    committed = client.post(
        "/transfers",
        json={
            "school": "school-1",
            "ruleSet": "beng-log",
            "learner": learner.subject,
            "on": "2026-12-01",
        },
        headers=learner.headers,
    )
    assert committed.status_code == 201, committed.get_json()
    statement_id: str = committed.get_json()["statement"]["id"]
    return statement_id


def fetch_wallet(client: FlaskClient, holder: Holder, *chosen: str) -> dict[str, Any]:
    query = "&".join(f"credential={c}" for c in chosen)
    answer = client.get(
        f"/learners/{holder.id}/wallet" + (f"?{query}" if query else ""),
        headers=holder.caller.headers,
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    wallet: dict[str, Any] = json.loads(answer.get_data())
    return wallet


@pytest.fixture
def wallet(client: FlaskClient, holder: Holder) -> dict[str, Any]:
    return fetch_wallet(client, holder)


OTHER_EMAIL = LEARNER_EMAIL
