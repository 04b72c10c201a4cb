"""Deposits from other platforms are verified again at every preview and commit
(credits/sources.py): revoked at home, the deposit is withdrawn and logged;
suspended, the converter sees it as revoked; a status list that cannot be read holds
the deposit back, never counting it as "not revoked".

The platform is a did:key issuer whose status lists are served at
https://platform.example/status/...; `urllib.request.urlopen` is replaced by a fake
that serves them (as tests/verify/test_security.py does), so nothing leaves the
machine and the lists can change between requests.
"""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from api.app import create_app
from api.config import Config
from api.services import Services, open_services
from credentials import add_proof
from credentials.status_list import Bitstring, status_list_credential, status_list_entry
from credits.models import Deposit
from credits.sources import Source, check_source, unchecked
from tests.conftest import SCHOOL_DID, Caller, logged, tree_size
from tests.credits.test_bank_deposits import (
    JCS,
    PLATFORM_ACHIEVEMENT,
    Platform,
    deposit,
    new_platform,
)
from tests.credits.test_bank_flow import ON, publish
from verify import resolver

HOST = "platform.example"
REVOCATIONS = f"https://{HOST}/status/revocation-1"
SUSPENSIONS = f"https://{HOST}/status/suspension-1"
OTHER_REVOCATIONS = f"https://{HOST}/status/revocation-2"
SECOND_ACHIEVEMENT = "https://platform.example/achievements/ml-201"


@dataclass
class Served:
    """What the platform serves: its status lists, as they stand right now."""

    platform: Platform
    bits: dict[str, Bitstring] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)
    asked: list[str] = field(default_factory=list)

    def set(self, url: str, index: int, value: bool = True) -> None:
        self.bits.setdefault(url, Bitstring()).set(index, value)

    def urlopen(self, request: urllib.request.Request, timeout: float) -> Any:
        url = request.full_url
        self.asked.append(url)
        if url in self.down or not url.startswith(f"https://{HOST}/status/"):
            raise urllib.error.URLError("timed out")
        purpose = "suspension" if "suspension" in url else "revocation"
        unsigned = status_list_credential(
            url,
            issuer=self.platform.did,
            status_purpose=purpose,
            bitstring=self.bits.setdefault(url, Bitstring()),
        )
        multikey = self.platform.did.removeprefix("did:key:")
        signed = add_proof(
            unsigned,
            self.platform.signer,
            cryptosuite=JCS,
            verification_method=f"{self.platform.did}#{multikey}",
            created="2026-03-01T00:00:00Z",
        )
        return io.BytesIO(json.dumps(signed).encode())


@pytest.fixture
def platform() -> Platform:
    return new_platform()


