"""A credential's status reaches its deposit: suspended stays available but the
converter refuses it as revoked; revoked is withdrawn and no longer offered."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from api.services import Services
from tests.conftest import Caller, award, award_request, logged, tree_size
from tests.credits.test_bank_flow import ON, deposits, learner_of, publish, rules


@pytest.fixture
def deposited(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    school: Caller,
    approved_achievement: str,
) -> tuple[Caller, dict[str, Any]]:
    awarded = award(client, issuer, award_request(approved_achievement))
    assert publish(client, school, rules(approved_achievement)).status_code == 201
    return learner_of(services, awarded["id"]), awarded


def set_status(
    client: FlaskClient, issuer: Caller, credential: str, action: str
) -> None:
    answer = client.post(
        "/credentials/status",
        json={"credentialId": credential, "action": action, "reason": "checking"},
        headers=issuer.headers,
    )
    assert answer.status_code == 200, answer.get_json()


def preview(client: FlaskClient, learner: Caller) -> dict[str, Any]:
    answer = client.post(
        "/transfers/preview",
        json={"school": "school-1", "ruleSet": "beng-log", "learner": learner.subject,
              "on": ON},
        headers=learner.headers,
    )  # fmt: skip
    assert answer.status_code == 200, answer.get_json()
    body: dict[str, Any] = answer.get_json()
    return body


def test_a_suspended_deposit_stays_but_is_refused_as_revoked(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    deposited: tuple[Caller, dict[str, Any]],
) -> None:
    learner, awarded = deposited
    size = tree_size(services)

    set_status(client, issuer, awarded["id"], "suspend")

    (deposit,) = deposits(services)
    assert deposit.status == "available"
    assert [e["kind"] for e in logged(services, size)] == ["status.changed"]
    shown = preview(client, learner)
    assert shown["inputs"][0]["revoked"] is True
    assert shown["output"] == {
        "grants": [],
        "total": 0,
        "refused": [{"index": 0, "credential": awarded["id"], "reason": "revoked"}],
    }
    refused = client.post(
        "/transfers",
        json={"school": "school-1", "ruleSet": "beng-log", "learner": learner.subject},
        headers=learner.headers,
    )
    assert refused.status_code == 409

    # Reinstated, it counts again.
    set_status(client, issuer, awarded["id"], "reinstate")
    assert preview(client, learner)["output"]["total"] == 3


def test_a_revoked_deposit_is_withdrawn_and_leaves_the_previews(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    deposited: tuple[Caller, dict[str, Any]],
) -> None:
    learner, awarded = deposited
    assert preview(client, learner)["output"]["total"] == 3
    size = tree_size(services)

    set_status(client, issuer, awarded["id"], "revoke")

    (deposit,) = deposits(services)
    assert deposit.status == "withdrawn"
    assert deposit.withdrawn_at is not None
    changed, withdrawn = logged(services, size)
    assert changed["kind"] == "status.changed"
    assert withdrawn["kind"] == "credits.withdrawn"
    assert withdrawn["deposit"] == deposit.id
    assert withdrawn["digest"] == awarded["digest"]
    assert withdrawn["transfer"] is None
    shown = preview(client, learner)
    assert shown["inputs"] == []
    assert shown["output"] == {"grants": [], "total": 0, "refused": []}
    account = client.get(
        f"/learners/{learner.subject}/credits", headers=learner.headers
    ).get_json()
    assert account["balances"] == {
        "ECTS": {"available": "0", "used": "0", "withdrawn": "3"}
    }


def test_a_suspended_then_revoked_deposit_is_withdrawn_once(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    deposited: tuple[Caller, dict[str, Any]],
) -> None:
    _, awarded = deposited
    size = tree_size(services)

    set_status(client, issuer, awarded["id"], "suspend")
    set_status(client, issuer, awarded["id"], "revoke")

    kinds = [e["kind"] for e in logged(services, size)]
    assert kinds == ["status.changed", "status.changed", "credits.withdrawn"]
    (deposit,) = deposits(services)
    assert deposit.status == "withdrawn"
