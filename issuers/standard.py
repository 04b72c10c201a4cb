"""The published admission standard: what an application and an achievement must hold.

The schemas parse API input into plain dictionaries (the shape stored and logged); a
missing or inconsistent field is reported by name. `docs/admission-standard.md` is the
human-readable form of this module.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

import marshmallow as ma

from credentials.units import EQF_LEVELS, UNITS

__all__ = [
    "ACHIEVEMENT_TYPES",
    "ISSUER_KINDS",
    "AchievementSchema",
    "IssuerApplicationSchema",
    "ReasonSchema",
    "ReviewSchema",
    "normalise_credits",
]

ISSUER_KINDS = ("school", "enterprise", "training_centre")

# Open Badges 3.0 §B.1.2 AchievementType; extensions start with "ext:".
ACHIEVEMENT_TYPES = frozenset(
    [
        "Achievement",
        "ApprenticeshipCertificate",
        "Assessment",
        "Assignment",
        "AssociateDegree",
        "Award",
        "Badge",
        "BachelorDegree",
        "Certificate",
        "CertificateOfCompletion",
        "Certification",
        "CommunityService",
        "Competency",
        "Course",
        "CoCurricular",
        "Degree",
        "Diploma",
        "DoctoralDegree",
        "Fieldwork",
        "GeneralEducationDevelopment",
        "JourneymanCertificate",
        "LearningProgram",
        "License",
        "Membership",
        "ProfessionalDoctorate",
        "QualityAssuranceCredential",
        "MasterCertificate",
        "MasterDegree",
        "MicroCredential",
        "ResearchDoctorate",
        "SecondarySchoolDiploma",
    ]
)

# A credit is at most this far from its unit's usual size in learning hours before the
# submission is called inconsistent: half the smallest to twice the largest usual size.
_HOURS_TOLERANCE = (Decimal("0.5"), Decimal(2))

# DESIGN §4: JSON-LD canonicalisers disagree on other control characters.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SLUG = re.compile(r"^[a-z0-9](?:-?[a-z0-9])*$")
_LEGAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")


class CleanString(ma.fields.String):
    """A string stripped of outer spaces, non-empty, bounded, free of control codes."""

    def __init__(self, *, max_length: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        text = str(super()._deserialize(value, attr, data, **kw))
        # Checked before stripping: strip() would quietly drop some of them.
        if _CONTROL.search(text):
            raise ma.ValidationError("control characters are not allowed")
        text = text.strip()
        if not text:
            raise ma.ValidationError("expected text, got an empty string")
        if len(text) > self.max_length:
            raise ma.ValidationError(
                f"expected at most {self.max_length} characters, got {len(text)}"
            )
        return text


class _Bilingual(ma.Schema):
    """Text in Chinese, English or both; at least one."""

    class Meta:
        unknown = ma.RAISE

    zh = CleanString(max_length=4000)
    en = CleanString(max_length=4000)

    @ma.validates_schema
    def _one_language(self, data: dict[str, str], **_: Any) -> None:
        if not data:
            raise ma.ValidationError("expected 'zh', 'en' or both")


class _Name(_Bilingual):
    zh = CleanString(max_length=200)
    en = CleanString(max_length=200)


class _Contact(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    name = CleanString(max_length=100)
    email = ma.fields.Email(required=True)
    phone = CleanString(max_length=32)


class IssuerApplicationSchema(ma.Schema):
    """An organisation's application to become an issuer."""

    class Meta:
        unknown = ma.RAISE

    name = ma.fields.Nested(_Name, required=True)
    legalId = CleanString(max_length=64, required=True)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(ISSUER_KINDS))
    website = ma.fields.URL(
        schemes={"http", "https"}, validate=ma.validate.Length(max=500)
    )
    contact = ma.fields.Nested(_Contact, required=True)
    slug = ma.fields.String(validate=ma.validate.Length(min=2, max=64))

    @ma.validates("legalId")
    def _legal_id(self, value: str, **_: Any) -> None:
        if not _LEGAL_ID.match(value):
            raise ma.ValidationError("expected letters, digits and hyphens")

    @ma.validates("slug")
    def _slug(self, value: str, **_: Any) -> None:
        if not _SLUG.match(value):
            raise ma.ValidationError(
                "expected lower-case letters and digits, single hyphens between"
            )


