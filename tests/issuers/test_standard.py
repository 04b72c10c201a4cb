"""The admission standard: what an application and an achievement must hold."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import pytest

from issuers.standard import (
    AchievementSchema,
    IssuerApplicationSchema,
    ReasonSchema,
    ReviewSchema,
    normalise_credits,
)
from tests.conftest import achievement_definition, application


def refused(schema: ma.Schema, body: Any) -> dict[str, Any]:
    """The schema's messages for a body it must refuse."""
    with pytest.raises(ma.ValidationError) as refusal:
        schema.load(body)
    messages: dict[str, Any] = refusal.value.messages  # type: ignore[assignment]
    return messages


def test_a_valid_achievement_loads_as_plain_data() -> None:
    loaded = AchievementSchema().load(
        achievement_definition(credits=1.5, learningHours=40)
    )

    assert loaded["credits"] == "1.5"
    assert loaded["nextReviewDate"] == "2099-06-30"
    assert loaded["eqfLevel"] == 5
    assert loaded["alignments"][0]["targetName"] == "Warehouse operations"


def test_validity_is_optional_and_stored_as_none() -> None:
    body = achievement_definition()
    del body["validityMonths"]

    assert AchievementSchema().load(body)["validityMonths"] is None


@pytest.mark.parametrize(
    ("given", "expected"),
    [(3, "3"), ("3.00", "3"), (2.5, "2.5"), ("0.25", "0.25"), (1000, "1000")],
)
def test_credits_become_exact_decimal_strings(given: Any, expected: str) -> None:
    assert normalise_credits(given) == expected


@pytest.mark.parametrize(
    ("credits", "message"),
    [
        (1.234, "at most two decimal places"),
        ("2.005", "at most two decimal places"),
        (0.1 + 0.2, "at most two decimal places"),
        (0, "above 0 and at most 1000"),
        (-3, "above 0 and at most 1000"),
        (1000.01, "above 0 and at most 1000"),
        ("NaN", "above 0 and at most 1000"),
        ("Infinity", "above 0 and at most 1000"),
        ("three", "expected a number"),
        (True, "expected a number"),
        (None, "Field may not be null"),
        ([3], "expected a number"),
    ],
)
def test_bad_credits_are_refused(credits: Any, message: str) -> None:
    messages = refused(AchievementSchema(), achievement_definition(credits=credits))

    assert list(messages) == ["credits"]
    assert message in messages["credits"][0]


@pytest.mark.parametrize(
    ("credits", "unit", "hours"),
    [
        (3, "ECTS", 5),  # 1.7 hours per credit
        (3, "ECTS", 37),  # 12.3: just under half of 25
        (3, "ECTS", 181),  # 60.3: just over twice 30
        (2, "SCH", 44),
        (10, "HOURS", 30),
        (4, "CN_XF", 150),
    ],
)
def test_hours_inconsistent_with_credits_are_refused(
    credits: int, unit: str, hours: int
) -> None:
    body = achievement_definition(credits=credits, unit=unit, learningHours=hours)

    messages = refused(AchievementSchema(), body)

    assert list(messages) == ["learningHours"]
    message = messages["learningHours"][0]
    assert message.startswith(f"{hours} hours for {credits} {unit} is ")
    assert "hours per credit; expected" in message


@pytest.mark.parametrize(
    ("credits", "unit", "hours"),
    [
        (3, "ECTS", 38),
        (3, "ECTS", 180),
        (2, "SCH", 90),
        (10, "HOURS", 10),
        (4, "CN_XF", 68),
        # No usual size in hours: anything goes.
        (3, "KR_ACBS", 1),
    ],
)
def test_hours_consistent_with_credits_are_accepted(
    credits: int, unit: str, hours: int
) -> None:
    body = achievement_definition(credits=credits, unit=unit, learningHours=hours)

    assert AchievementSchema().load(body)["learningHours"] == hours


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("eqfLevel", 9, "greater than or equal to 1 and less than or equal to 8"),
        ("eqfLevel", 0, "greater than or equal to 1 and less than or equal to 8"),
        ("eqfLevel", "5", "Not a valid integer"),
        ("eqfLevel", 5.5, "Not a valid integer"),
        ("learningHours", 0, "greater than or equal to 1"),
        ("learningHours", "80", "Not a valid integer"),
        ("validityMonths", 121, "less than or equal to 120"),
        ("unit", "credits", "Must be one of"),
        ("achievementType", "Diploma ", "Open Badges 3.0 AchievementType"),
        ("achievementType", "ext:", "Open Badges 3.0 AchievementType"),
        ("achievementType", 7, "Not a valid string"),
        ("nextReviewDate", "2099-02-30", "Not a valid date"),
        ("nextReviewDate", "next year", "Not a valid date"),
        ("fieldOfStudy", "   ", "expected text, got an empty string"),
        ("fieldOfStudy", "Logistics\x00", "control characters are not allowed"),
        ("fieldOfStudy", "x" * 201, "expected at most 200 characters, got 201"),
        ("alignments", [], "Length must be between 1 and 20"),
        ("alignments", "WMS", "Not a valid list"),
        ("name", {}, "expected 'zh', 'en' or both"),
        ("name", "Smart Warehouse Management", "Invalid input type"),
    ],
)
def test_bad_fields_are_named(field: str, value: Any, message: str) -> None:
    messages = refused(AchievementSchema(), achievement_definition(**{field: value}))

    assert list(messages) == [field]
    assert message in str(messages[field])


