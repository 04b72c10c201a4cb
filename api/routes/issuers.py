"""The trust list, issuer applications and reviews, suspension, keys and DIDs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from flask import Response, jsonify

from api.apidoc import BEARER_SCHEME
from api.auth import (
    ADMIN,
    ISSUER,
    REVIEWER,
    create_token,
    current_principal,
    optional_principal,
    requires,
)
from api.context import services
from api.pages import render_page, wants_html
from api.routes.registry_schemas import (
    APPLICATION_EXAMPLE,
    DID_DOCUMENT_EXAMPLE,
    JWKS_EXAMPLE,
    PROFILE_EXAMPLE,
    ApplicationAnswerSchema,
    DIDDocumentSchema,
    IssuerProfileSchema,
    IssuerStateSchema,
    JWKSetSchema,
    KeySchema,
    PrivacyAnswerSchema,
    TrustListSchema,
)
from api.routes.registry_text import TRUST_LIST_TEXT
from api.smorest import HTML_PAGE, Blueprint, html_example
from issuers.did import did_document, jwk_set, multikey_method_id
from issuers.errors import ForbiddenError, NotFoundError
from issuers.registry import LEARNER_DISPLAYS
from issuers.standard import IssuerApplicationSchema, ReasonSchema, ReviewSchema
from issuers.trust_list import LISTED_STATUSES, issuer_profile, trust_list
from keys import ED25519, P256, StoredKey

blp = Blueprint("issuers", __name__, url_prefix="/issuers", description="Issuers")

# DID documents and key sets change only on rotation; a short cache keeps them fresh.
_KEYS_CACHE = "public, max-age=60"

_ACCREDITED = {"slug": "demo-college", "status": "accredited"}
_KEY_EXAMPLE = {
    "id": "key-2",
    "algorithm": ED25519,
    "state": "active",
    "verificationMethod": f"{PROFILE_EXAMPLE['did']}#key-2",
}
_REASON_EXAMPLE = {"reason": "Inspection found the workshop closed (case 2026-17)."}
# Applicants, reviewers and admins see applications that are not listed yet.
_OPTIONAL_TOKEN = [{}, {BEARER_SCHEME: [ADMIN, REVIEWER, ISSUER]}]


class KeyRequestSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    algorithm = ma.fields.String(
        load_default=ED25519, validate=ma.validate.OneOf([ED25519, P256])
    )


class PrivacySchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    learnerDisplay = ma.fields.String(
        required=True, validate=ma.validate.OneOf(LEARNER_DISPLAYS)
    )


@blp.route("")
@blp.response(200, TrustListSchema, example={"issuers": [PROFILE_EXAMPLE]})
@blp.alt_response(
    200,
    schema=HTML_PAGE,
    content_type="text/html",
    example=html_example("Trust list"),
    success=True,
)
@blp.problems(503)
def list_issuers() -> Any:
    """Accredited and suspended issuers, their history and achievements."""
    app = services()
    with app.database.transaction() as session:
        listing = trust_list(session, app.catalogue, today=_now().date())
    if wants_html():
        return render_page(
            "trust_list.html",
            issuers=listing["issuers"],
            text=TRUST_LIST_TEXT,
            base_url=app.config.base_url,
        )
    return listing


@blp.route("", methods=["POST"])
@blp.arguments(IssuerApplicationSchema, example=APPLICATION_EXAMPLE)
@blp.response(
    201,
    ApplicationAnswerSchema,
    example={
        "slug": "demo-college",
        "status": "applied",
        "did": PROFILE_EXAMPLE["did"],
        "token": "cbt_3q2-7wEXAMPLEonlyEXAMPLEonlyEXAMPLEonly0aB",
        "tokenId": "tok_5f0c2d9e8a7b6c1d",
    },
)
@blp.problems(409, 503)
def apply(application: dict[str, Any]) -> dict[str, Any]:
    """An organisation applies; the answer holds its issuer token, shown once."""
    app = services()
    now = _now()
    with app.database.transaction(write=True) as session:
        issuer = app.registry.apply(session, application, now=now)
        token, secret = create_token(session, role=ISSUER, subject=issuer.slug, now=now)
    return {
        "slug": issuer.slug,
        "status": issuer.status,
        "did": app.registry.did(issuer.slug),
        "token": secret,
        "tokenId": token.id,
    }


@blp.route("/<slug>")
@blp.response(200, IssuerProfileSchema, example=PROFILE_EXAMPLE)
@blp.alt_response(
    200,
    schema=HTML_PAGE,
    content_type="text/html",
    example=html_example("Demo Vocational College"),
    success=True,
)
@blp.problems(401, 404, 503)
@blp.doc(security=_OPTIONAL_TOKEN)
def show_issuer(slug: str) -> Any:
    """One issuer's public profile; applicants see their own application."""
    app = services()
    principal = optional_principal()
    with app.database.transaction() as session:
        issuer = app.registry.issuer(session, slug)
        listed = issuer.status in LISTED_STATUSES
        privileged = principal is not None and (
            principal.role in {ADMIN, REVIEWER} or principal.owns(ISSUER, slug)
        )
        if not listed and not privileged:
            raise NotFoundError(f"no issuer {slug!r}")
        profile = issuer_profile(session, app.catalogue, issuer, today=_now().date())
    if wants_html():
        return render_page(
            "issuer.html",
            issuer=profile,
            text=TRUST_LIST_TEXT,
            base_url=app.config.base_url,
        )
    return profile


