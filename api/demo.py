"""Demo data for `make run`: seeded into an empty database, never twice.

The demo goes through the same registry decisions as real use, so every step is on
the log: two committee members accredit 智慧职教示范学院 / Demo Vocational College, and
approve three of its courses; a learner earns all three; a partner school publishes
the logistics rule set of ../shared/examples/logistics.yaml adapted to those courses,
and one transfer is committed with the learner's consent.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.auth import ADMIN, LEARNER, SCHOOL, create_token
from api.routes.credit_bank import PSEUDONYM_KEY_OWNER
from api.services import Services
from api.statements import statement_signer
from credits.models import School
from credits.schools import publish_rule_set, published_rule_set, register_school
from credits.transfers import commit_transfer, evaluate_for
from issuers.awards import AwardSchema, to_award
from issuers.issuance import Award
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


DEMO_LEARNER = {"email": "li.ming@learner.example.cn", "name": "李明"}
DEMO_SCHOOL_ID = "partner-university"
DEMO_SCHOOL_DID = "did:web:partner-university.example.cn"
DEMO_SCHOOL_NAMES = {
    "zh": "智慧物流职业技术大学",
    "en": "Partner University of Logistics",
}


def logistics_rules(base_url: str, issuer_did: str, achievement_ids: list[str]) -> str:
    """The logistics example rule set, pointed at the demo's own courses.

    LOG-210 is granted for Smart Warehouse Management; the elective block converts
    whatever else the learner brings, 学分 and ECTS alike, into semester credit hours.
    """
    warehouse, plc, food = (f"{base_url}/achievements/{i}" for i in achievement_ids)
    return f"""\
# Adapted from ../shared/examples/logistics.yaml for the demo's courses.
format: credit-rules/v1
id: beng-logistics-demo
school: {DEMO_SCHOOL_DID}
program: {{code: BENG-LOG, name: "BEng Logistics Engineering", total_credits: 120}}
target_unit: SCH
effective: {{from: "2025-01-01", until: "2030-12-31"}}
accepted_issuers: ["{issuer_did}"]
conversion: {{SCH: "1", ECTS: "1/2", CN_XF: "3/4", HOURS: "1/45"}}
rounding: {{mode: floor, step: "0.5"}}
caps: {{max_credits: 15, max_share: "1/4"}}
defaults: {{min_score: 60, max_age_years: 5, min_eqf: 4}}
rules:
  - id: R1
    target: {{course: LOG-210, slot: required}}
    credits: 3
    all_of: [{{achievement: "{warehouse}"}}]
  - id: R5
    target: {{course: LOG-ELEC, slot: elective}}
    convert: true
    max: 6
    partial: true
    any_of:
      - {{achievement: "{plc}"}}
      - {{achievement: "{food}"}}
"""


@dataclass(frozen=True)
class DemoSeed:
    """What the demo created that a person needs to see once."""

    admin_token: str
    issuer_slug: str
    achievement_ids: list[str]
    learner_id: str
    learner_token: str
    school_id: str
    school_token: str
    credential_ids: list[str]


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
        credentials = [
            services.issuance.award(
                session, issuer.slug, _demo_award(achievement_id), now=now
            ).credential
            for achievement_id in ids
        ]
        learner_id = credentials[0].learner_id
        assert learner_id is not None
        _, learner_secret = create_token(
            session, role=LEARNER, subject=learner_id, now=now
        )
        school, school_secret = _partner_school(services, session, ids, now)
        _demo_transfer(services, session, school, learner_id, now)
    logger.info("seeded demo issuer %s", issuer.slug)
    return DemoSeed(
        admin_secret,
        issuer.slug,
        ids,
        learner_id,
        learner_secret,
        school.id,
        school_secret,
        [credential.id for credential in credentials],
    )


def _demo_award(achievement_id: str) -> Award:
    raw = {
        "achievement": achievement_id,
        "learner": dict(DEMO_LEARNER),
        "score": 86,
        "formats": ["eddsa-rdfc-2022", "vc+jwt"],
    }
    return to_award(AwardSchema().load(raw), raw)


def _partner_school(
    services: Services, session: Session, achievement_ids: list[str], now: datetime
) -> tuple[School, str]:
    school = register_school(
        session,
        services.log,
        school_id=DEMO_SCHOOL_ID,
        did=DEMO_SCHOOL_DID,
        names=DEMO_SCHOOL_NAMES,
        now=now,
    )
    _, secret = create_token(session, role=SCHOOL, subject=school.id, now=now)
    source = logistics_rules(
        services.config.base_url,
        services.registry.did(str(DEMO_ISSUER["slug"])),
        achievement_ids,
    )
    publish_rule_set(session, services.log, school, source, now=now)
    return school, secret


def _demo_transfer(
    services: Services, session: Session, school: School, learner_id: str, now: datetime
) -> None:
    published = published_rule_set(session, school.id, "beng-logistics-demo")
    evaluated = evaluate_for(
        session, services.bank, school, published, learner_id, now.date()
    )
    commit_transfer(
        session,
        services.log,
        evaluated,
        statement_signer(services, session, now=now),
        services.keystore.data_key(session, PSEUDONYM_KEY_OWNER, now=now),
        expected_digest=None,
        now=now,
    )
