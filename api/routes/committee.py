"""The review committee's administration: reviewers, tokens, the review queue."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from sqlalchemy import select

from api.auth import ADMIN, REVIEWER, ROLES, create_token, requires
from api.context import services
from api.routes.registry_schemas import (
    ACHIEVEMENT_EXAMPLE,
    APPLICATION_EXAMPLE,
    PendingSchema,
    ReviewerAnswerSchema,
    TokenAnswerSchema,
)
from api.smorest import Blueprint
from issuers.catalogue import SUBMITTED
from issuers.models import Achievement, Issuer, Reviewer
from issuers.registry import APPLIED
from issuers.standard import CleanString

blp = Blueprint("committee", __name__, description="Review committee")


class ReviewerSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    name = CleanString(max_length=200, required=True)
    affiliations = ma.fields.List(
        CleanString(max_length=64),
        load_default=list,
        validate=ma.validate.Length(max=50),
    )


class TokenRequestSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))
    subject = CleanString(max_length=128, load_default=None)


@blp.route("/reviewers", methods=["POST"])
@requires(ADMIN)
@blp.arguments(
    ReviewerSchema,
    example={"name": "张伟 Zhang Wei", "affiliations": ["91110000MA0000001X"]},
)
@blp.response(
    201,
    ReviewerAnswerSchema,
    example={
        "id": "rv-3f2a1b0c",
        "token": "cbt_9xK-EXAMPLEonlyEXAMPLEonlyEXAMPLEonly2Qd",
        "tokenId": "tok_0a1b2c3d4e5f6a7b",
    },
)
def add_reviewer(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Add a committee member; the answer holds their token, shown once."""
    app = services()
    now = datetime.now(UTC)
    with app.database.transaction(write=True) as session:
        reviewer = Reviewer(
            id="rv-" + secrets.token_hex(4),
            name=body["name"],
            affiliations=body["affiliations"],
            created_at=now,
        )
        session.add(reviewer)
        session.flush()
        token, secret = create_token(
            session, role=REVIEWER, subject=reviewer.id, now=now
        )
        return {"id": reviewer.id, "token": secret, "tokenId": token.id}, 201


@blp.route("/tokens", methods=["POST"])
@requires(ADMIN)
@blp.arguments(
    TokenRequestSchema, example={"role": "issuer", "subject": "demo-college"}
)
@blp.response(
    201,
    TokenAnswerSchema,
    example={
        "id": "tok_7c6b5a4f3e2d1c0b",
        "role": "issuer",
        "subject": "demo-college",
        "token": "cbt_Zt4-EXAMPLEonlyEXAMPLEonlyEXAMPLEonly8Lm",
    },
)
@blp.problems(404)
def add_token(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Create a bearer token; its secret is in this answer and nowhere else."""
    app = services()
    with app.database.transaction(write=True) as session:
        token, secret = create_token(
            session, role=body["role"], subject=body["subject"], now=datetime.now(UTC)
        )
        return {
            "id": token.id,
            "role": token.role,
            "subject": token.subject,
            "token": secret,
        }, 201


@blp.route("/reviews/pending")
@requires(ADMIN, REVIEWER)
@blp.response(
    200,
    PendingSchema,
    example={
        "issuers": [
            {
                key: APPLICATION_EXAMPLE[key]
                for key in ("slug", "name", "legalId", "kind", "website")
            }
        ],
        "achievements": [
            {
                "id": "ach-1a2b3c4d",
                "issuer": "demo-college",
                "definition": ACHIEVEMENT_EXAMPLE,
            }
        ],
    },
)
def pending() -> dict[str, Any]:
    """Applications and achievements still waiting for a decision."""
    app = services()
    with app.database.transaction() as session:
        issuers = session.scalars(
            select(Issuer).where(Issuer.status == APPLIED).order_by(Issuer.applied_at)
        )
        achievements = session.scalars(
            select(Achievement)
            .where(Achievement.status == SUBMITTED)
            .order_by(Achievement.submitted_at)
        )
        return {
            "issuers": [
                {
                    "slug": i.slug,
                    "name": {"zh": i.name_zh, "en": i.name_en},
                    "legalId": i.legal_id,
                    "kind": i.kind,
                    "website": i.website,
                }
                for i in issuers
            ],
            "achievements": [
                {"id": a.id, "issuer": a.issuer_slug, "definition": a.definition}
                for a in achievements
            ],
        }