@blp.route("/<slug>/reviews", methods=["POST"])
@requires(REVIEWER)
@blp.arguments(
    ReviewSchema, example={"decision": "approve", "comment": "Meets the standard."}
)
@blp.response(200, IssuerStateSchema, example=_ACCREDITED)
@blp.problems(404, 409)
def review_issuer(vote: dict[str, Any], slug: str) -> dict[str, Any]:
    """A reviewer's vote on an application."""
    app = services()
    reviewer = current_principal().subject
    assert reviewer is not None
    with app.database.transaction(write=True) as session:
        issuer = app.registry.review(
            session,
            slug,
            reviewer_id=reviewer,
            decision=vote["decision"],
            comment=vote.get("comment"),
            now=_now(),
        )
        return {"slug": issuer.slug, "status": issuer.status}


@blp.route("/<slug>/suspend", methods=["POST"])
@requires(ADMIN)
@blp.arguments(ReasonSchema, example=_REASON_EXAMPLE)
@blp.response(200, IssuerStateSchema, example={**_ACCREDITED, "status": "suspended"})
@blp.problems(404, 409)
def suspend(body: dict[str, str], slug: str) -> dict[str, Any]:
    app = services()
    with app.database.transaction(write=True) as session:
        issuer = app.registry.suspend(session, slug, reason=body["reason"], now=_now())
        return {"slug": issuer.slug, "status": issuer.status}


@blp.route("/<slug>/reinstate", methods=["POST"])
@requires(ADMIN)
@blp.arguments(ReasonSchema, example=_REASON_EXAMPLE)
@blp.response(200, IssuerStateSchema, example=_ACCREDITED)
@blp.problems(404, 409)
def reinstate(body: dict[str, str], slug: str) -> dict[str, Any]:
    app = services()
    with app.database.transaction(write=True) as session:
        issuer = app.registry.reinstate(
            session, slug, reason=body["reason"], now=_now()
        )
        return {"slug": issuer.slug, "status": issuer.status}


