"""The converter's input: normalised credentials, and Open Badges 3.0 ones
normalised as credit-rules.md "Input" says, including those credbank issues."""

from __future__ import annotations

import copy
import json
from datetime import date
from fractions import Fraction
from typing import Any

import pytest

from credentials.achievements import achievement_document
from credentials.ob3 import achievement_credential
from credits import CreditInputError, from_open_badge, load_credentials

# credbank's own result and ResultDescription, as issuance writes them.
from issuers.issuance import _result, _score_description

NORMALISED: dict[str, Any] = {
    "id": "c1",
    "achievement": "urn:a",
    "issuer": "did:web:issuer.example",
    "credits": 4,
    "unit": "ECTS",
    "eqf_level": 4,
    "issued": "2025-06-10",
    "expires": None,
    "revoked": False,
    "score": 82,
}
DEFINITION: dict[str, Any] = {
    "unit": "SCH",
    "eqfLevel": 5,
    "alignments": [],
    "achievementType": "Certificate",
    "name": {"en": "Forklift safety"},
    "description": {"en": "Operating a forklift safely."},
    "criteria": {"en": "Pass the practical test."},
    "credits": "2.5",
    "fieldOfStudy": "Logistics",
}
CREATOR = {"id": "did:web:issuer.example", "type": ["Profile"], "name": "Issuer"}


def credbank_credential(
    *,
    score: float | None = 80,
    credits_earned: float | None = None,
    awarded: str | None = "2026-02-03T10:00:00Z",
    valid_until: str | None = "2029-02-03T10:00:00Z",
) -> dict[str, Any]:
    """An unsigned OB 3.0 credential built the way credbank's issuance builds one."""
    achievement = achievement_document(
        "https://credbank.example/achievements/7",
        DEFINITION,
        creator=CREATOR,
        base_url="https://credbank.example",
    )
    if score is not None:
        achievement["resultDescription"] = [_score_description(achievement["id"])]
    return achievement_credential(
        credential_id="urn:uuid:0b9d6c1e-5b2f-4f57-9d1e-8f3a2c1d0e4b",
        issuer=CREATOR,
        achievement=achievement,
        valid_from="2026-02-04T08:00:00Z",
        valid_until=valid_until,
        learner_did="did:key:z6MkLearner",
        identity=None,
        credits_earned=credits_earned,
        result=_result(achievement["id"], score),
        awarded_date=awarded,
        evidence=None,
        status=[],
    )


def test_normalised_list_reads_exact_fields() -> None:
    (read,) = load_credentials(json.dumps([{**NORMALISED, "credits": 1.45}]))

    assert read.credits == Fraction(29, 20)
    assert read.issued == date(2025, 6, 10)
    assert read.score == 82
    assert read.expires is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("issued", "2025-02-30", "expected a date YYYY-MM-DD, got '2025-02-30'"),
        ("expires", "soon", "expected a date YYYY-MM-DD, got 'soon'"),
        ("eqf_level", 9, "expected an integer 1-8, got 9"),
        ("eqf_level", "4", "expected an integer 1-8, got '4'"),
        ("score", 100.5, "expected a number 0-100, got 100.5"),
        ("credits", -1, "expected a number of at least 0, got -1"),
        ("revoked", "no", "expected true or false, got 'no'"),
        ("id", "", "expected a non-empty string, got ''"),
        ("colour", "red", "unknown field"),
        ("score", ..., "missing field"),
    ],
)
def test_bad_normalised_credential_names_the_field(
    field: str, value: Any, message: str
) -> None:
    entry = {**NORMALISED, field: value}
    if value is ...:
        del entry[field]

    with pytest.raises(CreditInputError) as raised:
        load_credentials(json.dumps([NORMALISED, entry]))

    assert str(raised.value) == f"credentials[1].{field}: {message}"


def test_credentials_must_be_a_list() -> None:
    with pytest.raises(CreditInputError, match=r"^credentials: expected a list"):
        load_credentials('{"id": "c1"}')
    with pytest.raises(CreditInputError, match=r"^not JSON"):
        load_credentials("[{")
    with pytest.raises(CreditInputError, match=r"^credentials\[0\]: expected an"):
        load_credentials("[3]")


