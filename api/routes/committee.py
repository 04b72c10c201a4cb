"""The review committee's administration: reviewers, tokens, the review queue."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from sqlalchemy import select

from api.auth import ADMIN, REVIEWER, ROLES, create_token, requires
from api.context import services
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
@blp.arguments(ReviewerSchema)
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
@blp.arguments(TokenRequestSchema)
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
