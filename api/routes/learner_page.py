"""The learner's page (DESIGN §8, §9): their credentials with QR codes, downloads,
a printable certificate of each, and their credit balances, in Chinese and English.

A browser opens it through a claim link, `/me/<secret>` (wallet/claim_links.py);
an API client may use `/learners/<id>/page` with the learner's token. No
JavaScript; every value goes through Jinja's autoescaping, and the only markup
passed through is the QR code SVG that verify/qr.py draws from our own URL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import marshmallow as ma
from flask import Response
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import ADMIN, ISSUER, LEARNER, current_principal, requires
from api.context import services
from api.pages import page_language, render_page
from api.routes.learner_page_text import LEARNER_TEXT
from api.routes.wallet import WALLET_EXAMPLE, WalletSchema, wallet_download
from api.services import Services
from api.smorest import HTML_PAGE, LANG, Blueprint, html_example
from issuers.errors import ForbiddenError, NotFoundError
from issuers.issuance import IssuedCredential, get_credential, unsecured_document
from issuers.learners import Learner, learner_profile
from issuers.models import Achievement, Issuer
from verify.qr import qr_svg, verification_url
from wallet.claim_links import claim_url, create_claim_link, redeem_claim_link

__all__ = ["blp"]

blp = Blueprint("learner_page", __name__, description="The learner's page (HTML)")

F = TypeVar("F", bound=Callable[..., Any])

# A page reached by a secret URL: never cached, never indexed.
_PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}


class ClaimLinkSchema(ma.Schema):
    url = ma.fields.String(required=True)
    expires = ma.fields.String(required=True)


def _page(title: str) -> Callable[[F], F]:
    """Document a view answering the learner's page (or a certificate)."""

    def decorate(view: F) -> F:
        view = blp.response(
            200, HTML_PAGE, content_type="text/html", example=html_example(title)
        )(view)
        view = blp.problems(503)(view)
        return cast(F, blp.doc(parameters=[LANG])(view))

    return decorate


@dataclass(frozen=True)
class Card:
    """One credential as the page shows it, its names in both languages."""

    id: str
    course: Mapping[str, str]
    issuer: Mapping[str, str]
    date: str
    credits: str
    unit: str
    level: str
    status: str
    forms: tuple[str, ...]
    verify_url: str
    qr: Markup


@dataclass(frozen=True)
class LearnerView:
    """Everything on the learner's page."""

    learner_id: str
    name: str
    cards: tuple[Card, ...]
    balances: Mapping[str, Mapping[str, str]]


# Claim links


