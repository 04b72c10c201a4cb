"""The public trust list: accredited issuers, their history and their achievements.

Issuers still applying, or rejected, are not listed. A suspended issuer stays on the
list, marked as such, so that verifiers see why its new credentials are refused.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from credentials.achievements import credits_number
from issuers.catalogue import (
    ACHIEVEMENT_APPROVED,
    RETIRED,
    Catalogue,
    achievement_url,
)
from issuers.models import Achievement, Issuer, IssuerEvent
from issuers.registry import ACCREDITED, SUSPENDED

__all__ = ["LISTED_STATUSES", "achievement_summary", "issuer_profile", "trust_list"]

LISTED_STATUSES = (ACCREDITED, SUSPENDED)


def trust_list(
    session: Session, catalogue: Catalogue, *, today: date
) -> dict[str, Any]:
    issuers = session.scalars(
        select(Issuer)
        .where(Issuer.status.in_(LISTED_STATUSES))
        .order_by(Issuer.accredited_at, Issuer.slug)
    )
    return {
        "issuers": [
            issuer_profile(session, catalogue, issuer, today=today)
            for issuer in issuers
        ]
    }


def issuer_profile(
    session: Session, catalogue: Catalogue, issuer: Issuer, *, today: date
) -> dict[str, Any]:
    """An issuer's public profile: no contact details, no legal id."""
    base = catalogue.registry.base_url
    events = session.scalars(
        select(IssuerEvent)
        .where(IssuerEvent.issuer_slug == issuer.slug)
        .order_by(IssuerEvent.log_index)
    )
    achievements = [
        achievement_summary(base, a, today=today)
        for a in catalogue.of_issuer(session, issuer.slug)
        if a.status in {ACHIEVEMENT_APPROVED, RETIRED}
    ]
    return {
        "slug": issuer.slug,
        "did": catalogue.registry.did(issuer.slug),
        "name": _names(issuer),
        "kind": issuer.kind,
        "website": issuer.website,
        "status": issuer.status,
        "statusHistory": [
            {
                "status": event.status,
                "at": _iso(event.at),
                "reason": event.reason,
                "logIndex": event.log_index,
            }
            for event in events
        ],
        "didDocument": f"{base}/issuers/{issuer.slug}/did.json",
        "jwks": f"{base}/issuers/{issuer.slug}/jwks.json",
        "achievements": {
            "active": [a for a in achievements if a["status"] != RETIRED],
            "retired": [a for a in achievements if a["status"] == RETIRED],
        },
    }


def achievement_summary(
    base_url: str, achievement: Achievement, *, today: date
) -> dict[str, Any]:
    definition = achievement.definition
    summary: dict[str, Any] = {
        "id": achievement_url(base_url, achievement.id),
        "name": definition["name"],
        "achievementType": definition["achievementType"],
        "credits": credits_number(definition["credits"]),
        "unit": definition["unit"],
        "eqfLevel": definition["eqfLevel"],
        "status": achievement.status,
        "reviewDue": achievement.review_due.isoformat(),
        "reviewOverdue": achievement.status != RETIRED
        and achievement.review_due < today,
    }
    if achievement.status == RETIRED:
        summary["retiredAt"] = _iso(achievement.retired_at)
        summary["retireReason"] = achievement.retire_reason
    return summary


def _names(issuer: Issuer) -> dict[str, str]:
    return {
        lang: name
        for lang, name in (("zh", issuer.name_zh), ("en", issuer.name_en))
        if name
    }


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite hands back naive UTC datetimes
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
