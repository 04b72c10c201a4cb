"""Verification's caches never answer for a state that has changed.

verify/local.py keeps DID documents, verified checkpoints and inclusion proofs per
process, each filed under everything its answer depends on; status bits, the
issuer's history and the course are read on every verification. Each test here
fills the caches with one verification, changes the state behind them, and checks
that the very next verification sees the change.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from api.services import Services
from issuers.did import multikey_method_id
from ledger.checkpoints import open_checkpoint
from tests.conftest import Caller, award, award_request, tree_size
from tests.verify.test_security import (
    ISSUER_DID,
    active_key,
    report_compromise,
    signer_of,
)
from tests.verify.test_vc_api_verify import FORMS, JWT, RDFC, lines, sent, verify
from verify import local


def change_status(
    client: FlaskClient, issuer: Caller, credential_id: str, action: str
) -> None:
    answer = client.post(
        "/credentials/status",
        json={"credentialId": credential_id, "action": action, "reason": "test"},
        headers=issuer.headers,
    )
    assert answer.status_code == 200, answer.get_json()


def log_detail(body: dict[str, Any]) -> str:
    found: str = next(c["detail"] for c in body["checks"] if c["check"] == "log")
    return found


def latest_checkpoint(client: FlaskClient, services: Services) -> tuple[int, bytes]:
    answer = client.get("/log/checkpoint")
    checkpoint = open_checkpoint(answer.get_data(as_text=True), services.log.verifier)
    return checkpoint.size, checkpoint.root_hash


@pytest.mark.parametrize("form", FORMS)
def test_a_revocation_after_a_cached_verification_is_seen_at_once(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    issued: dict[str, Any],
    form: str,
) -> None:
    first = verify(client, sent(issued, form))
    size, root = latest_checkpoint(client, services)
    assert first["verdict"] == "valid"
    assert local._PROOFS.get((issued["logIndex"], size, root))

    change_status(client, issuer, issued["id"], "revoke")
    second = verify(client, sent(issued, form))

    assert second["verdict"] == "invalid"
    assert lines(second)["status"] == ("failed", "status.revoked")


def test_a_suspension_and_a_reinstatement_are_each_seen_at_once(
    client: FlaskClient, issuer: Caller, issued: dict[str, Any]
) -> None:
    outcomes = []
    for action in (None, "suspend", "reinstate"):
        if action is not None:
            change_status(client, issuer, issued["id"], action)
        body = verify(client, sent(issued, JWT))
        outcomes.append((body["verdict"], lines(body)["status"][1]))

    assert outcomes == [
        ("valid", "status.active"),
        ("invalid", "status.suspended"),
        ("valid", "status.active"),
    ]


@pytest.mark.parametrize("form", [RDFC, JWT])
def test_a_new_checkpoint_gets_a_proof_under_it(
    client: FlaskClient,
    services: Services,
    issuer: Caller,
    issued: dict[str, Any],
    approved_achievement: str,
    form: str,
) -> None:
    first = verify(client, sent(issued, form))
    before = tree_size(services)

    award(client, issuer, award_request(approved_achievement))
    after, root = latest_checkpoint(client, services)
    second = verify(client, sent(issued, form))

    assert after > before
    index = issued["logIndex"]
    assert log_detail(first) == f"entry {index} under a checkpoint of {before} entries"
    assert log_detail(second) == f"entry {index} under a checkpoint of {after} entries"
    assert lines(second)["log"] == ("passed", "log.included")
    assert local._PROOFS.get((index, after, root))


def test_a_cached_proof_is_checked_against_the_root_every_time(
    client: FlaskClient, services: Services, issued: dict[str, Any]
) -> None:
    verify(client, sent(issued, JWT))
    size, root = latest_checkpoint(client, services)
    key = (issued["logIndex"], size, root)
    proof = local._PROOFS.get(key)
    assert proof

    # A wrong proof filed under the right key must not make a passing line.
    local._PROOFS.put(key, (bytes(32),) * len(proof))
    body = verify(client, sent(issued, JWT))

    assert lines(body)["log"] == ("failed", "log.missing")
    assert "inclusion proof failed" in log_detail(body)


def test_a_key_compromise_after_a_cached_verification_is_seen_at_once(
    client: FlaskClient, services: Services, issued: dict[str, Any]
) -> None:
    before = verify(client, sent(issued, JWT))
    key = active_key(services, "centre-1")

    reported = datetime.now(UTC) - timedelta(days=1)
    report_compromise(services, "centre-1", key.id, reported)
    after = verify(client, sent(issued, JWT))

    assert lines(before)["key-state"] == ("passed", "key-state.good")
    assert lines(after)["key-state"] == ("failed", "key-state.compromised-before")
    assert after["verdict"] == "invalid"


def test_an_issuer_suspended_after_a_cached_verification_is_seen_at_once(
    client: FlaskClient, admin: Caller, issued: dict[str, Any]
) -> None:
    before = verify(client, sent(issued, JWT))

    answer = client.post(
        "/issuers/centre-1/suspend", json={"reason": "audit"}, headers=admin.headers
    )
    assert answer.status_code == 200, answer.get_json()
    after = verify(client, sent(issued, JWT))

    assert lines(before)["issuer"] == ("passed", "issuer.accredited")
    assert lines(after)["issuer"] == ("passed", "issuer.accredited-now-suspended")
    assert after["verdict"] == "valid-with-warnings"


# The vc+jwt payload's own hash stands for the digest only when it is the digest.


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_vc_jwt_whose_payload_is_not_canonical_is_found_by_its_digest(
    client: FlaskClient, services: Services, issued: dict[str, Any]
) -> None:
    # The same credential, signed by the issuer's own key, its members in reverse
    # order and spaced: the payload bytes are not the RFC 8785 form.
    signer, key_id = signer_of(services, "centre-1")
    header = {
        "alg": "EdDSA",
        "typ": "vc+jwt",
        "cty": "vc",
        "kid": multikey_method_id(ISSUER_DID, key_id),
    }
    credential = dict(reversed(list(issued["credential"][RDFC].items())))
    del credential["proof"]
    payload = json.dumps(credential, indent=1, ensure_ascii=False).encode()
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(payload)}"
    token = f"{signing_input}.{b64(signer.sign(signing_input.encode()))}"

    body = verify(client, token)

    assert lines(body)["signature"] == ("passed", "signature.valid")
    assert lines(body)["log"] == ("passed", "log.included")
    assert body["verdict"] == "valid"
