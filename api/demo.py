"""Demo data for `make run`: seeded into an empty database, never twice.

The demo goes through the same registry decisions as real use, so every step is on
the log: two committee members accredit 智慧职教示范学院 / Demo Vocational College, and
approve three of its courses.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from api.auth import ADMIN, create_token
from api.services import Services
from issuers.models import Issuer, Reviewer
from issuers.standard import AchievementSchema, IssuerApplicationSchema

__all__ = ["DemoSeed", "seed_demo"]

DEMO_ISSUER = {
    "name": {"zh": "智慧职教示范学院", "en": "Demo Vocational College"},
    "legalId": "12100000DEMO00001X",
    "kind": "school",
    "website": "https://demo-college.example.cn",
    "contact": {"name": "Demo Registrar", "email": "registrar@demo-college.example.cn"},
    "slug": "demo-college",
}


def _course(
    zh: str, en: str, credits: str, unit: str, level: int, hours: int, field: str
) -> dict[str, Any]:
    return {
        "name": {"zh": zh, "en": en},
        "description": {
            "zh": f"{zh}微证书课程，面向职业院校学生与在职人员。",
            "en": f"{en}: a micro-credential course for vocational learners.",
        },
        "criteria": {
            "zh": "完成全部实训项目并通过结业考核（60分及以上）。",
            "en": "Complete every practical project and pass the final "
            "assessment (60 or above).",
        },
        "achievementType": "MicroCredential",
        "credits": credits,
        "unit": unit,
        "eqfLevel": level,
        "fieldOfStudy": field,
        "learningHours": hours,
        "alignments": [
            {
                "targetName": en,
                "targetUrl": "https://demo-college.example.cn/courses/"
                + en.lower().replace(" ", "-"),
                "targetFramework": "Demo Vocational College course catalogue",
            }
        ],
        "validityMonths": 36,
    }


DEMO_COURSES = [
    _course(
        "智能仓储管理", "Smart Warehouse Management", "4", "CN_XF", 5, 64, "Logistics"
    ),
    _course("PLC编程", "PLC Programming", "3", "ECTS", 4, 80, "Mechatronics"),
    _course(
        "食品安全管理", "Food Safety Management", "2", "CN_XF", 4, 36, "Food Science"
    ),
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoSeed:
    """What the demo created that a person needs to see once."""

    admin_token: str
    issuer_slug: str
    achievement_ids: list[str]


def seed_demo(services: Services, *, now: datetime) -> DemoSeed | None:
    """Seed the demo into an empty database; return None if it is not empty."""
    registry, catalogue = services.registry, services.catalogue
    application = IssuerApplicationSchema().load(DEMO_ISSUER)
    review_due = (now + timedelta(days=365)).date().isoformat()
    courses = [
        AchievementSchema().load({**course, "nextReviewDate": review_due})
        for course in DEMO_COURSES
    ]
    with services.database.transaction(write=True) as session:
        if session.scalar(select(func.count()).select_from(Issuer)):
            return None
        _, admin_secret = create_token(session, role=ADMIN, subject=None, now=now)
        reviewers = [
            Reviewer(
                id="rv-demo-" + secrets.token_hex(3),
                name=name,
                affiliations=[],
                created_at=now,
            )
            for name in ("Demo Reviewer 1", "Demo Reviewer 2")
        ]
        session.add_all(reviewers)
        session.flush()

        issuer = registry.apply(session, application, now=now)
        for reviewer in reviewers:
            registry.review(
                session,
                issuer.slug,
                reviewer_id=reviewer.id,
                decision="approve",
                comment="Meets the admission standard (demo).",
                now=now,
            )
        ids = []
        for course in courses:
            achievement = catalogue.submit(session, issuer.slug, course, now=now)
            for reviewer in reviewers:
                catalogue.review(
                    session,
                    achievement.id,
                    reviewer_id=reviewer.id,
                    decision="approve",
                    comment=None,
                    now=now,
                )
            ids.append(achievement.id)
    logger.info("seeded demo issuer %s", issuer.slug)
    return DemoSeed(admin_secret, issuer.slug, ids)
