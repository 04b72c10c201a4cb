"""The achievement catalogue: submission, review, approval and retirement.

Only an accredited, unsuspended issuer submits; the review committee approves with the
same quorum as for issuers; an admin retires an achievement, after which it cannot be
awarded, while credentials awarded before stay valid.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from credentials.achievements import achievement_document, bilingual
from issuers.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
)
from issuers.models import Achievement, Issuer
from issuers.registry import ACCREDITED, Registry
from issuers.reviews import APPROVED, REJECTED, cast_vote
from ledger import make_entry

__all__ = [
    "ACHIEVEMENT_APPROVED",
    "ACHIEVEMENT_REJECTED",
    "RETIRED",
    "SUBMITTED",
    "Catalogue",
    "achievement_url",
]

SUBMITTED = "submitted"
ACHIEVEMENT_APPROVED = "approved"
ACHIEVEMENT_REJECTED = "rejected"
RETIRED = "retired"

logger = logging.getLogger(__name__)


def achievement_url(base_url: str, achievement_id: str) -> str:
    return f"{base_url}/achievements/{achievement_id}"


@dataclass(frozen=True)
class Catalogue:
    """Achievement decisions, recorded through the registry's log."""

    registry: Registry

    def get(self, session: Session, achievement_id: str) -> Achievement:
        found = session.get(Achievement, achievement_id)
        if found is None:
            raise NotFoundError(f"no achievement {achievement_id!r}")
        return found

    def of_issuer(self, session: Session, slug: str) -> list[Achievement]:
        return list(
            session.scalars(
                select(Achievement)
                .where(Achievement.issuer_slug == slug)
                .order_by(Achievement.submitted_at, Achievement.id)
            )
        )

    def submit(
        self,
        session: Session,
        slug: str,
        definition: Mapping[str, Any],
        *,
        now: datetime,
    ) -> Achievement:
        """Record a submission the admission standard accepted."""
        issuer = self.registry.issuer(session, slug)
        if issuer.status != ACCREDITED:
            raise ForbiddenError(
                f"issuer {slug} is {issuer.status}; only an accredited issuer submits"
            )
        review_due = date.fromisoformat(definition["nextReviewDate"])
        if review_due <= now.date():
            raise InvalidInputError(
                {"nextReviewDate": f"expected a date after {now.date().isoformat()}"}
            )
        achievement = Achievement(
            id=str(uuid.uuid4()),
            issuer_slug=slug,
            status=SUBMITTED,
            definition=dict(definition),
            review_due=review_due,
            submitted_at=now,
        )
        session.add(achievement)
        session.flush()
        entry = make_entry(
            "achievement.submitted",
            now,
            achievement=achievement.id,
            issuer=slug,
            definition=achievement.definition,
        )
        self.registry.log.append(session, [entry], now=now)
        logger.info("achievement %s submitted by %s", achievement.id, slug)
        return achievement

    def review(
        self,
        session: Session,
        achievement_id: str,
        *,
        reviewer_id: str,
        decision: str,
        comment: str | None,
        now: datetime,
    ) -> Achievement:
        achievement = self.get(session, achievement_id)
        if achievement.status != SUBMITTED:
            raise ConflictError(
                f"the review of achievement {achievement_id} is closed "
                f"({achievement.status})"
            )
        issuer = self.registry.issuer(session, achievement.issuer_slug)
        result = cast_vote(
            session,
            subject_kind="achievement",
            subject_id=achievement_id,
            organisation=issuer,
            reviewer_id=reviewer_id,
            decision=decision,
            comment=comment,
            quorum=self.registry.quorum,
            now=now,
        )
        entries = [
            make_entry(
                "achievement.reviewed",
                now,
                achievement=achievement_id,
                reviewer=reviewer_id,
                decision=decision,
            )
        ]
        if result == APPROVED:
            achievement.status = ACHIEVEMENT_APPROVED
            achievement.approved_at = now
            entries.append(
                make_entry("achievement.approved", now, achievement=achievement_id)
            )
        elif result == REJECTED:
            achievement.status = ACHIEVEMENT_REJECTED
            entries.append(
                make_entry("achievement.rejected", now, achievement=achievement_id)
            )
        self.registry.log.append(session, entries, now=now)
        return achievement

    def retire(
        self, session: Session, achievement_id: str, *, reason: str, now: datetime
    ) -> Achievement:
        achievement = self.get(session, achievement_id)
        if achievement.status != ACHIEVEMENT_APPROVED:
            raise ConflictError(
                f"expected an approved achievement to retire, got {achievement.status}"
            )
        achievement.status = RETIRED
        achievement.retired_at = now
        achievement.retire_reason = reason
        entry = make_entry(
            "achievement.retired", now, achievement=achievement_id, reason=reason
        )
        self.registry.log.append(session, [entry], now=now)
        return achievement

    def document(self, achievement: Achievement, issuer: Issuer) -> dict[str, Any]:
        """The OB 3.0 Achievement, with @context, as served at its own URL."""
        base_url = self.registry.base_url
        creator = {
            "id": self.registry.did(issuer.slug),
            "type": ["Profile"],
            "name": bilingual(_names(issuer)),
        }
        if issuer.website:
            creator["url"] = issuer.website
        body = achievement_document(
            achievement_url(base_url, achievement.id),
            achievement.definition,
            creator=creator,
            base_url=base_url,
        )
        return {
            "@context": [
                "https://www.w3.org/ns/credentials/v2",
                "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
            ],
            **body,
        }


def _names(issuer: Issuer) -> dict[str, str]:
    return {
        lang: name
        for lang, name in (("zh", issuer.name_zh), ("en", issuer.name_en))
        if name
    }