class _Alignment(ma.Schema):
    """An OB 3.0 Alignment to a competency or framework (§B.1.3)."""

    class Meta:
        unknown = ma.RAISE

    targetName = CleanString(max_length=200, required=True)
    targetUrl = ma.fields.URL(
        schemes={"http", "https"}, required=True, validate=ma.validate.Length(max=500)
    )
    targetCode = CleanString(max_length=100)
    targetFramework = CleanString(max_length=200)
    targetDescription = CleanString(max_length=500)
    targetType = ma.fields.String(
        validate=ma.validate.OneOf(
            [
                "ceasn:Competency",
                "ceterms:Credential",
                "CFItem",
                "CFRubric",
                "CFRubricCriterion",
                "CFRubricCriterionLevel",
                "CTDL",
            ]
        )
    )


def normalise_credits(value: Any) -> str:
    """Credits as an exact decimal string ("3", "1.5"); refuses floats' noise."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ma.ValidationError("expected a number") from exc
    if not number.is_finite() or number <= 0 or number > 1000:
        raise ma.ValidationError("expected a number above 0 and at most 1000")
    if number != number.quantize(Decimal("0.01")):
        raise ma.ValidationError("expected at most two decimal places")
    text = format(number.normalize(), "f")
    return text


class _Credits(ma.fields.Field):  # type: ignore[type-arg]
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ma.ValidationError("expected a number")
        return normalise_credits(value)


class AchievementSchema(ma.Schema):
    """A course or micro-credential submitted against the admission standard."""

    class Meta:
        unknown = ma.RAISE

    name = ma.fields.Nested(_Name, required=True)
    description = ma.fields.Nested(_Bilingual, required=True)
    criteria = ma.fields.Nested(_Bilingual, required=True)
    achievementType = ma.fields.String(required=True)
    credits = _Credits(required=True)
    unit = ma.fields.String(required=True, validate=ma.validate.OneOf(sorted(UNITS)))
    eqfLevel = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(EQF_LEVELS.start, 8)
    )
    fieldOfStudy = CleanString(max_length=200, required=True)
    learningHours = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(1, 10000)
    )
    alignments = ma.fields.List(
        ma.fields.Nested(_Alignment),
        required=True,
        # With the field limits above, 20 alignments keep a definition well under
        # the log's 64 KiB entry limit.
        validate=ma.validate.Length(min=1, max=20),
    )
    validityMonths = ma.fields.Integer(
        strict=True, validate=ma.validate.Range(1, 120), allow_none=True
    )
    nextReviewDate = ma.fields.Date(required=True)

    @ma.validates("achievementType")
    def _type(self, value: str, **_: Any) -> None:
        if value not in ACHIEVEMENT_TYPES and not re.fullmatch(r"ext:[A-Za-z]+", value):
            raise ma.ValidationError(
                "expected an Open Badges 3.0 AchievementType or 'ext:Name'"
            )

    @ma.validates_schema
    def _hours_match_credits(self, data: dict[str, Any], **_: Any) -> None:
        unit = UNITS.get(data.get("unit", ""))
        if unit is None or unit.hours_per_credit is None:
            return
        if "credits" not in data or "learningHours" not in data:
            return
        per_credit = Decimal(data["learningHours"]) / Decimal(data["credits"])
        low, high = unit.hours_per_credit
        if not low * _HOURS_TOLERANCE[0] <= per_credit <= high * _HOURS_TOLERANCE[1]:
            raise ma.ValidationError(
                f"{data['learningHours']} hours for {data['credits']} {unit.code} is "
                f"{per_credit:.1f} hours per credit; expected "
                f"{low * _HOURS_TOLERANCE[0]:g} to {high * _HOURS_TOLERANCE[1]:g}",
                "learningHours",
            )

    @ma.post_load
    def _plain(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["nextReviewDate"] = data["nextReviewDate"].isoformat()
        data.setdefault("validityMonths", None)
        return data


class ReviewSchema(ma.Schema):
    """A reviewer's vote."""

    class Meta:
        unknown = ma.RAISE

    decision = ma.fields.String(
        required=True, validate=ma.validate.OneOf(["approve", "reject"])
    )
    comment = CleanString(max_length=2000)


class ReasonSchema(ma.Schema):
    """The reason for an admin's decision (suspend, reinstate, retire)."""

    class Meta:
        unknown = ma.RAISE

    reason = CleanString(max_length=1000, required=True)
