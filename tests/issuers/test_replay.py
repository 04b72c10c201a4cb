"""Replaying the log against the registry's tables finds any row changed behind it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.services import Services
from issuers.models import Achievement, Issuer, IssuerEvent, Review
from issuers.replay import replay_registry
from issuers.standard import AchievementSchema, IssuerApplicationSchema
from keys import P256, StoredKey
from ledger.audit import Discrepancy
from tests.conftest import NOW, Caller, achievement_definition, application


@dataclass(frozen=True)
class History:
    """What the lifecycle below left in the tables."""

    accredited: str
    suspended: str
    retired_achievement: str
    approved_achievement: str
    retired_key: str
    compromised_key: str
    reviewer: str


def _apply(
    services: Services, session: Session, n: int, *, without: str = "", **kw: Any
) -> str:
    raw = application(n, **kw)
    raw.pop(without, None)
    body = IssuerApplicationSchema().load(raw)
    return services.registry.apply(session, body, now=NOW).slug


def _accredit(
    services: Services, session: Session, slug: str, reviewers: list[Caller]
) -> None:
    for reviewer in reviewers[:2]:
        assert reviewer.subject is not None
        services.registry.review(
            session,
            slug,
            reviewer_id=reviewer.subject,
            decision="approve",
            comment=None,
            now=NOW,
        )


def _approved(
    services: Services, session: Session, slug: str, reviewers: list[Caller]
) -> str:
    body = AchievementSchema().load(achievement_definition())
    achievement = services.catalogue.submit(session, slug, body, now=NOW)
    for reviewer in reviewers[:2]:
        assert reviewer.subject is not None
        services.catalogue.review(
            session,
            achievement.id,
            reviewer_id=reviewer.subject,
            decision="approve",
            comment=None,
            now=NOW,
        )
    return achievement.id


@pytest.fixture
def history(services: Services, reviewers: list[Caller]) -> History:
    """Every kind of registry entry, written through the domain functions."""
    registry, catalogue = services.registry, services.catalogue
    with services.database.transaction(write=True) as session:
        first = _apply(services, session, 1)
        _accredit(services, session, first, reviewers)
        retired = _approved(services, session, first, reviewers)
        catalogue.retire(session, retired, reason="superseded", now=NOW)
        approved = _approved(services, session, first, reviewers)
        (old_key,) = registry.keys(session, first)
        old_key_id = old_key.id
        registry.add_key(session, first, algorithm="Ed25519", now=NOW)
        p256 = registry.add_key(session, first, algorithm=P256, now=NOW)
        registry.report_compromise(session, first, p256.id, now=NOW)

        # An issuer without website or Chinese name, suspended, reinstated, suspended.
        second = _apply(
            services, session, 2, without="website", name={"en": "Second Centre"}
        )
        _accredit(services, session, second, reviewers)
        registry.suspend(session, second, reason="audit", now=NOW)
        registry.reinstate(session, second, reason="audit passed", now=NOW)
        registry.suspend(session, second, reason="second audit", now=NOW)

        rejected = _apply(services, session, 3)
        assert reviewers[2].subject is not None
        registry.review(
            session,
            rejected,
            reviewer_id=reviewers[2].subject,
            decision="reject",
            comment=None,
            now=NOW,
        )
        return History(
            first,
            second,
            retired,
            approved,
            old_key_id,
            p256.id,
            reviewers[0].subject or "",
        )


def test_the_tables_match_the_log_after_a_lifecycle(
    services: Services, history: History
) -> None:
    with services.database.transaction() as session:
        assert replay_registry(session) is None


def test_an_empty_registry_matches(services: Services) -> None:
    with services.database.transaction() as session:
        assert replay_registry(session) is None


Tamper = Callable[[Session, History], None]


def _issuer(session: Session, slug: str) -> Issuer:
    found = session.get(Issuer, slug)
    assert found is not None
    return found


def _achievement(session: Session, achievement_id: str) -> Achievement:
    found = session.get(Achievement, achievement_id)
    assert found is not None
    return found


def _key(session: Session, key_id: str) -> StoredKey:
    found = session.get(StoredKey, key_id)
    assert found is not None
    return found


def reinstate_quietly(session: Session, h: History) -> None:
    _issuer(session, h.suspended).status = "accredited"


def rename_issuer(session: Session, h: History) -> None:
    _issuer(session, h.accredited).name_en = "Renamed Centre"


def raise_credits(session: Session, h: History) -> None:
    row = _achievement(session, h.approved_achievement)
    row.definition = {**row.definition, "credits": "30"}


def unretire(session: Session, h: History) -> None:
    row = _achievement(session, h.retired_achievement)
    row.status = "approved"


def change_retire_reason(session: Session, h: History) -> None:
    _achievement(session, h.retired_achievement).retire_reason = "never mind"


def delete_review(session: Session, h: History) -> None:
    session.execute(
        delete(Review).where(
            Review.subject_kind == "issuer",
            Review.subject_id == h.accredited,
            Review.reviewer_id == h.reviewer,
        )
    )


def flip_review(session: Session, h: History) -> None:
    vote = session.scalars(
        select(Review).where(
            Review.subject_kind == "achievement",
            Review.subject_id == h.approved_achievement,
            Review.reviewer_id == h.reviewer,
        )
    ).one()
    vote.decision = "reject"


def revive_retired_key(session: Session, h: History) -> None:
    _key(session, h.retired_key).state = "active"


def clear_compromise(session: Session, h: History) -> None:
    _key(session, h.compromised_key).state = "retired"


def insert_issuer(session: Session, h: History) -> None:
    row = _issuer(session, h.accredited)
    session.add(
        Issuer(
            slug="rogue",
            name_en="Rogue",
            legal_id="ROGUE1",
            kind=row.kind,
            contact={"email": "rogue@example.com"},
            status="accredited",
            applied_at=NOW,
        )
    )


def drop_history(session: Session, h: History) -> None:
    session.execute(
        delete(IssuerEvent).where(
            IssuerEvent.issuer_slug == h.suspended, IssuerEvent.status == "suspended"
        )
    )


TAMPERING: list[tuple[Tamper, str, str]] = [
    (
        reinstate_quietly,
        "issuer centre-2",
        "status is 'accredited' in the table, 'suspended' in the log",
    ),
    (rename_issuer, "issuer centre-1", "name_en is 'Renamed Centre' in the table"),
    (raise_credits, "achievement {approved_achievement}", "definition is"),
    (
        unretire,
        "achievement {retired_achievement}",
        "status is 'approved' in the table, 'retired' in the log",
    ),
    (
        change_retire_reason,
        "achievement {retired_achievement}",
        "retire_reason is 'never mind' in the table, 'superseded' in the log",
    ),
    (
        delete_review,
        "review of issuer centre-1 by {reviewer}",
        "logged at entry",
    ),
    (
        flip_review,
        "review of achievement {approved_achievement} by {reviewer}",
        "decision is 'reject' in the table, 'approve' in the log",
    ),
    (
        revive_retired_key,
        "key {retired_key}",
        "state is 'active' in the table, 'retired' in the log",
    ),
    (
        clear_compromise,
        "key {compromised_key}",
        "state is 'retired' in the table, 'compromised' in the log",
    ),
    (insert_issuer, "issuer rogue", "row has no log entry"),
    (
        drop_history,
        "status history of issuer centre-2",
        "differs from the issuer.* entries",
    ),
]


@pytest.mark.parametrize(
    ("tamper", "where", "message"),
    TAMPERING,
    ids=[tamper.__name__ for tamper, _, _ in TAMPERING],
)
def test_a_row_changed_behind_the_log_is_named(
    services: Services, history: History, tamper: Tamper, where: str, message: str
) -> None:
    with services.database.transaction(write=True) as session:
        tamper(session, history)

    with services.database.transaction() as session:
        found = replay_registry(session)

    assert isinstance(found, Discrepancy)
    assert found.where == where.format(**vars(history))
    assert message in found.message
