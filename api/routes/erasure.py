"""Erasing a learner's personal data: `POST /learners/<id>/erasure`, admin only
(issue 8; DESIGN §3, a `learner.erased` log entry)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import marshmallow as ma

from api.auth import ADMIN, requires
from api.context import services
from api.erasure import erase_learner_everywhere
from api.smorest import Blueprint
from issuers.erasure import ERASURE_REASONS, Erasure

__all__ = ["ErasureRequestSchema", "ErasureSchema", "blp", "erasure_json"]

blp = Blueprint("erasure", __name__, description="Erasing a learner's personal data")


class ErasureRequestSchema(ma.Schema):
    """Why the learner is erased: a code, never free text (it is logged)."""

    class Meta:
        unknown = ma.RAISE

    reason = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(ERASURE_REASONS),
        metadata={"description": "the ground of the erasure"},
    )


class ErasureSchema(ma.Schema):
    """The learner's erasure, the same however often it is asked for."""

    learner = ma.fields.String(required=True)
    erased = ma.fields.Boolean(required=True)
    erasedAt = ma.fields.String(required=True, metadata={"description": "RFC 3339"})
    reason = ma.fields.String(required=True)
    logIndex = ma.fields.Integer(
        required=True, metadata={"description": "index of the learner.erased entry"}
    )


@blp.route("/learners/<learner_id>/erasure", methods=["POST"])
@requires(ADMIN)
@blp.arguments(ErasureRequestSchema, example={"reason": "learner-request"})
@blp.response(
    200,
    ErasureSchema,
    example={
        "learner": "lrn-4a3b2c1d",
        "erased": True,
        "erasedAt": "2026-12-01T09:30:00Z",
        "reason": "learner-request",
        "logIndex": 57,
    },
)
@blp.problems(404)
@blp.doc(
    description="Destroys the learner's data key (their name and e-mail address "
    "become unreadable for good), clears their lookups, closes their claim links, "
    "consent codes and tokens, and logs `learner.erased`. Their credentials still "
    "verify, naming no one. Asking again answers the first erasure, unchanged."
)
def erase(data: dict[str, Any], learner_id: str) -> dict[str, Any]:
    """Erase a learner's personal data."""
    erasure = erase_learner_everywhere(
        services(), learner_id, reason=data["reason"], now=datetime.now(UTC)
    )
    return erasure_json(erasure)


def erasure_json(erasure: Erasure) -> dict[str, Any]:
    """The answer to an erasure, first or repeated."""
    return {
        "learner": erasure.learner_id,
        "erased": True,
        "erasedAt": erasure.erased_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reason": erasure.reason,
        "logIndex": erasure.log_index,
    }
