"""The achievement catalogue: submission, review, retirement, public definitions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response, jsonify

from api.apidoc import BEARER_SCHEME
from api.auth import (
    ADMIN,
    ISSUER,
    REVIEWER,
    current_principal,
    optional_principal,
    requires,
)
from api.context import services
from api.routes.registry_schemas import (
    ACHIEVEMENT_EXAMPLE,
    CatalogueEntrySchema,
    OBAchievementSchema,
)
from api.smorest import Blueprint
from issuers.catalogue import ACHIEVEMENT_APPROVED, RETIRED, achievement_url
from issuers.errors import NotFoundError
from issuers.models import Achievement
from issuers.standard import AchievementSchema, ReasonSchema, ReviewSchema

blp = Blueprint(
    "achievements", __name__, url_prefix="/achievements", description="Achievements"
)

_PUBLIC_STATUSES = {ACHIEVEMENT_APPROVED, RETIRED}

_BASE = "http://127.0.0.1:8000"
_ENTRY_EXAMPLE = {
    "id": "ach-1a2b3c4d",
    "url": f"{_BASE}/achievements/ach-1a2b3c4d",
    "issuer": "demo-college",
    "status": "submitted",
}
_DOCUMENT_EXAMPLE = {
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ],
    "id": _ENTRY_EXAMPLE["url"],
    "type": ["Achievement"],
    "achievementType": "MicroCredential",
    "name": "智能仓储管理 Smart Warehouse Management",
    "creator": {
        "id": "did:web:127.0.0.1%3A8000:issuers:demo-college",
        "type": ["Profile"],
        "name": "智慧职教示范学院 Demo Vocational College",
    },
    "creditsAvailable": 4,
    "alignment": [
        {
            "type": ["Alignment"],
            "targetName": "学分 (CN_XF)",
            "targetUrl": f"{_BASE}/units/CN_XF",
        }
    ],
}


@blp.route("", methods=["POST"])
@requires(ISSUER)
@blp.arguments(AchievementSchema, example=ACHIEVEMENT_EXAMPLE)
@blp.response(201, CatalogueEntrySchema, example=_ENTRY_EXAMPLE)
@blp.problems(409)
def submit(definition: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """An accredited issuer submits a course against the admission standard."""
    app = services()
    slug = current_principal().subject
    assert slug is not None
    with app.database.transaction(write=True) as session:
        achievement = app.catalogue.submit(session, slug, definition, now=_now())
        return _view(achievement), 201


@blp.route("/<achievement_id>")
@blp.response(
    200,
    OBAchievementSchema,
    content_type="application/ld+json",
    example=_DOCUMENT_EXAMPLE,
)
@blp.problems(401, 404, 503)
# The issuer, reviewers and admins also see achievements not yet approved.
@blp.doc(security=[{}, {BEARER_SCHEME: [ADMIN, REVIEWER, ISSUER]}])
def show(achievement_id: str) -> Response:
    """The OB 3.0 Achievement; its id is this URL."""
    app = services()
    principal = optional_principal()
    with app.database.transaction() as session:
        achievement = app.catalogue.get(session, achievement_id)
        privileged = principal is not None and (
            principal.role in {ADMIN, REVIEWER}
            or principal.owns(ISSUER, achievement.issuer_slug)
        )
        if achievement.status not in _PUBLIC_STATUSES and not privileged:
            raise NotFoundError(f"no achievement {achievement_id!r}")
        issuer = app.registry.issuer(session, achievement.issuer_slug)
        document = app.catalogue.document(achievement, issuer)
    response = jsonify(document)
    response.content_type = "application/ld+json"
    return response


@blp.route("/<achievement_id>/reviews", methods=["POST"])
@requires(REVIEWER)
@blp.arguments(ReviewSchema, example={"decision": "approve"})
@blp.response(
    200, CatalogueEntrySchema, example={**_ENTRY_EXAMPLE, "status": "approved"}
)
@blp.problems(404, 409)
def review(vote: dict[str, Any], achievement_id: str) -> dict[str, Any]:
    app = services()
    reviewer = current_principal().subject
    assert reviewer is not None
    with app.database.transaction(write=True) as session:
        achievement = app.catalogue.review(
            session,
            achievement_id,
            reviewer_id=reviewer,
            decision=vote["decision"],
            comment=vote.get("comment"),
            now=_now(),
        )
        return _view(achievement)


@blp.route("/<achievement_id>/retire", methods=["POST"])
@requires(ADMIN)
@blp.arguments(ReasonSchema, example={"reason": "Replaced by the 2027 syllabus."})
@blp.response(
    200, CatalogueEntrySchema, example={**_ENTRY_EXAMPLE, "status": "retired"}
)
@blp.problems(404, 409)
def retire(body: dict[str, str], achievement_id: str) -> dict[str, Any]:
    app = services()
    with app.database.transaction(write=True) as session:
        achievement = app.catalogue.retire(
            session, achievement_id, reason=body["reason"], now=_now()
        )
        return _view(achievement)


def _view(achievement: Achievement) -> dict[str, Any]:
    return {
        "id": achievement.id,
        "url": achievement_url(services().config.base_url, achievement.id),
        "issuer": achievement.issuer_slug,
        "status": achievement.status,
    }


def _now() -> datetime:
    return datetime.now(UTC)
