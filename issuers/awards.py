"""What an award request must hold (POST /credentials/award, batch rows)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from issuers.issuance import FORMATS, RDFC, Award, request_digest
from issuers.standard import CleanString, normalise_credits

__all__ = ["AwardSchema", "to_award"]

# did:key and did:web learners; anything longer than this is not a DID we can use.
_MAX_DID = 500


class _Learner(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    did = CleanString(max_length=_MAX_DID)
    email = ma.fields.Email()
    name = CleanString(max_length=200)

    @ma.validates_schema
    def _identified(self, data: dict[str, Any], **_: Any) -> None:
        if "did" in data and not str(data["did"]).startswith("did:"):
            raise ma.ValidationError("expected a DID starting with 'did:'", "did")
        if "did" not in data and "email" not in data:
            raise ma.ValidationError(
                "expected a DID, or an e-mail address and a name", "did"
            )
        if "did" not in data and "name" not in data:
            raise ma.ValidationError("expected the learner's name", "name")


class _Evidence(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    id = ma.fields.URL(schemes={"http", "https"}, validate=ma.validate.Length(max=500))
    name = CleanString(max_length=200)
    narrative = CleanString(max_length=2000)
    description = CleanString(max_length=2000)


class _Credits(ma.fields.Field):  # type: ignore[type-arg]
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ma.ValidationError("expected a number")
        return normalise_credits(value)


class AwardSchema(ma.Schema):
    """One award: which course, to whom, and how to secure the credential."""

    class Meta:
        unknown = ma.RAISE

    achievement = CleanString(max_length=500, required=True)
    learner = ma.fields.Nested(_Learner, required=True)
    score = ma.fields.Float(validate=ma.validate.Range(0, 100), allow_nan=False)
    creditsEarned = _Credits()
    awardedDate = ma.fields.Date()
    evidence = ma.fields.List(
        ma.fields.Nested(_Evidence), validate=ma.validate.Length(max=10)
    )
    formats = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(FORMATS)),
        validate=ma.validate.Length(min=1, max=len(FORMATS)),
    )
    idempotencyKey = CleanString(max_length=200)


def to_award(data: dict[str, Any], raw: dict[str, Any]) -> Award:
    """An `Award` from data the schema loaded; `raw` is the request as sent."""
    learner = data["learner"]
    formats = tuple(dict.fromkeys(data.get("formats") or [RDFC]))
    fingerprint = {k: v for k, v in raw.items() if k != "idempotencyKey"}
    return Award(
        achievement_id=data["achievement"],
        learner_did=learner.get("did"),
        learner_email=learner.get("email"),
        learner_name=learner.get("name"),
        score=data.get("score"),
        credits_earned=data.get("creditsEarned"),
        awarded_date=data.get("awardedDate"),
        evidence=tuple(data.get("evidence") or ()),
        formats=formats,
        idempotency_key=data.get("idempotencyKey"),
        request_digest=request_digest(fingerprint),
    )
