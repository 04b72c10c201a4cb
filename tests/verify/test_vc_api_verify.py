"""POST /credentials/verify: every form, every status, each finding on its own line."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from api.routes.verification import VerificationResultSchema
from tests.conftest import Caller

RDFC, JCS, JWT = "eddsa-rdfc-2022", "eddsa-jcs-2022", "vc+jwt"
FORMS = [RDFC, JCS, JWT]


def sent(issued: dict[str, Any], form: str) -> Any:
    """The credential as a holder would send it: enveloped when it is a JWT."""
    secured = issued["credential"][form]
    if isinstance(secured, str):
        return {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": f"data:application/vc+jwt,{secured}",
            "type": "EnvelopedVerifiableCredential",
        }
    return secured


def verify(client: FlaskClient, credential: Any) -> dict[str, Any]:
    answer = client.post(
        "/credentials/verify", json={"verifiableCredential": credential}
    )
    assert answer.status_code == 200, answer.get_json()
    body: dict[str, Any] = answer.get_json()
    return body


def lines(body: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["check"]: (c["outcome"], c["code"]) for c in body["checks"]}


@pytest.mark.parametrize("form", FORMS)
def test_a_fresh_credential_passes_all_ten_steps(
    client: FlaskClient, issued: dict[str, Any], form: str
) -> None:
    body = verify(client, sent(issued, form))

    assert body["verified"] is True
    assert body["verdict"] == "valid"
    assert body["problemDetails"] == []
    assert [c["step"] for c in body["checks"]] == list(range(1, 11))
    assert lines(body) == {
        "format": (
            "passed",
            "format.vc-jwt" if form == JWT else "format.data-integrity",
        ),
        "method": ("passed", "method.resolved"),
        "signature": ("passed", "signature.valid"),
        "data-model": ("passed", "data-model.valid"),
        "validity": ("passed", "validity.current"),
        "status": ("passed", "status.active"),
        "issuer": ("passed", "issuer.accredited"),
        "achievement": ("passed", "achievement.active"),
        "key-state": ("passed", "key-state.good"),
        "log": ("passed", "log.included"),
    }
    log_line = next(c for c in body["checks"] if c["check"] == "log")
    assert log_line["message"]["en"].endswith(f"(entry {issued['logIndex']})")
    assert "透明日志" in log_line["message"]["zh"]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    ("action", "code"), [("revoke", "status.revoked"), ("suspend", "status.suspended")]
)
def test_revoked_and_suspended_are_different_failures(
    client: FlaskClient,
    issuer: Caller,
    issued: dict[str, Any],
    form: str,
    action: str,
    code: str,
) -> None:
    client.post(
        "/credentials/status",
        json={"credentialId": issued["id"], "action": action, "reason": "test"},
        headers=issuer.headers,
    )

    body = verify(client, sent(issued, form))

    assert body["verified"] is False
    assert body["verdict"] == "invalid"
    assert lines(body)["status"] == ("failed", code)
    assert lines(body)["signature"] == ("passed", "signature.valid")
    assert [p["type"].rsplit("/", 1)[1] for p in body["problemDetails"]] == [code]


@pytest.mark.parametrize("form", [RDFC, JCS])
def test_a_changed_value_breaks_the_signature_and_the_log(
    client: FlaskClient, issued: dict[str, Any], form: str
) -> None:
    credential = sent(issued, form)
    credential["credentialSubject"]["creditsEarned"] = 99

    body = verify(client, credential)

    assert body["verdict"] == "invalid"
    assert lines(body)["signature"] == ("failed", "signature.invalid")
    assert lines(body)["log"] == ("failed", "log.missing")
    # Without its log entry nothing dates the credential: validFrom is only
    # the credential's own word.
    assert lines(body)["issuer"] == ("cannot-check", "issuer.time-unknown")


def test_a_tampered_jwt_payload_fails(
    client: FlaskClient, issued: dict[str, Any]
) -> None:
    header, payload, signature = issued["credential"][JWT].split(".")
    tampered = f"{header}.{payload[:-4]}AAAA.{signature}"

    body = verify(client, tampered)

    assert body["verdict"] == "invalid"
    assert lines(body)["format"][0] in {"passed", "failed"}
    assert "passed" not in {lines(body).get("signature", ("failed",))[0]}


def test_a_retired_course_is_a_warning_not_a_failure(
    client: FlaskClient,
    admin: Caller,
    issued: dict[str, Any],
    approved_achievement: str,
) -> None:
    retired = client.post(
        f"/achievements/{approved_achievement}/retire",
        json={"reason": "programme closed"},
        headers=admin.headers,
    )
    assert retired.status_code == 200, retired.get_json()

    body = verify(client, sent(issued, RDFC))

    assert body["verified"] is True
    assert body["verdict"] == "valid-with-warnings"
    assert lines(body)["achievement"] == ("passed", "achievement.retired")
    assert body["warnings"] == ["achievement.retired"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"verifiableCredential": 5}, 400),
        ({"verifiableCredential": {}, "options": []}, 400),
        ([1, 2], 400),
    ],
)
def test_a_request_that_is_not_a_verification_request_is_a_problem(
    client: FlaskClient, body: Any, status: int
) -> None:
    answer = client.post("/credentials/verify", json=body)

    assert answer.status_code == status
    assert answer.mimetype == "application/problem+json"


def test_an_unsecured_credential_is_answered_not_refused(
    client: FlaskClient, issued: dict[str, Any]
) -> None:
    credential = dict(issued["credential"][RDFC])
    del credential["proof"]

    body = verify(client, credential)

    assert body["verdict"] == "invalid"
    assert body["checks"] == [
        {
            "step": 1,
            "check": "format",
            "outcome": "failed",
            "code": "format.unsecured",
            "message": {
                "zh": "凭证没有签名，无法验证",
                "en": "The credential carries no signature, so it cannot be verified",
            },
            "detail": "expected a proof, found none",
            "warning": False,
        }
    ]


@pytest.mark.parametrize("form", [RDFC, JWT])
@pytest.mark.parametrize("tampered", [False, True])
def test_the_answer_is_exactly_what_the_documented_schema_holds(
    client: FlaskClient, issued: dict[str, Any], form: str, tampered: bool
) -> None:
    # The route writes the result without a schema dump (api/routes/verification.py
    # `answer`): it must still be what VerificationResultSchema documents.
    credential = sent(issued, form)
    if tampered and form == RDFC:
        credential = {**credential, "name": "Forged"}
    elif tampered:
        credential = {**credential, "id": credential["id"][:-4] + "AAAA"}

    answer = client.post(
        "/credentials/verify", json={"verifiableCredential": credential}
    )
    body = answer.get_json()

    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    assert body["verified"] is not tampered
    schema = VerificationResultSchema()
    assert schema.validate(body) == {}
    assert schema.dump(body) == body