@pytest.fixture
def served(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> Served:
    found = Served(platform)
    monkeypatch.setattr(resolver, "open_url", found.urlopen)
    return found


@pytest.fixture
def bank(migrated: Config, platform: Platform) -> Iterator[FlaskClient]:
    """A client of an app that trusts `platform` and may read its host's lists."""
    opened = open_services(replace(migrated, trusted_platforms=(platform.did, HOST)))
    app = create_app(opened.config, services=opened)
    app.config["TESTING"] = True
    yield app.test_client()
    opened.close()


def statused(
    platform: Platform,
    index: int,
    *,
    revocations: str = REVOCATIONS,
    achievement_id: str = PLATFORM_ACHIEVEMENT,
) -> dict[str, Any]:
    """A platform credential with a revocation and a suspension entry at `index`."""
    return platform.credential(
        cryptosuite=JCS,
        achievement_id=achievement_id,
        status=[
            status_list_entry(revocations, index, status_purpose="revocation"),
            status_list_entry(SUSPENSIONS, index, status_purpose="suspension"),
        ],
    )


def platform_rules(platform: Platform) -> str:
    """3 ECTS of ML-101 for the platform's first course, 2 of ML-201 for its
    second."""
    return json.dumps(
        {
            "format": "credit-rules/v1",
            "id": "beng-log",
            "school": SCHOOL_DID,
            "program": {"code": "MSC-ML", "name": "MSc ML", "total_credits": 90},
            "target_unit": "ECTS",
            "effective": {"from": "2025-01-01", "until": "2028-12-31"},
            "accepted_issuers": [platform.did],
            "conversion": {"ECTS": "1"},
            "rules": [
                {
                    "id": "R1",
                    "target": {"course": "ML-101", "slot": "required"},
                    "credits": 3,
                    "all_of": [{"achievement": PLATFORM_ACHIEVEMENT}],
                },
                {
                    "id": "R2",
                    "target": {"course": "ML-201", "slot": "required"},
                    "credits": 2,
                    "all_of": [{"achievement": SECOND_ACHIEVEMENT}],
                },
            ],
        }
    )


def transfer(
    client: FlaskClient, learner: Caller, path: str = "/transfers/preview", **more: Any
) -> Any:
    body = {"school": "school-1", "ruleSet": "beng-log", "learner": learner.subject}
    return client.post(path, json={**body, "on": ON, **more}, headers=learner.headers)


def shown(client: FlaskClient, learner: Caller) -> dict[str, Any]:
    answer = transfer(client, learner)
    assert answer.status_code == 200, answer.get_json()
    body: dict[str, Any] = answer.get_json()
    return body


def stored(services: Services, deposit_id: str) -> Deposit:
    with services.database.transaction() as session:
        found = session.get(Deposit, deposit_id)
        assert found is not None
        session.expunge(found)
        return found


@pytest.fixture
def banked(
    bank: FlaskClient,
    served: Served,
    platform: Platform,
    learner: Caller,
    school: Caller,
) -> dict[str, Any]:
    """A platform credential whose lists are clear, deposited; the rules published."""
    made = deposit(bank, learner, statused(platform, 7))
    assert made.status_code == 201, made.get_json()
    assert publish(bank, school, platform_rules(platform)).status_code == 201
    body: dict[str, Any] = made.get_json()
    return body


def test_a_deposit_keeps_the_credential_it_verified(
    services: Services, banked: dict[str, Any], served: Served
) -> None:
    kept = stored(services, banked["id"])

    assert kept.credential is not None
    assert kept.credential["id"] == banked["credential"]
    assert kept.credential["credentialStatus"][0]["statusListCredential"] == (
        REVOCATIONS
    )
    # The deposit read both lists of the platform, and found them clear.
    assert set(served.asked) == {REVOCATIONS, SUSPENSIONS}


def test_an_active_deposit_is_checked_again_and_counts(
    bank: FlaskClient, learner: Caller, banked: dict[str, Any], served: Served
) -> None:
    served.asked.clear()

    body = shown(bank, learner)

    assert set(served.asked) == {REVOCATIONS, SUSPENSIONS}
    assert body["output"]["total"] == 3
    assert body["inputs"][0]["revoked"] is False
    (check,) = body["sourceChecks"]
    assert check["credential"] == banked["credential"]
    assert check["digest"] == banked["digest"]
    assert (check["status"], check["usable"], check["code"]) == (
        "active",
        True,
        "status.active",
    )


def test_a_credential_revoked_at_home_after_its_deposit_is_withdrawn_and_logged(
    bank: FlaskClient,
    services: Services,
    learner: Caller,
    banked: dict[str, Any],
    served: Served,
) -> None:
    assert shown(bank, learner)["output"]["total"] == 3
    served.set(REVOCATIONS, 7)
    size = tree_size(services)

    body = shown(bank, learner)

    (check,) = body["sourceChecks"]
    assert (check["status"], check["usable"], check["code"]) == (
        "revoked",
        False,
        "status.revoked",
    )
    assert "withdrawn" in check["message"]["en"]
    assert body["inputs"] == []
    assert body["output"] == {"grants": [], "total": 0, "refused": []}
    (entry,) = logged(services, size)
    assert entry["kind"] == "credits.withdrawn"
    assert entry["deposit"] == banked["id"]
    assert entry["credential"] == banked["credential"]
    assert entry["digest"] == banked["digest"]
    assert entry["transfer"] is None
    kept = stored(services, banked["id"])
    assert kept.status == "withdrawn" and kept.withdrawn_at is not None
    account = bank.get(
        f"/learners/{learner.subject}/credits", headers=learner.headers
    ).get_json()
    assert account["balances"] == {
        "ECTS": {"available": "0", "used": "0", "withdrawn": "3"}
    }

    # Withdrawn once: the commit finds nothing left to check or to use.
    size = tree_size(services)
    refused = transfer(bank, learner, "/transfers")
    assert refused.status_code == 409, refused.get_json()
    assert tree_size(services) == size


def test_a_credential_suspended_at_home_is_refused_as_revoked_until_reinstated(
    bank: FlaskClient,
    services: Services,
    learner: Caller,
    banked: dict[str, Any],
    served: Served,
) -> None:
    served.set(SUSPENSIONS, 7)
    size = tree_size(services)

    body = shown(bank, learner)

    (check,) = body["sourceChecks"]
    assert (check["status"], check["usable"]) == ("suspended", False)
    assert check["code"] == "status.suspended"
    assert body["inputs"][0]["revoked"] is True
    assert body["output"]["refused"] == [
        {"index": 0, "credential": banked["credential"], "reason": "revoked"}
    ]
    assert body["output"]["total"] == 0
    committed = transfer(bank, learner, "/transfers")
    assert committed.status_code == 409, committed.get_json()
    assert tree_size(services) == size
    assert stored(services, banked["id"]).status == "available"

    served.set(SUSPENSIONS, 7, False)
    assert shown(bank, learner)["output"]["total"] == 3


def test_a_status_that_cannot_be_read_holds_the_deposit_back_from_the_commit(
    bank: FlaskClient,
    services: Services,
    platform: Platform,
    learner: Caller,
    banked: dict[str, Any],
    served: Served,
) -> None:
    # A second credential whose revocation list will not answer.
    second = statused(
        platform, 9, revocations=OTHER_REVOCATIONS, achievement_id=SECOND_ACHIEVEMENT
    )
    made = deposit(bank, learner, second)
    assert made.status_code == 201, made.get_json()
    served.down.add(OTHER_REVOCATIONS)
    size = tree_size(services)

    body = shown(bank, learner)

    checks = {c["credential"]: c for c in body["sourceChecks"]}
    assert checks[banked["credential"]]["status"] == "active"
    held = checks[second["id"]]
    assert (held["status"], held["usable"], held["code"]) == (
        "cannot-check",
        False,
        "status.unreadable",
    )
    assert OTHER_REVOCATIONS in held["detail"]
    assert "not counted" in held["message"]["en"]
    assert [i["id"] for i in body["inputs"]] == [banked["credential"]]
    assert [g["course"] for g in body["output"]["grants"]] == ["ML-101"]
    assert tree_size(services) == size

    committed = transfer(
        bank, learner, "/transfers", previewDigest=body["previewDigest"]
    )

    assert committed.status_code == 201, committed.get_json()
    subject = committed.get_json()["statement"]["credentialSubject"]
    assert [g["course"] for g in subject["grants"]] == ["ML-101"]
    assert subject["grants"][0]["sources"] == [banked["digest"]]
    assert made.get_json()["digest"] not in json.dumps(subject)
    assert stored(services, banked["id"]).status == "used"
    assert stored(services, made.get_json()["id"]).status == "available"
    # The service's own key is made at its first statement; nothing is withdrawn.
    kinds = [e["kind"] for e in logged(services, size)]
    assert [k for k in kinds if k != "key.added"] == ["transfer.committed"]

    # Readable again, it counts; a commit against the preview that held it back
    # is refused, since what the learner saw has changed.
    stale = shown(bank, learner)["previewDigest"]
    served.down.clear()
    again = shown(bank, learner)
    assert [g["course"] for g in again["output"]["grants"]] == ["ML-201"]
    refused = transfer(bank, learner, "/transfers", previewDigest=stale)
    assert refused.status_code == 409
    assert "preview again" in refused.get_json()["detail"]


def test_a_platform_off_the_allow_list_is_never_asked(
    migrated: Config,
    platform: Platform,
    served: Served,
    learner: Caller,
    school: Caller,
) -> None:
    # Trusted by its DID, but its host is on no list: the deposit verifies (its
    # status cannot be read) and a transfer then holds it back.
    opened = open_services(replace(migrated, trusted_platforms=(platform.did,)))
    app = create_app(opened.config, services=opened)
    client = app.test_client()
    try:
        made = deposit(client, learner, statused(platform, 3))
        assert made.status_code == 201, made.get_json()
        assert publish(client, school, platform_rules(platform)).status_code == 201

        body = shown(client, learner)

        (check,) = body["sourceChecks"]
        assert (check["status"], check["code"]) == (
            "cannot-check",
            "status.not-allowed",
        )
        assert body["inputs"] == []
        assert served.asked == []
    finally:
        opened.close()


def test_a_deposit_with_no_copy_of_its_credential_cannot_be_checked() -> None:
    source = Source("dep_1", "urn:uuid:1", "uEi-digest", None)

    check = check_source(source, None)

    assert (check.state, check.code, check.is_given) == (
        "cannot-check",
        "deposit.no-copy",
        False,
    )


def test_an_external_deposit_no_check_covered_is_held_back(
    services: Services, banked: dict[str, Any], learner: Caller
) -> None:
    from credits.schools import get_school, published_rule_set
    from credits.transfers import evaluate_for

    with services.database.transaction() as session:
        school = get_school(session, "school-1")
        published = published_rule_set(session, "school-1", "beng-log")
        evaluated = evaluate_for(
            session,
            services.bank,
            school,
            published,
            str(learner.subject),
            date.fromisoformat(ON),
        )
        (row,) = session.scalars(select(Deposit)).all()
        expected = unchecked(row)

    assert evaluated.inputs == ()
    assert evaluated.sources == (expected,)
    assert evaluated.to_json()["sourceChecks"][0]["code"] == "deposit.unchecked"