def test_credbank_issued_credential_normalises() -> None:
    read = from_open_badge(credbank_credential(), False)

    assert read.id == "urn:uuid:0b9d6c1e-5b2f-4f57-9d1e-8f3a2c1d0e4b"
    assert read.achievement == "https://credbank.example/achievements/7"
    assert read.issuer == "did:web:issuer.example"
    assert read.credits == Fraction(5, 2)  # creditsAvailable
    assert read.unit == "SCH"
    assert read.eqf_level == 5
    assert read.issued == date(2026, 2, 3)  # awardedDate, not validFrom
    assert read.expires == date(2029, 2, 3)
    assert read.revoked is False
    assert read.score == 80


def test_credits_earned_wins_over_credits_available() -> None:
    read = from_open_badge(credbank_credential(credits_earned=1.5), True)

    assert read.credits == Fraction(3, 2)
    assert read.revoked is True


def test_without_awarded_date_issued_is_valid_from_date_part() -> None:
    read = from_open_badge(credbank_credential(awarded=None, valid_until=None), False)

    assert read.issued == date(2026, 2, 4)
    assert read.expires is None


def test_no_result_is_a_pass_fail_credential() -> None:
    assert from_open_badge(credbank_credential(score=None), False).score is None


def test_score_is_scaled_by_value_min_and_max() -> None:
    credential = credbank_credential(score=3.5)
    description = credential["credentialSubject"]["achievement"]["resultDescription"][0]
    description["valueMin"], description["valueMax"] = "1", "5"

    assert from_open_badge(credential, False).score == Fraction(125, 2)


def test_score_without_a_description_is_taken_as_written() -> None:
    credential = credbank_credential(score=71.5)
    del credential["credentialSubject"]["achievement"]["resultDescription"]

    assert from_open_badge(credential, False).score == Fraction(143, 2)


def test_issuer_may_be_a_string_and_subject_a_list_of_one() -> None:
    credential = credbank_credential()
    credential["issuer"] = "did:web:other.example"
    credential["credentialSubject"] = [credential["credentialSubject"]]

    read = from_open_badge(credential, False)

    assert read.issuer == "did:web:other.example"
    assert read.unit == "SCH"


def test_list_detects_open_badges_and_normalised_credentials_by_shape() -> None:
    read = load_credentials(json.dumps([NORMALISED, credbank_credential()]))

    assert [c.unit for c in read] == ["ECTS", "SCH"]
    assert read[1].revoked is False  # no status outcome in the list


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            lambda c: c["credentialSubject"]["achievement"].update(alignment=[]),
            "credentials[0].credentialSubject.achievement.alignment",
            "expected an alignment with targetFramework 'credit-unit'",
        ),
        (
            lambda c: c["credentialSubject"]["achievement"]["alignment"][1].update(
                targetCode="level five"
            ),
            "credentials[0].credentialSubject.achievement.alignment[1].targetCode",
            "expected an integer 1-8, got 'level five'",
        ),
        (
            lambda c: c.update(awardedDate="yesterday"),
            "credentials[0].awardedDate",
            "expected a date-time YYYY-MM-DDThh:mm:ssZ, got 'yesterday'",
        ),
        (
            lambda c: c["credentialSubject"]["result"][0].update(value="A+"),
            "credentials[0].credentialSubject.result[0].value",
            "expected a number, got 'A+'",
        ),
        (
            lambda c: c["credentialSubject"]["result"][0].update(value="101"),
            "credentials[0].credentialSubject.result[0].value",
            "expected a number 0-100, got '101'",
        ),
        (
            lambda c: c["credentialSubject"]["achievement"].pop("creditsAvailable"),
            "credentials[0].credentialSubject.achievement.creditsAvailable",
            "expected a number of at least 0, got null",
        ),
        (
            lambda c: c.pop("issuer"),
            "credentials[0].issuer",
            "expected a non-empty string, got null",
        ),
    ],
)
def test_bad_open_badge_names_the_field(change: Any, field: str, message: str) -> None:
    credential = copy.deepcopy(credbank_credential())
    change(credential)

    with pytest.raises(CreditInputError) as raised:
        load_credentials(json.dumps([credential]))

    assert (raised.value.field, raised.value.message) == (field, message)
