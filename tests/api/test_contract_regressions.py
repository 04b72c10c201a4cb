"""What fuzzing the contract found (tests/api/test_fuzz_contract.py), one test per
behaviour, on both databases."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_a_rule_set_version_beyond_32_bits_is_a_404_problem_not_a_500(
    client: FlaskClient,
) -> None:
    # The version column is a 32-bit integer; SQLite and PostgreSQL both failed
    # in the driver on 2**63 and more.
    for version in (2**31, 2**63, 10**22):
        answer = client.get(f"/schools/partner/rule-sets/demo/versions/{version}")

        assert answer.status_code == 404, version
        assert answer.mimetype == "application/problem+json"


def test_a_problem_without_a_type_of_its_own_is_titled_with_the_status_phrase(
    client: FlaskClient,
) -> None:
    # RFC 9457 §4.2.1: about:blank problems had `"title": null`.
    answer = client.post("/credentials/verify", json={"options": {}})

    assert answer.status_code == 400
    assert answer.get_json()["type"] == "about:blank"
    assert answer.get_json()["title"] == "Bad Request"


def test_a_presentation_request_in_both_forms_at_once_is_a_400_problem(
    client: FlaskClient,
) -> None:
    # The proofless `presentation` was ignored, whatever it held, beside a
    # `verifiablePresentation`.
    answer = client.post(
        "/presentations/verify",
        json={"verifiablePresentation": {}, "presentation": [None]},
    )

    assert answer.status_code == 400
    assert answer.mimetype == "application/problem+json"
    assert "not both" in answer.get_json()["detail"]