@pytest.mark.parametrize(
    "text",
    [
        "a\x01b",
        "bell\x07",
        "escape\x1b[31m",
        "delete\x7f",
        "form\x0cfeed",
        "c1 control \x85 next line",
        "\x0bleading vertical tab",
        "trailing unit separator\x1f",
    ],
)
def test_control_characters_are_refused_in_nested_text(text: str) -> None:
    messages = refused(
        AchievementSchema(), achievement_definition(description={"en": text})
    )

    assert messages == {"description": {"en": ["control characters are not allowed"]}}


def test_tab_newline_and_return_are_allowed() -> None:
    text = "Line one\r\n\tline two"

    loaded = AchievementSchema().load(achievement_definition(criteria={"en": text}))

    assert loaded["criteria"] == {"en": text}


def test_every_missing_field_is_named() -> None:
    messages = refused(AchievementSchema(), {})

    assert set(messages) == {
        "name",
        "description",
        "criteria",
        "achievementType",
        "credits",
        "unit",
        "eqfLevel",
        "fieldOfStudy",
        "learningHours",
        "alignments",
        "nextReviewDate",
    }


def test_unknown_fields_are_refused_at_every_level() -> None:
    body = achievement_definition(creditsAvailable=3)
    body["alignments"] = [{**body["alignments"][0], "weight": 1}]
    body["name"] = {"en": "Smart Warehouse Management", "fr": "Entrepôt"}

    messages = refused(AchievementSchema(), body)

    assert messages["creditsAvailable"] == ["Unknown field."]
    assert messages["alignments"] == {0: {"weight": ["Unknown field."]}}
    assert messages["name"] == {"fr": ["Unknown field."]}


@pytest.mark.parametrize("achievement_type", ["ext:Microcourse", "Certificate"])
def test_extension_and_standard_types_are_accepted(achievement_type: str) -> None:
    loaded = AchievementSchema().load(
        achievement_definition(achievementType=achievement_type)
    )

    assert loaded["achievementType"] == achievement_type


def test_a_valid_application_loads() -> None:
    loaded = IssuerApplicationSchema().load(application(7))

    assert loaded["slug"] == "centre-7"
    assert loaded["contact"]["email"] == "liaison.7@mail.example.com"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"slug": "Bad_Slug"}, "slug", "lower-case letters and digits"),
        ({"slug": "-centre"}, "slug", "lower-case letters and digits"),
        ({"slug": "centre--1"}, "slug", "lower-case letters and digits"),
        ({"slug": "centre-"}, "slug", "lower-case letters and digits"),
        ({"slug": "c"}, "slug", "Length must be between 2 and 64"),
        ({"legalId": "9111 0000"}, "legalId", "letters, digits and hyphens"),
        ({"legalId": "-911"}, "legalId", "letters, digits and hyphens"),
        ({"kind": "university"}, "kind", "Must be one of"),
        ({"website": "ftp://centre.example.cn"}, "website", "Not a valid URL"),
        ({"website": "javascript:alert(1)"}, "website", "Not a valid URL"),
        ({"contact": {"name": "Wang"}}, "contact", "Missing data"),
        ({"contact": {"email": "not-an-address"}}, "contact", "Not a valid email"),
        ({"name": {"en": "Cen\x0btre"}}, "name", "control characters"),
    ],
)
def test_bad_applications_name_the_field(
    overrides: dict[str, Any], field: str, message: str
) -> None:
    messages = refused(IssuerApplicationSchema(), application(7, **overrides))

    assert list(messages) == [field]
    assert message in str(messages[field])


def test_an_application_needs_name_legal_id_kind_and_contact() -> None:
    messages = refused(IssuerApplicationSchema(), {"website": "https://a.example"})

    assert set(messages) == {"name", "legalId", "kind", "contact"}


@pytest.mark.parametrize(
    ("schema", "body", "field"),
    [
        (ReviewSchema(), {"decision": "maybe"}, "decision"),
        (ReviewSchema(), {"decision": "approve", "comment": ""}, "comment"),
        (ReviewSchema(), {}, "decision"),
        (ReasonSchema(), {}, "reason"),
        (ReasonSchema(), {"reason": " \t "}, "reason"),
        (ReasonSchema(), {"reason": "outdated", "by": "me"}, "by"),
    ],
)
def test_votes_and_reasons_are_checked(
    schema: ma.Schema, body: dict[str, Any], field: str
) -> None:
    assert list(refused(schema, body)) == [field]