@blp.route("/learners/<learner_id>/claim-links", methods=["POST"])
@requires(LEARNER, ISSUER, ADMIN)
@blp.response(
    201,
    ClaimLinkSchema,
    description="The link, shown once, and when it expires",
    example={
        "url": "http://127.0.0.1:8000/me/Xb2-EXAMPLEonlyEXAMPLEonly",
        "expires": "2027-03-01T09:30:00Z",
    },
)
@blp.problems(404)
def new_claim_link(learner_id: str) -> tuple[dict[str, str], int, dict[str, str]]:
    """A link to the learner's page, valid 90 days, for the learner themselves, an
    issuer that issued to them (to send it on), or an admin."""
    app = services()
    principal = current_principal()
    now = datetime.now(UTC)
    with app.database.transaction(write=True) as session:
        _check_may_link(session, learner_id)
        secret, expires = create_claim_link(
            session, learner_id, created_by=principal.token_id, now=now
        )
    body = {
        "url": claim_url(app.config.base_url, secret),
        "expires": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return body, 201, {"Cache-Control": "no-store"}


# The page through a claim link


@blp.route("/me/<secret>")
@_page("李明")
@blp.error_pages(404)
def claimed_page(secret: str) -> Response:
    """The learner's page, opened by a claim link."""
    learner_id = _redeem(secret)
    if learner_id is None:
        return _not_found()
    return _learner_page(learner_id, f"/me/{secret}")


@blp.route("/me/<secret>/wallet")
@blp.response(
    200,
    WalletSchema,
    description="The credbank-wallet/v1 file, as a download",
    example=WALLET_EXAMPLE,
)
@blp.error_pages(404)
@blp.problems(503)
def claimed_wallet(secret: str) -> Response:
    """The learner's whole wallet, as `GET /learners/<id>/wallet` serves it."""
    learner_id = _redeem(secret)
    if learner_id is None:
        return _not_found()
    return wallet_download(learner_id, None)


@blp.route("/me/<secret>/certificates/<path:credential_id>")
@_page("证书 Certificate")
@blp.error_pages(404)
def claimed_certificate(secret: str, credential_id: str) -> Response:
    """A printable certificate of one of the learner's credentials."""
    learner_id = _redeem(secret)
    if learner_id is None:
        return _not_found()
    return _certificate(learner_id, credential_id, f"/me/{secret}")


# The page with a bearer token


@blp.route("/learners/<learner_id>/page")
@requires(LEARNER, ADMIN)
@_page("李明")
@blp.problems(404)
def learner_page(learner_id: str) -> Response:
    """The learner's page, for their own token or an admin's."""
    _check_own(learner_id)
    return _learner_page(learner_id, f"/learners/{learner_id}")


@blp.route("/learners/<learner_id>/certificates/<path:credential_id>")
@requires(LEARNER, ADMIN)
@_page("证书 Certificate")
@blp.error_pages(404)
def learner_certificate(learner_id: str, credential_id: str) -> Response:
    """A printable certificate, for the learner's own token or an admin's."""
    _check_own(learner_id)
    return _certificate(learner_id, credential_id, f"/learners/{learner_id}")


def _learner_page(learner_id: str, home: str) -> Response:
    app = services()
    with app.database.transaction() as session:
        view = _view(session, app, learner_id)
    response = render_page(
        "learner.html", t=LEARNER_TEXT[page_language()], view=view, home=home
    )
    return _secured(response)


def _certificate(learner_id: str, credential_id: str, home: str) -> Response:
    app = services()
    with app.database.transaction() as session:
        try:
            record = get_credential(session, credential_id)
        except NotFoundError:
            record = None
        # Another learner's credential is as absent as an unknown one.
        if record is None or record.learner_id != learner_id:
            return _not_found()
        view = _view(session, app, learner_id, only=record.id)
    response = render_page(
        "certificate.html",
        t=LEARNER_TEXT[page_language()],
        both=LEARNER_TEXT,
        view=view,
        card=view.cards[0],
        home=home,
    )
    return _secured(response)


def _view(
    session: Session, app: Services, learner_id: str, *, only: str | None = None
) -> LearnerView:
    learner = session.get(Learner, learner_id)
    if learner is None:
        raise NotFoundError(f"no learner {learner_id!r}")
    profile = learner_profile(session, app.keystore, learner)
    name = (profile.name if profile else None) or learner.did or ""

    query = select(IssuedCredential).where(IssuedCredential.learner_id == learner_id)
    if only is not None:
        query = query.where(IssuedCredential.id == only)
    records = session.scalars(
        query.order_by(IssuedCredential.issued_at, IssuedCredential.id)
    ).all()
    wanted = {r.achievement_id for r in records if r.achievement_id}
    achievements = {
        a.id: a
        for a in session.scalars(select(Achievement).where(Achievement.id.in_(wanted)))
    }
    slugs = {r.issuer_slug for r in records}
    issuers = {
        i.slug: i for i in session.scalars(select(Issuer).where(Issuer.slug.in_(slugs)))
    }
    base = app.config.base_url
    cards = tuple(
        _card(
            record,
            achievements.get(record.achievement_id or ""),
            issuers.get(record.issuer_slug),
            base,
        )
        for record in records
    )
    balances = {} if only else app.bank.account(session, learner_id).balances()
    return LearnerView(learner_id, name, cards, balances)


def _card(
    record: IssuedCredential,
    achievement: Achievement | None,
    issuer: Issuer | None,
    base: str,
) -> Card:
    document = unsecured_document(record)
    subject = document.get("credentialSubject")
    subject = subject if isinstance(subject, Mapping) else {}
    stated = subject.get("achievement")
    stated = stated if isinstance(stated, Mapping) else {}
    definition = achievement.definition if achievement else {}

    course = _names(definition.get("name")) or _names(stated.get("name"))
    if not course:
        course = _names(document.get("name"))
    issuer_names = (
        {"zh": issuer.name_zh or "", "en": issuer.name_en or ""} if issuer else {}
    )
    credits = subject.get("creditsEarned", definition.get("credits", ""))
    awarded = _text(document.get("awardedDate")) or record.issued_at.date().isoformat()
    url = verification_url(base, record.id)
    return Card(
        id=record.id,
        course=course,
        issuer={k: v for k, v in issuer_names.items() if v},
        date=awarded[:10],
        credits=_text(credits),
        unit=_text(definition.get("unit")),
        level=_text(definition.get("eqfLevel")),
        status=record.status,
        forms=tuple(record.secured),
        verify_url=url,
        # Our own drawing of our own URL: the title is escaped by qr_svg.
        qr=Markup(qr_svg(url)),  # noqa: S704
    )


def _names(value: Any) -> dict[str, str]:
    """A name in both languages: a `{zh, en}` object, or one string for both."""
    if isinstance(value, str) and value:
        return {"zh": value, "en": value}
    if isinstance(value, Mapping):
        return {k: str(v) for k, v in value.items() if k in ("zh", "en") and v}
    return {}


def _text(value: Any) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value)


def _redeem(secret: str) -> str | None:
    app = services()
    with app.database.transaction() as session:
        try:
            return redeem_claim_link(session, secret, now=datetime.now(UTC))
        except NotFoundError:
            return None


def _check_may_link(session: Session, learner_id: str) -> None:
    principal = current_principal()
    if principal.role == ADMIN:
        return
    if principal.role == LEARNER:
        _check_own(learner_id)
        return
    issued = session.scalar(
        select(IssuedCredential.id)
        .where(
            IssuedCredential.learner_id == learner_id,
            IssuedCredential.issuer_slug == principal.subject,
        )
        .limit(1)
    )
    if issued is None:
        raise ForbiddenError("an issuer may link only learners it has issued to")


def _check_own(learner_id: str) -> None:
    principal = current_principal()
    if principal.role == LEARNER and principal.subject != learner_id:
        raise ForbiddenError("a learner's token acts for that learner only")


def _not_found() -> Response:
    t = LEARNER_TEXT[page_language()]
    response = render_page(
        "learner_message.html", t=t, title=t["not_found_title"], message=t["not_found"]
    )
    response.status_code = 404
    return _secured(response)


def _secured(response: Response) -> Response:
    # The page's security headers come with every HTML answer (api/headers.py).
    response.headers.update(_PRIVATE)
    return response