@blp.route("/<slug>/keys", methods=["POST"])
@requires(ADMIN, ISSUER)
# No body asks for the default algorithm.
@blp.arguments(KeyRequestSchema, required=False, example={"algorithm": P256})
@blp.response(201, KeySchema, example=_KEY_EXAMPLE)
@blp.problems(404, 409)
def rotate_key(body: dict[str, str], slug: str) -> tuple[dict[str, Any], int]:
    """A new active key of the algorithm asked; the previous one is retired."""
    _check_own_issuer(slug)
    app = services()
    with app.database.transaction(write=True) as session:
        key = app.registry.add_key(
            session, slug, algorithm=body["algorithm"], now=_now()
        )
        return _key_view(slug, key), 201


@blp.route("/<slug>/keys/<key_id>/compromised", methods=["POST"])
@requires(ADMIN, ISSUER)
@blp.response(
    200,
    KeySchema,
    example={
        **_KEY_EXAMPLE,
        "state": "compromised",
        "compromisedAt": "2026-12-02T08:00:00Z",
    },
)
@blp.problems(404, 409)
def report_compromise(slug: str, key_id: str) -> dict[str, Any]:
    """Record that a key was compromised now; an active key is replaced."""
    _check_own_issuer(slug)
    app = services()
    with app.database.transaction(write=True) as session:
        key = app.registry.report_compromise(session, slug, key_id, now=_now())
        return _key_view(slug, key)


@blp.route("/<slug>/privacy", methods=["PUT"])
@requires(ADMIN, ISSUER)
@blp.arguments(PrivacySchema, example={"learnerDisplay": "hidden"})
@blp.response(
    200,
    PrivacyAnswerSchema,
    example={"slug": "demo-college", "learnerDisplay": "hidden"},
)
@blp.problems(404)
def set_privacy(body: dict[str, str], slug: str) -> dict[str, Any]:
    """How the verification page shows learners' names: `hidden`, `masked`
    (initials, the default) or `full`."""
    _check_own_issuer(slug)
    app = services()
    with app.database.transaction(write=True) as session:
        issuer = app.registry.set_learner_display(
            session, slug, body["learnerDisplay"], now=_now()
        )
        return {"slug": issuer.slug, "learnerDisplay": issuer.learner_display}


@blp.route("/<slug>/did.json")
@blp.response(
    200,
    DIDDocumentSchema,
    content_type="application/did+json",
    example=DID_DOCUMENT_EXAMPLE,
)
@blp.problems(404, 503)
def did_json(slug: str) -> Response:
    """The issuer's DID document (did:web)."""
    return _key_document(slug, did_document, "application/did+json")


@blp.route("/<slug>/jwks.json")
@blp.response(
    200, JWKSetSchema, content_type="application/jwk-set+json", example=JWKS_EXAMPLE
)
@blp.problems(404, 503)
def jwks_json(slug: str) -> Response:
    """RFC 7517 JWK Set of the issuer's keys that still verify."""
    return _key_document(slug, jwk_set, "application/jwk-set+json")


def _key_document(
    slug: str,
    build: Callable[[str, list[StoredKey]], dict[str, Any]],
    content_type: str,
) -> Response:
    app = services()
    with app.database.transaction() as session:
        keys = app.registry.keys(session, slug)
        if not keys:
            raise NotFoundError(f"no issuer {slug!r} with keys")
        document = build(app.registry.did(slug), keys)
    response = jsonify(document)
    response.content_type = content_type
    response.headers["Cache-Control"] = _KEYS_CACHE
    return response


def _check_own_issuer(slug: str) -> None:
    principal = current_principal()
    if principal.role == ISSUER and principal.subject != slug:
        raise ForbiddenError(f"this token acts for another issuer, not {slug}")


def _key_view(slug: str, key: StoredKey) -> dict[str, Any]:
    did = services().registry.did(slug)
    view: dict[str, Any] = {
        "id": key.id,
        "algorithm": key.algorithm,
        "state": key.state,
        "verificationMethod": multikey_method_id(did, key.id),
    }
    if key.compromised_at is not None:
        view["compromisedAt"] = key.compromised_at.isoformat()
    return view


def _now() -> datetime:
    return datetime.now(UTC)
